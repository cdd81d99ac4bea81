"""The signals behind each case's priority (domain/priority), read from the database in a few queries."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select

from review_watch.domain.priority import CaseSignals, Priority, priority
from review_watch.storage.orm import Case, Incident, Mention, SentimentResult
from review_watch.storage.unit_of_work import UnitOfWork


def open_incident_cases(uow: UnitOfWork, case_ids: Collection[int]) -> frozenset[int]:
    """Which of the cases belong to an incident that is still open (crisis detection's link)."""
    return frozenset(uow.session.scalars(
        select(Case.id).join(Incident, Incident.id == Case.incident_id)
        .where(Case.id.in_(list(case_ids)), Incident.status == "open")))


def case_priorities(uow: UnitOfWork, case_ids: Collection[int]) -> dict[int, Priority]:
    """Each case's priority: its flags, its author's earlier complaints and first mention on the same brand,
    and whether it is part of an open incident."""
    if not case_ids:
        return {}
    ids = list(case_ids)
    rows = list(uow.session.execute(
        select(Case.id, Case.arrived_at, Case.brand, Mention.author_id, Mention.brand_id,
               SentimentResult.churn_intent, SentimentResult.competitor)
        .join(Mention, Mention.id == Case.id)
        .outerjoin(SentimentResult, SentimentResult.mention_id == Case.id)
        .where(Case.id.in_(ids))))
    authors = {row.author_id for row in rows if row.author_id is not None}
    first_seen: dict[tuple[int | None, int | None], datetime] = {}
    author_cases: dict[tuple[int | None, int | None], list[datetime]] = {}
    if authors:
        author_ids = list(authors)
        for author_id, brand_id, earliest in uow.session.execute(
                select(Mention.author_id, Mention.brand_id,
                       func.min(func.coalesce(Mention.published_at, Mention.arrived_at)))
                .where(Mention.author_id.in_(author_ids)).group_by(Mention.author_id, Mention.brand_id)):
            first_seen[(author_id, brand_id)] = earliest
        for author_id, brand_id, arrived in uow.session.execute(
                select(Mention.author_id, Mention.brand_id, Case.arrived_at).join(Case, Case.id == Mention.id)
                .where(Mention.author_id.in_(author_ids))):
            author_cases.setdefault((author_id, brand_id), []).append(arrived)
    in_incident = open_incident_cases(uow, ids)
    priorities = {}
    for row in rows:
        key = (row.author_id, row.brand_id)
        earlier = sum(1 for arrived in author_cases.get(key, []) if arrived < row.arrived_at)
        signals = CaseSignals(arrived_at=row.arrived_at, in_open_incident=row.id in in_incident,
                              churn_intent=bool(row.churn_intent), competitor=row.competitor,
                              earlier_complaints=earlier, first_seen_at=first_seen.get(key))
        priorities[row.id] = priority(signals)
    return priorities
