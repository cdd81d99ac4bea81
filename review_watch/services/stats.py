"""Numbers for leads and for the metrics endpoint."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from review_watch.config import Config
from review_watch.domain.cases import OPEN_STATUSES
from review_watch.services.views import CaseView, case_view
from review_watch.storage.orm import Case, OutboxMessage, Staff
from review_watch.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class TeamStats:
    open_cases: int
    overdue: int
    answered_this_week: int
    answered_in_time_this_week: int
    median_first_reply_hours: float | None
    open_by_assignee: dict[str, int]
    overdue_by_assignee: dict[str, int]


def _counts(rows: Iterable[Any]) -> dict[str, int]:
    return {key: count for key, count in rows}


def team_stats(uow: UnitOfWork, now: datetime) -> TeamStats:
    session = uow.session
    open_filter = Case.status.in_(OPEN_STATUSES)
    week_start = now - timedelta(days=7)
    answered = list(session.execute(select(Case.arrived_at, Case.answered_at, Case.deadline_at)
                                    .where(Case.answered_at.is_not(None), Case.answered_at >= week_start)))
    by_assignee = _counts(session.execute(
        select(Staff.name, func.count(Case.id)).join(Case, Case.assignee_id == Staff.id).where(open_filter)
        .group_by(Staff.name)))
    overdue_by = _counts(session.execute(
        select(Staff.name, func.count(Case.id)).join(Case, Case.assignee_id == Staff.id)
        .where(open_filter, Case.deadline_at < now).group_by(Staff.name)))
    answered_pairs = [(arrived, answered_at, due) for arrived, answered_at, due in answered if answered_at]
    reply_hours = [(answered_at - arrived).total_seconds() / 3600 for arrived, answered_at, _ in answered_pairs]
    return TeamStats(
        open_cases=session.scalar(select(func.count(Case.id)).where(open_filter)) or 0,
        overdue=session.scalar(select(func.count(Case.id)).where(open_filter, Case.deadline_at < now)) or 0,
        answered_this_week=len(answered_pairs),
        answered_in_time_this_week=sum(1 for _, answered_at, due in answered_pairs if answered_at <= due),
        median_first_reply_hours=statistics.median(reply_hours) if reply_hours else None,
        open_by_assignee=by_assignee, overdue_by_assignee=overdue_by)


def my_queue(uow: UnitOfWork, config: Config, staff_id: int, now: datetime, limit: int = 20) -> list[CaseView]:
    """The person's open cases, soonest deadline first."""
    ids = uow.session.scalars(select(Case.id).where(Case.assignee_id == staff_id, Case.status.in_(OPEN_STATUSES))
                              .order_by(Case.deadline_at, Case.id).limit(limit))
    return [view for case_id in list(ids) if (view := case_view(uow, config, case_id, now)) is not None]


def outbox_counts(uow: UnitOfWork) -> dict[str, int]:
    return _counts(uow.session.execute(select(OutboxMessage.status, func.count(OutboxMessage.id))
                                       .group_by(OutboxMessage.status)))
