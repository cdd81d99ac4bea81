"""Every stored mention with its judgement and case, in the contract's export fields."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from review_watch.domain.cases import ReplyChannel
from review_watch.domain.replies import VISIBLE_STATES
from review_watch.services.views import shown_reply
from review_watch.storage.orm import Case, Mention, ReplyRow
from review_watch.storage.unit_of_work import AbstractUnitOfWork

EXPORT_FIELDS = (
    "id", "source", "source_type", "external_id", "url", "author", "published_at", "rating", "rating_max",
    "title", "text", "language", "brand", "sentiment", "sentiment_score", "negative", "unsure", "status",
    "assignee", "deadline", "reply_state", "reply_channel",
)

# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """The cell as a spreadsheet shows text: a leading `'` where it would start a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(rows: Iterable[dict[str, Any]], sink: IO[str], with_history: bool = False) -> None:
    """The one CSV writer of the product: a header, then the rows with every text cell made safe. The history,
    when asked for, is one cell: `ID HANDLING by WHO` per earlier mention, separated by `; `."""
    # RFC 4180's CRLF: the csv module quotes only the line ending's characters, so a lone \r is quoted too
    writer = csv.DictWriter(sink, fieldnames=EXPORT_FIELDS + (("history",) if with_history else ()),
                            lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        if with_history:
            row = {**row, "history": "; ".join(
                f"{h['id']} {h['handling']}" + (f" by {h['handled_by']}" if h["handled_by"] else "")
                for h in row["history"])}
        writer.writerow({key: spreadsheet_safe(value) for key, value in row.items()})


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


HistoryOf = Callable[[list[Mention]], dict[int, list[dict[str, Any]]]]
"""For a batch of mentions, each one's history rows (services/history.export_histories)."""


def export_rows(uow: AbstractUnitOfWork, since: datetime | None = None, batch_size: int = 1000,
                history_of: HistoryOf | None = None) -> Iterator[dict[str, Any]]:
    """Every mention (arrived since `since`), by id; with `history_of`, each row's `history` too."""
    last_id = 0
    while True:
        batch = uow.repo.mentions_after(last_id, since, batch_size)
        if not batch:
            return
        histories = history_of(batch) if history_of is not None else {}
        for mention in batch:
            row = _row(mention)
            if history_of is not None:
                row["history"] = histories.get(mention.id, [])
            yield row
        last_id = batch[-1].id


def _row(mention: Mention) -> dict[str, Any]:
    sentiment, case = mention.sentiment, mention.case
    reply = shown_reply(case.replies) if case else None
    return {
        "id": mention.id,
        "source": mention.source.name,
        "source_type": mention.source.type,
        "external_id": mention.external_id,
        "url": mention.url,
        "author": mention.author.display_name if mention.author else None,
        "published_at": _iso(mention.published_at),
        "rating": mention.rating,
        "rating_max": mention.rating_max,
        "title": mention.title,
        "text": mention.text,
        "language": (sentiment.language if sentiment and sentiment.language else mention.language),
        "brand": mention.brand.name if mention.brand else None,
        "sentiment": sentiment.label if sentiment else None,
        "sentiment_score": round(sentiment.score, 4) if sentiment else None,
        "negative": sentiment.negative if sentiment else None,
        "unsure": sentiment.unsure if sentiment else None,
        "status": case.status if case else "none",
        "assignee": case.assignee.name if case and case.assignee else None,
        "deadline": _iso(case.deadline_at) if case else None,
        "reply_state": reply.state if reply else None,
        "reply_channel": _reply_channel(case, reply),
    }


def _reply_channel(case: Case | None, reply: ReplyRow | None) -> str | None:
    """Where the case's answer is: visible to the customer on the platform, or sent outside Review Watch; none
    once its reply was deleted from the platform."""
    if reply is not None and reply.state in VISIBLE_STATES:
        return ReplyChannel.VISIBLE_TO_CUSTOMER.value
    if reply is not None and reply.state == "deleted":
        return None
    if case is not None and case.answered_at is not None:
        return ReplyChannel.SENT_OUTSIDE.value
    return None
