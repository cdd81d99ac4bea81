"""The mapping between stored and domain cases, and when each case is next due."""

from __future__ import annotations

from datetime import datetime

from review_watch.config import Config
from review_watch.domain import cases as domain
from review_watch.domain.business_time import BusinessCalendar
from review_watch.storage.orm import Case, Staff


def to_domain(row: Case) -> domain.Case:
    return domain.Case(
        status=domain.CaseStatus(row.status), arrived_at=row.arrived_at, deadline=row.deadline_at,
        remind_at=row.remind_at, assignee=row.assignee.name if row.assignee else None,
        answered_at=row.answered_at, waiting_since=row.waiting_since, snoozed_until=row.snoozed_until,
        resume_status=domain.CaseStatus(row.resume_status) if row.resume_status else None,
        reminded=row.reminded_at is not None, escalation_level=row.escalation_level)


def staff_calendar(config: Config, member: Staff | None) -> BusinessCalendar | None:
    if member is None or member.calendar is None:
        return None
    return config.calendar(member.calendar)


def reschedule(config: Config, row: Case, now: datetime) -> None:
    due = domain.case_due_actions(to_domain(row), config.response_policy, now,
                                  staff_calendar(config, row.assignee))
    snooze_end = row.snoozed_until if row.status == domain.CaseStatus.SNOOZED else None
    candidates = [t for t in (due.next_due_at, snooze_end) if t]
    row.next_due_at = now if (due.remind or due.escalate) else min(candidates, default=None)
