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
    role: str  # "agent" | "lead"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # message catalogue key explaining a refusal; "" when allowed


ALLOWED = Decision(True, "")


def decide(member: Member | None, operation: Operation, case_assignee: str | None = None) -> Decision:
    """``case_assignee`` is the name of the staff member the case is assigned to (None: nobody)."""
    if member is None:
        return Decision(False, "refused")
    if member.role == "lead":
        return ALLOWED
    if member.role != "agent":
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
