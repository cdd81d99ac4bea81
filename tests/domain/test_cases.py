"""The case life cycle, and when reminders and escalations fall due."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from review_watch.domain.business_time import BusinessCalendar
from review_watch.domain.cases import (
    Action,
    Assign,
    Case,
    CaseStatus,
    Claim,
    DueNow,
    Escalate,
    EscalationLevel,
    IllegalTransition,
    NotActionable,
    Reassign,
    Remind,
    Reply,
    ReplyChannel,
    Resolve,
    ResponsePolicy,
    Snooze,
    Wait,
    Wake,
    apply,
    case_due_actions,
    due_actions,
    escalation_due_at,
    open_case,
    route,
)
from tests.domain.calendars import STOCKHOLM, CalendarSpec, hours

HOUR = 3600
CALENDAR = STOCKHOLM.build()
POLICY = ResponsePolicy(CALENDAR, response_seconds=9 * HOUR, business_day_hours=9,
                        levels=(EscalationLevel(0), EscalationLevel(9 * HOUR, ("Boss",))))
MONDAY_9 = datetime.fromisoformat("2026-11-23T09:00:00+01:00")
VISIBLE = Reply(ReplyChannel.VISIBLE_TO_CUSTOMER)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _run(case: Case, *steps: tuple[Action, str], at: datetime = MONDAY_9) -> Case:
    for action, actor in steps:
        case = apply(case, action, actor=actor, at=at, policy=POLICY).case
    return case


NEW = open_case(POLICY, MONDAY_9)
ASSIGNED = _run(NEW, (Assign("Anna"), "router"))
CLAIMED = _run(ASSIGNED, (Claim(), "Anna"))
REPLIED = _run(CLAIMED, (VISIBLE, "Anna"))
RESOLVED = _run(REPLIED, (Resolve(), "Anna"))
WAITING = _run(CLAIMED, (Wait(), "Anna"))
SNOOZED = _run(CLAIMED, (Snooze(_at("2026-11-23T12:00:00+01:00")), "Anna"))
ESCALATED = _run(ASSIGNED, (Escalate(1), "scheduler"))
NOT_ACTIONABLE = _run(ASSIGNED, (NotActionable(), "Anna"))


def test_open_case_sets_deadline_and_reminder() -> None:
    assert NEW.status == CaseStatus.NEW
    assert NEW.deadline.isoformat() == "2026-11-23T18:00:00+01:00"
    assert NEW.remind_at.isoformat() == "2026-11-23T15:45:00+01:00"  # 0.75 of 9 business hours
    friday = open_case(POLICY, _at("2026-11-27T16:00:00+01:00"))
    assert friday.deadline.isoformat() == "2026-11-30T17:00:00+01:00"
    assert friday.remind_at.isoformat() == "2026-11-30T14:45:00+01:00"


LEGAL = [
    (NEW, Assign("Anna"), "router", CaseStatus.ASSIGNED, "Anna", "assigned"),
    (NEW, Claim(), "Bert", CaseStatus.CLAIMED, "Bert", "claimed"),
    (NEW, Reply(ReplyChannel.SENT_OUTSIDE), "Bert", CaseStatus.REPLIED, "Bert", "replied"),
    (NEW, NotActionable(), "Anna", CaseStatus.NOT_ACTIONABLE, None, "not_actionable"),
    (NEW, Escalate(1), "scheduler", CaseStatus.ESCALATED, None, "escalated"),
    (ASSIGNED, Claim(), "Anna", CaseStatus.CLAIMED, "Anna", "claimed"),
    (ASSIGNED, Claim(), "Bert", CaseStatus.CLAIMED, "Bert", "claimed"),
    (ASSIGNED, Reassign("Bert", "lead's choice"), "Lena", CaseStatus.ASSIGNED, "Bert", "reassigned"),
    (ASSIGNED, Remind(), "scheduler", CaseStatus.ASSIGNED, "Anna", "reminded"),
    (CLAIMED, VISIBLE, "Anna", CaseStatus.REPLIED, "Anna", "replied"),
    (CLAIMED, Reassign("Bert"), "Lena", CaseStatus.ASSIGNED, "Bert", "reassigned"),
    (CLAIMED, Wait(), "Anna", CaseStatus.WAITING, "Anna", "waiting"),
    (CLAIMED, Snooze(_at("2026-11-23T12:00:00+01:00")), "Anna", CaseStatus.SNOOZED, "Anna", "snoozed"),
    (CLAIMED, Escalate(2), "scheduler", CaseStatus.ESCALATED, "Anna", "escalated"),
    (REPLIED, Resolve(), "Anna", CaseStatus.RESOLVED, "Anna", "resolved"),
    (REPLIED, VISIBLE, "Anna", CaseStatus.REPLIED, "Anna", "replied"),
    (REPLIED, NotActionable(), "Anna", CaseStatus.NOT_ACTIONABLE, "Anna", "not_actionable"),
    (REPLIED, Snooze(_at("2026-11-24T12:00:00+01:00")), "Anna", CaseStatus.SNOOZED, "Anna", "snoozed"),
    (WAITING, VISIBLE, "Anna", CaseStatus.REPLIED, "Anna", "replied"),
    (WAITING, Escalate(1), "scheduler", CaseStatus.ESCALATED, "Anna", "escalated"),
    (SNOOZED, Wake(), "scheduler", CaseStatus.CLAIMED, "Anna", "woke"),
    (SNOOZED, VISIBLE, "Anna", CaseStatus.REPLIED, "Anna", "replied"),
    (SNOOZED, Wait(), "Anna", CaseStatus.WAITING, "Anna", "waiting"),
    (ESCALATED, Claim(), "Bert", CaseStatus.CLAIMED, "Bert", "claimed"),
    (ESCALATED, Escalate(2), "scheduler", CaseStatus.ESCALATED, "Anna", "escalated"),
    (ESCALATED, Reassign("Bert"), "Lena", CaseStatus.ESCALATED, "Bert", "reassigned"),
    (ESCALATED, VISIBLE, "Anna", CaseStatus.REPLIED, "Anna", "replied"),
]


@pytest.mark.parametrize(("case", "action", "actor", "status", "assignee", "kind"), LEGAL,
                         ids=[f"{row[0].status}-{row[5]}" for row in LEGAL])
def test_legal_transitions(case: Case, action: Action, actor: str, status: CaseStatus, assignee: str | None,
                           kind: str) -> None:
    at = _at("2026-11-23T10:00:00+01:00")
    transition = apply(case, action, actor=actor, at=at, policy=POLICY)
    assert transition.case.status == status
    assert transition.case.assignee == assignee
    event = transition.event
    assert (event.kind, event.actor, event.at) == (kind, actor, at)
    assert (event.status_from, event.status_to) == (case.status, status)


ILLEGAL = [
    (NEW, Resolve(), "no reply is recorded"),
    (ASSIGNED, Resolve(), "no reply is recorded"),
    (ESCALATED, Resolve(), "no reply is recorded"),
    (RESOLVED, VISIBLE, "cannot reply to a resolved case: it is closed"),
    (NOT_ACTIONABLE, VISIBLE, "it is closed"),
    (RESOLVED, Resolve(), "it is closed"),
    (NOT_ACTIONABLE, Assign("Anna"), "it is closed"),
    (ASSIGNED, Assign("Bert"), "reassign it instead"),
    (NEW, Reassign("Bert"), "assign it first"),
    (ASSIGNED, Reassign("Anna"), "already assigned to Anna"),
    (CLAIMED, Claim(), "Anna claimed it already"),
    (WAITING, Claim(), "only a new, assigned or escalated case can be claimed"),
    (REPLIED, Claim(), "it was answered at"),
    (NEW, Wait(), "assign it first"),
    (WAITING, Wait(), "already waiting"),
    (REPLIED, Wait(), "it was answered"),
    (NEW, Snooze(_at("2026-11-24T10:00:00+01:00")), "assign it first"),
    (CLAIMED, Snooze(_at("2026-11-23T09:59:00+01:00")), "is not in the future"),
    (CLAIMED, Wake(), "it is not snoozed"),
    (ESCALATED, Escalate(1), "level 1 was already sent"),
    (REPLIED, Escalate(1), "it was answered"),
    (NEW, Remind(), "nobody is assigned"),
    (REPLIED, Remind(), "it was answered"),
    (_run(ASSIGNED, (Remind(), "scheduler")), Remind(), "the reminder was already sent"),
]


@pytest.mark.parametrize(("case", "action", "message"), ILLEGAL,
                         ids=[f"{row[0].status}-{type(row[1]).__name__}" for row in ILLEGAL])
def test_illegal_transitions(case: Case, action: Action, message: str) -> None:
    with pytest.raises(IllegalTransition, match=message):
        apply(case, action, actor="Anna", at=_at("2026-11-23T10:00:00+01:00"), policy=POLICY)


def test_only_a_reply_stops_the_clock_and_the_first_reply_counts() -> None:
    for case in (ASSIGNED, CLAIMED, WAITING, SNOOZED, ESCALATED):
        assert case.answered_at is None
    first = apply(CLAIMED, Reply(ReplyChannel.SENT_OUTSIDE), actor="Anna", at=_at("2026-11-23T11:00:00+01:00"),
                  policy=POLICY)
    assert first.case.answered_at == _at("2026-11-23T11:00:00+01:00")
    assert first.event.details == {"channel": "sent_outside"}
    again = apply(first.case, VISIBLE, actor="Anna", at=_at("2026-11-24T11:00:00+01:00"), policy=POLICY)
    assert again.case.answered_at == _at("2026-11-23T11:00:00+01:00")


def test_waiting_moves_the_deadline_to_three_business_days_from_then() -> None:
    entered = _at("2026-11-23T14:00:00+01:00")  # Monday
    waiting = apply(CLAIMED, Wait(), actor="Anna", at=entered, policy=POLICY)
    # 27 business hours: Mon 4 h, Tue 9 h, Wed 9 h, Thu 5 h.
    assert waiting.case.deadline.isoformat() == "2026-11-26T14:00:00+01:00"
    assert waiting.case.waiting_since == entered
    assert waiting.case.remind_at.isoformat() == "2026-11-25T16:15:00+01:00"  # 0.75 of 27 h
    assert waiting.event.details == {"deadline": "2026-11-26T14:00:00+01:00"}
    five_days = replace(POLICY, waiting_business_days=5)
    assert apply(CLAIMED, Wait(), actor="Anna", at=entered, policy=five_days).case.deadline.isoformat() == \
        "2026-11-30T15:00:00+01:00"  # Fri closes at 17:00


def test_snooze_returns_to_the_status_it_left_and_can_be_extended() -> None:
    later = _at("2026-11-24T09:00:00+01:00")
    extended = apply(SNOOZED, Snooze(later), actor="Anna", at=MONDAY_9, policy=POLICY).case
    assert (extended.status, extended.snoozed_until, extended.resume_status) == \
        (CaseStatus.SNOOZED, later, CaseStatus.CLAIMED)
    woke = apply(extended, Wake(), actor="scheduler", at=later, policy=POLICY).case
    assert (woke.status, woke.snoozed_until, woke.resume_status) == (CaseStatus.CLAIMED, None, None)


def test_reassigning_keeps_the_history() -> None:
    transition = apply(CLAIMED, Reassign("Bert", "Anna is unreachable"), actor="Lena", at=MONDAY_9,
                       policy=POLICY)
    assert transition.event.details == {"assignee": "Bert", "previous_assignee": "Anna",
                                        "reason": "Anna is unreachable"}
    assert transition.case.deadline == CLAIMED.deadline
    assert transition.case.arrived_at == CLAIMED.arrived_at


def test_actions_need_a_time_with_an_offset() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        apply(NEW, Assign("Anna"), actor="router", at=datetime(2026, 11, 23, 9), policy=POLICY)


@pytest.mark.parametrize(("changes", "message"), [
    ({"response_seconds": 0}, "response time"),
    ({"remind_fraction": 1.5}, "remind_at"),
    ({"waiting_business_days": 0}, "waiting time"),
    ({"levels": (EscalationLevel(9 * HOUR), EscalationLevel(0))}, "must not decrease"),
])
def test_policy_validation(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(POLICY, **changes)  # type: ignore[arg-type]


# Reminders and escalations.

def _due(case: Case, now: str, reminder_calendar: BusinessCalendar | None = None) -> DueNow:
    return case_due_actions(case, POLICY, _at(now), reminder_calendar)


def test_reminder_then_escalation_levels_each_once() -> None:
    assert _due(CLAIMED, "2026-11-23T15:00:00+01:00") == DueNow(False, (), _at("2026-11-23T15:45:00+01:00"))
    assert _due(CLAIMED, "2026-11-23T15:45:00+01:00") == DueNow(True, (), _at("2026-11-23T18:00:00+01:00"))
    reminded = _run(CLAIMED, (Remind(), "scheduler"))
    assert _due(reminded, "2026-11-23T17:59:00+01:00") == DueNow(False, (), _at("2026-11-23T18:00:00+01:00"))
    # Level 1 at the deadline (a closing time); level 2 one business day later.
    assert _due(reminded, "2026-11-23T18:00:00+01:00") == DueNow(False, (1,), _at("2026-11-24T18:00:00+01:00"))
    level_1 = _run(reminded, (Escalate(1), "scheduler"))
    assert _due(level_1, "2026-11-24T09:00:00+01:00") == DueNow(False, (), _at("2026-11-24T18:00:00+01:00"))
    assert _due(level_1, "2026-11-24T18:00:00+01:00") == DueNow(False, (2,), None)
    level_2 = _run(level_1, (Escalate(2), "scheduler"))
    assert _due(level_2, "2026-12-24T18:00:00+01:00") == DueNow(False, (), None)


def test_a_late_scheduler_sends_every_missed_level_once_and_skips_a_stale_reminder() -> None:
    assert _due(CLAIMED, "2026-11-25T10:00:00+01:00") == DueNow(False, (1, 2), None)


def test_nothing_is_due_once_answered_or_closed() -> None:
    for case in (REPLIED, RESOLVED, NOT_ACTIONABLE, _run(REPLIED, (Snooze(_at("2026-11-30T09:00:00+01:00")), "A"))):
        assert _due(case, "2026-11-23T15:45:00+01:00") == DueNow(False, (), None)
        assert _due(case, "2026-12-01T09:00:00+01:00") == DueNow(False, (), None)


def test_an_unassigned_case_gets_no_reminder_but_escalates() -> None:
    assert _due(NEW, "2026-11-23T15:45:00+01:00") == DueNow(False, (), _at("2026-11-23T18:00:00+01:00"))
    assert _due(NEW, "2026-11-23T18:00:00+01:00").escalate == (1,)


def test_reminder_waits_for_the_assignees_hours_and_is_skipped_after_the_deadline() -> None:
    afternoons = CalendarSpec("afternoons", "Europe/Stockholm", {0: hours("16:00-20:00")}).build()
    assert _due(CLAIMED, "2026-11-23T15:45:00+01:00", afternoons) == \
        DueNow(False, (), _at("2026-11-23T16:00:00+01:00"))
    assert _due(CLAIMED, "2026-11-23T16:00:00+01:00", afternoons).remind
    mornings = CalendarSpec("mornings", "Europe/Stockholm", {1: hours("08:00-12:00")}).build()
    assert _due(CLAIMED, "2026-11-23T15:45:00+01:00", mornings) == \
        DueNow(False, (), _at("2026-11-23T18:00:00+01:00"))


def test_snooze_defers_the_reminder_but_not_the_escalation() -> None:
    snoozed = _run(CLAIMED, (Snooze(_at("2026-11-23T17:00:00+01:00")), "Anna"))
    assert _due(snoozed, "2026-11-23T15:45:00+01:00") == DueNow(False, (), _at("2026-11-23T17:00:00+01:00"))
    assert _due(snoozed, "2026-11-23T17:00:00+01:00").remind
    overnight = _run(CLAIMED, (Snooze(_at("2026-11-24T09:00:00+01:00")), "Anna"))
    assert _due(overnight, "2026-11-23T15:45:00+01:00") == DueNow(False, (), _at("2026-11-23T18:00:00+01:00"))
    assert _due(overnight, "2026-11-23T18:00:00+01:00").escalate == (1,)


def test_escalation_levels_use_business_time_after_the_deadline() -> None:
    friday_close = _at("2026-11-27T17:00:00+01:00")
    assert escalation_due_at(CALENDAR, POLICY.levels, friday_close, 1) == friday_close
    assert escalation_due_at(CALENDAR, POLICY.levels, friday_close, 2).isoformat() == "2026-11-30T18:00:00+01:00"


def test_simulated_week_never_reminds_or_escalates_twice() -> None:
    """A scheduler ticking every five minutes over a week and a half, applying what is due; a third of
    the cases are answered three hours after arriving, before their reminder."""
    arrivals = [_at("2026-11-23T08:00:00+01:00") + timedelta(minutes=97 * i) for i in range(60)]
    cases = {i: _run(open_case(POLICY, at), (Assign("Anna"), "router"), at=at) for i, at in enumerate(arrivals)}
    answer_at = {i: arrivals[i] + timedelta(hours=3) for i in range(0, 60, 3)}
    sent: list[tuple[int, str]] = []
    now = arrivals[0]
    while now < _at("2026-12-02T09:00:00+01:00"):
        for i, case in cases.items():
            if now < case.arrived_at:
                continue
            if i in answer_at and now >= answer_at[i] and not case.answered:
                case = apply(case, VISIBLE, actor="Anna", at=now, policy=POLICY).case
            due = case_due_actions(case, POLICY, now)
            if due.remind:
                case = apply(case, Remind(), actor="scheduler", at=now, policy=POLICY).case
                sent.append((i, "remind"))
            for level in due.escalate:
                case = apply(case, Escalate(level), actor="scheduler", at=now, policy=POLICY).case
                sent.append((i, f"level {level}"))
            cases[i] = case
        now += timedelta(minutes=5)
    assert len(sent) == len(set(sent)) == 120
    unanswered = {i for i in cases if i not in answer_at}
    assert {i for i, kind in sent if kind == "remind"} == unanswered
    assert {i for i, kind in sent if kind == "level 1"} == unanswered
    assert {i for i, kind in sent if kind == "level 2"} == unanswered
    assert all(cases[i].status == CaseStatus.REPLIED for i in answer_at)
    assert all(cases[i].status == CaseStatus.ESCALATED for i in unanswered)


def test_due_actions_takes_plain_fields() -> None:
    due = due_actions(calendar=CALENDAR, levels=POLICY.levels, case_deadline=_at("2026-11-23T18:00:00+01:00"),
                      remind_at=_at("2026-11-23T15:45:00+01:00"), answered=False, reminded=True,
                      escalation_level_sent=1, now=_at("2026-11-23T18:30:00+01:00"))
    assert due == DueNow(False, (), _at("2026-11-24T18:00:00+01:00"))


def test_routing_assigns_a_new_case_and_hands_a_claimed_one_back_as_assigned() -> None:
    new = open_case(POLICY, MONDAY_9)
    routed = route(new, "Anna", "reads en", actor="system", at=MONDAY_9)
    assert (routed.case.status, routed.case.assignee, routed.case.deadline) == (CaseStatus.ASSIGNED, "Anna",
                                                                                new.deadline)
    assert (routed.event.kind, dict(routed.event.details), routed.event.status_from, routed.event.status_to) == (
        "assigned", {"assignee": "Anna", "reason": "reads en", "previous_assignee": ""}, CaseStatus.NEW,
        CaseStatus.ASSIGNED)

    claimed = apply(routed.case, Claim(), actor="Anna", at=MONDAY_9, policy=POLICY).case
    moved = route(claimed, "Boris", "Anna is unreachable", actor="system", at=MONDAY_9)
    assert (moved.case.status, moved.case.assignee, moved.event.details["previous_assignee"]) == (
        CaseStatus.ASSIGNED, "Boris", "Anna")

    nobody = route(new, None, "no one reads he", actor="system", at=MONDAY_9)
    assert (nobody.case.status, nobody.case.assignee) == (CaseStatus.NEW, None)


def test_a_closed_case_is_not_routed() -> None:
    closed = apply(open_case(POLICY, MONDAY_9), NotActionable(), actor="Lena", at=MONDAY_9, policy=POLICY).case
    with pytest.raises(IllegalTransition, match="cannot route a not_actionable case: it is closed"):
        route(closed, "Anna", "", actor="system", at=MONDAY_9)
