"""A customer's history on a brand: the author's earlier mentions and how each was handled.

Who is the same author is decided by domain/customer_history: the platform's author id across the platform's
sources, else the display name within one source. In storage an author is one row per platform and key (the id,
or the name when there is none); a row keyed by name is matched within the mention's own source only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from review_watch.domain.cases import CLOSED_STATUSES
from review_watch.domain.customer_history import HistoryEntry, handling
from review_watch.storage.orm import Author, Case, Mention, Source, Staff
from review_watch.storage.unit_of_work import UnitOfWork

HISTORY_LIMIT = 20


def _entries(rows: Iterable[Row[Any]], now: datetime) -> list[HistoryEntry]:
    return [HistoryEntry(
        mention_id=row.id, source=row.source, at=row.published_at or row.arrived_at, rating=row.rating,
        text=row.text, case_status=row.status, handled_by=row.handled_by, answered_at=row.answered_at,
        handling=handling(row.deadline_at, row.answered_at, row.status in CLOSED_STATUSES, now)) for row in rows]


def author_history(uow: UnitOfWork, mention_id: int, now: datetime, limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
    """The author's earlier mentions of the same brand, newest first."""
    mention = uow.session.get(Mention, mention_id)
    if mention is None or mention.author_id is None:
        return []
    author = uow.session.get_one(Author, mention.author_id)
    query = (select(Mention.id, Source.name.label("source"), Mention.published_at, Mention.arrived_at, Mention.rating,
                    Mention.text, Case.status, Staff.name.label("handled_by"), Case.deadline_at, Case.answered_at)
             .join(Source, Source.id == Mention.source_id)
             .outerjoin(Case, Case.id == Mention.id).outerjoin(Staff, Staff.id == Case.assignee_id)
             .where(Mention.author_id == author.id, Mention.id != mention.id, Mention.arrived_at <= mention.arrived_at,
                    Mention.brand_id.is_(None) if mention.brand_id is None else Mention.brand_id == mention.brand_id)
             .order_by(Mention.arrived_at.desc(), Mention.id.desc()).limit(limit))
    if author.by_name:
        query = query.where(Mention.source_id == mention.source_id)
    return _entries(uow.session.execute(query), now)


def export_histories(uow: UnitOfWork, batch: list[Mention], now: datetime) -> dict[int, list[dict[str, Any]]]:
    """For `review-watch export --with-history`: each mention's earlier mentions by its author on the brand, newest
    first (id, source, date, who handled it, when answered, how), in a few queries per batch."""
    authors = {m.author_id for m in batch if m.author_id is not None}
    if not authors:
        return {}
    by_name = set(uow.session.scalars(select(Author.id).where(Author.id.in_(list(authors)), Author.by_name)))
    earlier: dict[tuple[int | None, int | None], list[Any]] = {}
    for row in uow.session.execute(
            select(Mention.id, Mention.author_id, Mention.brand_id, Mention.source_id, Source.name.label("source"),
                   Mention.published_at, Mention.arrived_at, Case.status, Staff.name.label("handled_by"),
                   Case.deadline_at, Case.answered_at)
            .join(Source, Source.id == Mention.source_id).outerjoin(Case, Case.id == Mention.id)
            .outerjoin(Staff, Staff.id == Case.assignee_id).where(Mention.author_id.in_(list(authors)))
            .order_by(Mention.arrived_at.desc(), Mention.id.desc())):
        earlier.setdefault((row.author_id, row.brand_id), []).append(row)
    histories = {}
    for mention in batch:
        if mention.author_id is None:
            continue
        histories[mention.id] = [
            {"id": row.id, "source": row.source, "at": _iso(row.published_at or row.arrived_at),
             "handled_by": row.handled_by, "answered_at": _iso(row.answered_at),
             "handling": handling(row.deadline_at, row.answered_at, row.status in CLOSED_STATUSES, now).value}
            for row in earlier.get((mention.author_id, mention.brand_id), [])
            if row.id != mention.id and row.arrived_at <= mention.arrived_at
            and (mention.author_id not in by_name or row.source_id == mention.source_id)][:HISTORY_LIMIT]
    return histories


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
