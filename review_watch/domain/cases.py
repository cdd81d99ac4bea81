"""The life cycle of a case, and when its reminder and escalations fall due.

A case is new -> assigned -> claimed -> replied -> resolved, with the side states waiting (on a third
party: the deadline moves to `waiting_business_days` from then), snoozed (until a time), not_actionable
(a false alarm) and escalated. Only a reply, visible to the customer or recorded as sent outside the tool,
stops the response clock; a case is resolved only once it has one. Every action gives an event for the
audit trail.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from review_watch.domain.business_time import BusinessCalendar, deadline, next_opening


class CaseStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    CLAIMED = "claimed"
    REPLIED = "replied"
    RESOLVED = "resolved"
    WAITING = "waiting"
    SNOOZED = "snoozed"
    NOT_ACTIONABLE = "not_actionable"
    ESCALATED = "escalated"


CLOSED_STATUSES = frozenset({CaseStatus.RESOLVED, CaseStatus.NOT_ACTIONABLE})
# Open: still waiting for its reply, so it counts as someone's load and its reminders and escalations stand.
OPEN_STATUSES = frozenset(CaseStatus) - CLOSED_STATUSES - {CaseStatus.REPLIED}
CLAIMABLE_STATUSES = frozenset({CaseStatus.NEW, CaseStatus.ASSIGNED, CaseStatus.ESCALATED})


class ReplyChannel(StrEnum):
    VISIBLE_TO_CUSTOMER = "visible_to_customer"
    SENT_OUTSIDE = "sent_outside"


class IllegalTransition(ValueError):
    """The action is not allowed in the case's current state."""


@dataclass(frozen=True)
class EscalationLevel:
    delay_seconds: float = 0.0
    """Business time after the deadline at which this level falls due."""
    leads: tuple[str, ...] = ()
    """Staff names to tell; empty means the leads of the case's brand."""


@dataclass(frozen=True)
class ResponsePolicy:
    calendar: BusinessCalendar
    response_seconds: float
    business_day_hours: float
    remind_fraction: float = 0.75
    waiting_business_days: float = 3.0
    levels: tuple[EscalationLevel, ...] = (EscalationLevel(),)
    """Level 1 is levels[0]; delays must not decrease."""

    def __post_init__(self) -> None:
        if not self.response_seconds > 0:
            raise ValueError(f"the response time must be greater than zero, not {self.response_seconds}")
        if not self.business_day_hours > 0:
            raise ValueError(f"business_day_hours must be greater than zero, not {self.business_day_hours}")
        if not 0 <= self.remind_fraction <= 1:
            raise ValueError(f"remind_at must be a fraction from 0 to 1, not {self.remind_fraction}")
        if not self.waiting_business_days > 0:
            raise ValueError(f"the waiting time must be greater than zero, not {self.waiting_business_days}")
        delays = [level.delay_seconds for level in self.levels]
        if any(d < 0 for d in delays) or delays != sorted(delays):
            raise ValueError(f"escalation delays must be zero or more and must not decrease: {delays}")


@dataclass(frozen=True)
class Case:
    status: CaseStatus
    arrived_at: datetime
    deadline: datetime
    remind_at: datetime
    assignee: str | None = None
    answered_at: datetime | None = None
    waiting_since: datetime | None = None
    snoozed_until: datetime | None = None
    resume_status: CaseStatus | None = None
    """The status a snoozed case returns to when it wakes."""
    reminded: bool = False
    escalation_level: int = 0
    """The highest escalation level sent; 0 for none."""

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


def _clock_deadlines(policy: ResponsePolicy, start: datetime, business_seconds: float
                     ) -> tuple[datetime, datetime]:
    """The deadline and the reminder instant of a clock that starts at `start`."""
    return (deadline(policy.calendar, start, business_seconds),
            deadline(policy.calendar, start, business_seconds * policy.remind_fraction))


def open_case(policy: ResponsePolicy, arrived_at: datetime) -> Case:
    due, remind_at = _clock_deadlines(policy, arrived_at, policy.response_seconds)
    return Case(CaseStatus.NEW, arrived_at, due, remind_at)


@dataclass(frozen=True)
class Assign:
    assignee: str


@dataclass(frozen=True)
class Reassign:
    assignee: str
    reason: str = ""


@dataclass(frozen=True)
class Claim:
    pass


@dataclass(frozen=True)
class Reply:
    channel: ReplyChannel


@dataclass(frozen=True)
class Resolve:
    pass


@dataclass(frozen=True)
class Wait:
    pass


@dataclass(frozen=True)
class Snooze:
    until: datetime


@dataclass(frozen=True)
class Wake:
    pass


@dataclass(frozen=True)
class NotActionable:
    pass


@dataclass(frozen=True)
class Escalate:
    level: int


@dataclass(frozen=True)
class Remind:
    pass


Action = (Assign | Reassign | Claim | Reply | Resolve | Wait | Snooze | Wake | NotActionable | Escalate
          | Remind)


@dataclass(frozen=True)
class CaseEvent:
    kind: str
    actor: str
    at: datetime
    details: Mapping[str, str] = field(default_factory=dict)
    status_from: CaseStatus | None = None
    status_to: CaseStatus | None = None


@dataclass(frozen=True)
class Transition:
    case: Case
    event: CaseEvent


def _refuse(case: Case, what: str, why: str) -> IllegalTransition:
    return IllegalTransition(f"cannot {what} a {case.status.value} case: {why}")


def _require_open(case: Case, what: str) -> None:
    if case.status in CLOSED_STATUSES:
        raise _refuse(case, what, "it is closed")


def _require_unanswered(case: Case, what: str) -> None:
    _require_open(case, what)
    if case.answered_at is not None:
        raise _refuse(case, what, f"it was answered at {case.answered_at.isoformat()}")


def _require_assigned(case: Case, what: str) -> None:
    if case.status == CaseStatus.NEW:
        raise _refuse(case, what, "assign it first")


def _unsnoozed(case: Case) -> Case:
    return replace(case, snoozed_until=None, resume_status=None)


def _next(case: Case, action: Action, actor: str, at: datetime, policy: ResponsePolicy
          ) -> tuple[Case, str, dict[str, str]]:
    """The case after the action, the event kind and its details."""
    match action:
        case Assign(assignee):
            _require_open(case, "assign")
            if case.status != CaseStatus.NEW:
                raise _refuse(case, "assign", f"it is assigned to {case.assignee}; reassign it instead")
            return replace(case, status=CaseStatus.ASSIGNED, assignee=assignee), "assigned", {
                "assignee": assignee}
        case Reassign(assignee, reason):
            _require_open(case, "reassign")
            _require_assigned(case, "reassign")
            if assignee == case.assignee:
                raise _refuse(case, "reassign", f"it is already assigned to {assignee}")
            status = CaseStatus.ASSIGNED if case.status == CaseStatus.CLAIMED else case.status
            details = {"assignee": assignee, "previous_assignee": case.assignee or ""}
            if reason:
                details["reason"] = reason
            return replace(case, status=status, assignee=assignee), "reassigned", details
        case Claim():
            _require_unanswered(case, "claim")
            if case.status == CaseStatus.CLAIMED:
                raise _refuse(case, "claim", f"{case.assignee} claimed it already")
            if case.status not in CLAIMABLE_STATUSES:
                raise _refuse(case, "claim", "only a new, assigned or escalated case can be claimed")
            return replace(case, status=CaseStatus.CLAIMED, assignee=actor), "claimed", {
                "previous_assignee": case.assignee or ""}
        case Reply(channel):
            _require_open(case, "reply to")
            answered = case.answered_at or at
            return replace(_unsnoozed(case), status=CaseStatus.REPLIED, answered_at=answered,
                           assignee=case.assignee or actor), "replied", {"channel": channel.value}
        case Resolve():
            _require_open(case, "resolve")
            if case.answered_at is None:
                raise _refuse(case, "resolve",
                              "no reply is recorded; record the reply (sent outside if need be) "
                              "or mark it not actionable")
            return replace(_unsnoozed(case), status=CaseStatus.RESOLVED), "resolved", {}
        case Wait():
            _require_unanswered(case, "wait on")
            _require_assigned(case, "wait on")
            if case.status == CaseStatus.WAITING:
                raise _refuse(case, "wait on", "it is already waiting on a third party")
            seconds = policy.waiting_business_days * policy.business_day_hours * 3600
            due, remind_at = _clock_deadlines(policy, at, seconds)
            return replace(_unsnoozed(case), status=CaseStatus.WAITING, waiting_since=at, deadline=due,
                           remind_at=remind_at), "waiting", {"deadline": due.isoformat()}
        case Snooze(until):
            _require_open(case, "snooze")
            _require_assigned(case, "snooze")
            if until <= at:
                raise _refuse(case, "snooze", f"{until.isoformat()} is not in the future")
            resume = case.resume_status if case.status == CaseStatus.SNOOZED else case.status
            return replace(case, status=CaseStatus.SNOOZED, snoozed_until=until, resume_status=resume), \
                "snoozed", {"until": until.isoformat()}
        case Wake():
            if case.status != CaseStatus.SNOOZED or case.resume_status is None:
                raise _refuse(case, "wake", "it is not snoozed")
            return replace(_unsnoozed(case), status=case.resume_status), "woke", {}
        case NotActionable():
            _require_open(case, "mark not actionable")
            return replace(_unsnoozed(case), status=CaseStatus.NOT_ACTIONABLE), "not_actionable", {}
        case Escalate(level):
            _require_unanswered(case, "escalate")
            if level <= case.escalation_level:
                raise _refuse(case, "escalate", f"level {case.escalation_level} was already sent")
            return replace(_unsnoozed(case), status=CaseStatus.ESCALATED, escalation_level=level), \
                "escalated", {"level": str(level)}
        case Remind():
            _require_unanswered(case, "remind")
            if case.assignee is None:
                raise _refuse(case, "remind", "nobody is assigned")
            if case.reminded:
                raise _refuse(case, "remind", "the reminder was already sent")
            return replace(case, reminded=True), "reminded", {"assignee": case.assignee}
    raise TypeError(f"unknown case action {action!r}")


def route(case: Case, assignee: str | None, reason: str, *, actor: str, at: datetime) -> Transition:
    """Routing's decision (domain/routing) applied to an open case: to `assignee`, or to nobody when no one fits
    (the leads are told). A new case becomes assigned; a claimed case whose claimer is routed away from goes
    back to assigned."""
    if at.tzinfo is None:
        raise ValueError(f"the time of an action must carry a UTC offset: {at.isoformat()}")
    _require_open(case, "route")
    status = CaseStatus.ASSIGNED if case.status == CaseStatus.CLAIMED else case.status
    if status == CaseStatus.NEW and assignee is not None:
        status = CaseStatus.ASSIGNED
    after = replace(case, status=status, assignee=assignee)
    details = {"assignee": assignee or "", "reason": reason, "previous_assignee": case.assignee or ""}
    return Transition(after, CaseEvent("assigned", actor, at, details, case.status, after.status))


def apply(case: Case, action: Action, *, actor: str, at: datetime, policy: ResponsePolicy) -> Transition:
    """Apply an action by `actor` at `at`; raises IllegalTransition when the case's state forbids it."""
    if at.tzinfo is None:
        raise ValueError(f"the time of an action must carry a UTC offset: {at.isoformat()}")
    after, kind, details = _next(case, action, actor, at, policy)
    return Transition(after, CaseEvent(kind, actor, at, details, case.status, after.status))


@dataclass(frozen=True)
class DueNow:
    remind: bool
    escalate: tuple[int, ...]
    """Escalation levels due now, lowest first."""
    next_due_at: datetime | None
    """When something falls due next, once what is due now was sent; None when nothing ever will."""


def escalation_due_at(calendar: BusinessCalendar, levels: Sequence[EscalationLevel], case_deadline: datetime,
                      level: int) -> datetime:
    """When escalation level `level` (1-based) falls due: its delay in business time after the deadline."""
    return deadline(calendar, case_deadline, levels[level - 1].delay_seconds)


def due_actions(*, calendar: BusinessCalendar, levels: Sequence[EscalationLevel], case_deadline: datetime,
                remind_at: datetime, answered: bool, reminded: bool, escalation_level_sent: int,
                now: datetime, snoozed_until: datetime | None = None,
                reminder_calendar: BusinessCalendar | None = None) -> DueNow:
    """What is due for one case at `now`.

    Nothing is ever due once the case is answered (pass answered=True for closed cases too). The reminder
    goes out once, at `remind_at` or when a snooze ends if later, only while `reminder_calendar` (the
    assignee's hours) is open and only before the deadline; otherwise it is skipped. Each escalation level
    is due once, at its delay after the deadline, whether snoozed or not.
    """
    if answered:
        return DueNow(False, (), None)
    upcoming: list[datetime] = []
    remind = False
    if not reminded:
        earliest = max(remind_at, snoozed_until) if snoozed_until is not None else remind_at
        send_at = max(earliest, now)
        if reminder_calendar is not None:
            send_at = next_opening(reminder_calendar, send_at)
        if send_at < case_deadline:
            if send_at <= now:
                remind = True
            else:
                upcoming.append(send_at)
    escalate = []
    for level in range(escalation_level_sent + 1, len(levels) + 1):
        due_at = escalation_due_at(calendar, levels, case_deadline, level)
        if due_at <= now:
            escalate.append(level)
        else:
            upcoming.append(due_at)
            break
    return DueNow(remind, tuple(escalate), min(upcoming, default=None))


def case_due_actions(case: Case, policy: ResponsePolicy, now: datetime,
                     reminder_calendar: BusinessCalendar | None = None) -> DueNow:
    """`due_actions` for a Case; an unassigned case has no reminder due (compute again once assigned)."""
    return due_actions(
        calendar=policy.calendar, levels=policy.levels, case_deadline=case.deadline, remind_at=case.remind_at,
        answered=case.answered or case.status in CLOSED_STATUSES,
        reminded=case.reminded or case.assignee is None,
        escalation_level_sent=case.escalation_level, now=now,
        snoozed_until=case.snoozed_until if case.status == CaseStatus.SNOOZED else None,
        reminder_calendar=reminder_calendar)
