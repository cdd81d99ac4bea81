"""Read models: what a person is shown about a case, independent of how it is rendered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from review_watch.config import Config
from review_watch.domain.business_time import business_seconds_between
from review_watch.domain.customer_history import HistoryEntry
from review_watch.domain.permissions import Member
from review_watch.domain.priority import Priority
from review_watch.domain.replies import VISIBLE_STATES
from review_watch.storage.orm import ReplyRow, Staff
from review_watch.storage.unit_of_work import AbstractUnitOfWork

SHOWN_REPLY_STATES = VISIBLE_STATES | {"posting", "awaiting_approval", "refused", "deleted", "sent_outside"}


@dataclass(frozen=True)
class StaffView:
    """A staff member as a front end needs them: who they are, how to address them, where to write."""

    staff_id: int
    name: str
    role: str
    locale: str
    calendar: str | None  # None: the default calendar
    telegram_id: int
    chat_id: int | None

    @property
    def member(self) -> Member:
        """As domain/permissions sees them."""
        return Member(self.name, self.role)


def staff_view(row: Staff) -> StaffView:
    return StaffView(staff_id=row.id, name=row.name, role=row.role, locale=row.locale, calendar=row.calendar,
                     telegram_id=row.telegram_id, chat_id=row.chat_id)


@dataclass(frozen=True)
class CaseView:
    case_id: int
    brand: str | None
    source: str
    source_type: str
    url: str | None
    author: str | None
    rating: float | None
    rating_max: float | None
    language: str | None
    title: str | None
    text: str
    sentiment: str | None
    sentiment_score: float | None
    churn_intent: bool
    competitor: str | None
    threat: bool
    staff_abuse: bool
    status: str
    assignee: str | None
    deadline_at: datetime
    business_seconds_left: float  # negative: overdue by that much wall-clock time
    routing_note: str | None
    reply_state: str | None = None  # its reply on the platform (services/replies): posting, posted ...
    reply_id: int | None = None
    history: tuple[HistoryEntry, ...] = ()  # the author's earlier mentions of the brand (/case)
    priority: Priority | None = None  # why it stands where it does in /queue


def seconds_left(config: Config, deadline_at: datetime, now: datetime) -> float:
    if now >= deadline_at:
        return -(now - deadline_at).total_seconds()
    return business_seconds_between(config.calendar(), now, deadline_at)


def case_view(uow: AbstractUnitOfWork, config: Config, case_id: int, now: datetime) -> CaseView | None:
    case = uow.repo.case_in_full(case_id)
    if case is None:
        return None
    mention, sentiment = case.mention, case.mention.sentiment
    shown = shown_reply(case.replies)
    return CaseView(
        case_id=case.id, brand=case.brand, source=mention.source.name, source_type=mention.source.type,
        url=mention.url, author=mention.author.display_name if mention.author else None,
        rating=mention.rating, rating_max=mention.rating_max,
        language=(sentiment.language if sentiment and sentiment.language else mention.language),
        title=mention.title, text=mention.text,
        sentiment=sentiment.label if sentiment else None,
        sentiment_score=sentiment.score if sentiment else None,
        churn_intent=bool(sentiment and sentiment.churn_intent),
        competitor=sentiment.competitor if sentiment else None,
        threat=bool(sentiment and sentiment.threat), staff_abuse=bool(sentiment and sentiment.staff_abuse),
        status=case.status, assignee=case.assignee.name if case.assignee else None,
        deadline_at=case.deadline_at, business_seconds_left=seconds_left(config, case.deadline_at, now),
        routing_note=case.routing_note, reply_state=shown.state if shown else None,
        reply_id=shown.id if shown else None,
    )


def shown_reply(replies: list[ReplyRow]) -> ReplyRow | None:
    """The reply a case shows: the last one sent or on its way, or refused (its draft kept)."""
    shown = [reply for reply in replies if reply.state in SHOWN_REPLY_STATES]
    return shown[-1] if shown else None
