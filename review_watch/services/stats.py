"""Numbers for leads and for the metrics endpoint."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from review_watch.config import Config
from review_watch.services.views import CaseView, case_view
from review_watch.storage.unit_of_work import AbstractUnitOfWork


@dataclass(frozen=True)
class TeamStats:
    open_cases: int
    overdue: int
    answered_this_week: int
    answered_in_time_this_week: int
    median_first_reply_hours: float | None
    open_by_assignee: dict[str, int]
    overdue_by_assignee: dict[str, int]


def team_stats(uow: AbstractUnitOfWork, now: datetime) -> TeamStats:
    open_cases = uow.repo.cases_open()
    overdue = [case for case in open_cases if case.deadline_at < now]
    answered = [(case.arrived_at, case.answered_at, case.deadline_at)
                for case in uow.repo.cases_answered_since(now - timedelta(days=7)) if case.answered_at is not None]
    reply_hours = [(answered_at - arrived).total_seconds() / 3600 for arrived, answered_at, _ in answered]
    return TeamStats(
        open_cases=len(open_cases), overdue=len(overdue),
        answered_this_week=len(answered),
        answered_in_time_this_week=sum(1 for _, answered_at, due in answered if answered_at <= due),
        median_first_reply_hours=statistics.median(reply_hours) if reply_hours else None,
        open_by_assignee=dict(Counter(case.assignee.name for case in open_cases if case.assignee)),
        overdue_by_assignee=dict(Counter(case.assignee.name for case in overdue if case.assignee)))


def my_queue(uow: AbstractUnitOfWork, config: Config, staff_id: int, now: datetime, limit: int = 20
             ) -> list[CaseView]:
    """The person's open cases, soonest deadline first."""
    cases = sorted(uow.repo.open_cases_assigned_to(staff_id), key=lambda case: (case.deadline_at, case.id))
    return [view for case in cases[:limit] if (view := case_view(uow, config, case.id, now)) is not None]


def outbox_counts(uow: AbstractUnitOfWork) -> dict[str, int]:
    return uow.repo.outbox_status_counts()
