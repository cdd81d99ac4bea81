"""The mapping between stored and domain cases, and when each case is next due."""

from __future__ import annotations

from datetime import datetime

from review_watch.config import Config
from review_watch.domain import cases as domain
from review_watch.domain.business_time import BusinessCalendar
from review_watch.storage.orm import Case, CaseEvent, Staff
from review_watch.storage.unit_of_work import AbstractUnitOfWork


def to_domain(row: Case) -> domain.Case:
    return domain.Case(
        status=domain.CaseStatus(row.status), arrived_at=row.arrived_at, deadline=row.deadline_at,
        remind_at=row.remind_at, assignee=row.assignee.name if row.assignee else None,
        answered_at=row.answered_at, waiting_since=row.waiting_since, snoozed_until=row.snoozed_until,
        resume_status=domain.CaseStatus(row.resume_status) if row.resume_status else None,
        reminded=row.reminded_at is not None, escalation_level=row.escalation_level)


def store_transition(uow: AbstractUnitOfWork, row: Case, case: domain.Case, event: domain.CaseEvent,
                     details: dict[str, object] | None = None) -> None:
    """Write a life-cycle transition (domain/cases) to the stored case, and its event to the audit trail."""
    row.status = case.status.value
    row.deadline_at, row.remind_at = case.deadline, case.remind_at
    row.answered_at, row.waiting_since = case.answered_at, case.waiting_since
    row.snoozed_until = case.snoozed_until
    row.resume_status = case.resume_status.value if case.resume_status else None
    row.escalation_level = case.escalation_level
    if case.reminded and row.reminded_at is None:
        row.reminded_at = event.at
    if case.assignee != (row.assignee.name if row.assignee else None):
        row.assignee_id = uow.repo.staff_ids_by_name([case.assignee]).get(case.assignee) if case.assignee else None
    uow.repo.add(CaseEvent(mention_id=row.id, kind=event.kind, actor=event.actor, at=event.at,
                           details={**event.details, **(details or {}),
                                    "from": event.status_from.value if event.status_from else None,
                                    "to": event.status_to.value if event.status_to else None}))


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
