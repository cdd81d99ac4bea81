"""Who may do what to a case; the service layer asks before every staff action, whoever calls it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Operation(StrEnum):
    HELP = "help"
    QUEUE = "queue"
    MUTE = "mute"
    VIEW_CASE = "view_case"
    CLAIM = "claim"
    REPLY = "reply"
    RESOLVE = "resolve"
    WAIT = "wait"
    NOT_ACTIONABLE = "not_actionable"
    SNOOZE = "snooze"
    ASSIGN = "assign"
    INVITE = "invite"
    STATS = "stats"
    JUDGE_UNSURE = "judge_unsure"  # answer "complaint" / "not a complaint" on the "please look" list
    REPORT_MISSED = "report_missed"


LEAD, AGENT = "lead", "agent"  # the roles a staff member can have
ANY_STAFF = frozenset({Operation.HELP, Operation.QUEUE, Operation.MUTE})
LEADS_ONLY = frozenset({Operation.ASSIGN, Operation.STATS, Operation.INVITE, Operation.JUDGE_UNSURE,
                        Operation.REPORT_MISSED})
OWN_CASE = frozenset(
    {Operation.VIEW_CASE, Operation.REPLY, Operation.RESOLVE, Operation.WAIT, Operation.NOT_ACTIONABLE,
     Operation.SNOOZE}
)


@dataclass(frozen=True)
class Member:
    """A configured or invited staff member."""

    name: str
    role: str  # AGENT | LEAD


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # message catalogue key explaining a refusal; "" when allowed


ALLOWED = Decision(True, "")


def is_lead(role: str) -> bool:
    """Whether someone with ``role`` leads the team: may do everything (LEADS_ONLY included) and is the one
    escalations, routing notices, broken-source notices and the "please look" lists go to."""
    return role == LEAD


def may_do_leads_work(member: Member | None) -> bool:
    """Whether ``member`` may do what only leads may (the lead commands and buttons are shown to them)."""
    return member is not None and all(decide(member, operation).allowed for operation in LEADS_ONLY)


def decide(member: Member | None, operation: Operation, case_assignee: str | None = None) -> Decision:
    """``case_assignee`` is the name of the staff member the case is assigned to (None: nobody)."""
    if member is None:
        return Decision(False, "refused")
    if is_lead(member.role):
        return ALLOWED
    if member.role != AGENT:
        return Decision(False, "refused")
    if operation in ANY_STAFF:
        return ALLOWED
    if operation in LEADS_ONLY:
        return Decision(False, "leads_only")
    if operation is Operation.CLAIM:
        return ALLOWED if case_assignee in (None, member.name) else Decision(False, "not_your_case")
    if operation in OWN_CASE:
        return ALLOWED if case_assignee == member.name else Decision(False, "not_your_case")
    return Decision(False, "refused")
