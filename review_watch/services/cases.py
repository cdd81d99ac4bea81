"""What staff and the scheduler do to cases. The bot and the CLI both call these; each is one transaction."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from review_watch.clock import Clock
from review_watch.config import Config
from review_watch.domain import cases as domain
from review_watch.domain.brand_matching import covers_brand
from review_watch.domain.permissions import AGENT, Member, Operation, decide, is_lead
from review_watch.domain.routing import CaseToRoute, reroute_open_cases
from review_watch.services.feedback import record_false_alarm
from review_watch.services.policy import reschedule, staff_calendar, store_transition, to_domain
from review_watch.services.triage import (
    SYSTEM_ACTOR,
    apply_routing,
    open_case_counts,
    queue_message,
    staff_ids_by_name,
    staff_members,
)
from review_watch.storage.orm import Case, Invite, OutboxMessage, Staff
from review_watch.storage.unit_of_work import AbstractUnitOfWork


class ActionRefused(Exception):
    """The person may not do this, or the case's state forbids it.

    `key` names the message-catalogue entry for the person; the message is one line for logs and the CLI.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def staff_by_telegram_id(uow: AbstractUnitOfWork, telegram_id: int) -> Staff | None:
    return uow.repo.active_staff_by_telegram_id(telegram_id)


def _case_row(uow: AbstractUnitOfWork, case_id: int) -> Case:
    row = uow.repo.case(case_id)
    if row is None:
        raise ActionRefused("no_such_case", f"there is no case {case_id}")
    return row


OPERATIONS: dict[type, Operation] = {
    domain.Claim: Operation.CLAIM, domain.Reply: Operation.REPLY, domain.Resolve: Operation.RESOLVE,
    domain.Wait: Operation.WAIT, domain.NotActionable: Operation.NOT_ACTIONABLE, domain.Snooze: Operation.SNOOZE,
    domain.Assign: Operation.ASSIGN, domain.Reassign: Operation.ASSIGN,
}


def _may_act(actor: Staff, row: Case, action: domain.Action) -> None:
    operation = OPERATIONS.get(type(action))
    if operation is None:
        raise ActionRefused("refused", f"{type(action).__name__} is not a staff action")
    decision = decide(Member(actor.name, actor.role), operation, row.assignee.name if row.assignee else None)
    if not decision.allowed:
        raise ActionRefused(decision.reason, f"{actor.name} may not {operation.value} case {row.id}")


@dataclass(frozen=True)
class ActionResult:
    case_id: int
    status: str
    assignee: str | None


def perform(uow: AbstractUnitOfWork, config: Config, case_id: int, action: domain.Action, actor: Staff, clock: Clock,
            note: str | None = None) -> ActionResult:
    """Apply one staff action to a case, record it in the audit trail, and refresh the alert card."""
    row = _case_row(uow, case_id)
    _may_act(actor, row, action)
    now = clock()
    try:
        transition = domain.apply(to_domain(row), action, actor=actor.name, at=now, policy=config.response_policy)
    except domain.IllegalTransition as exc:
        raise ActionRefused("illegal_transition", str(exc)) from None
    store_transition(uow, row, transition.case, transition.event, {"note": note} if note else None)
    if isinstance(action, domain.NotActionable):
        record_false_alarm(uow, row.id, actor.name, now)
    uow.repo.load_assignee(row)  # the reminder waits for the new assignee's hours, not the old one's
    reschedule(config, row, now)
    uow.repo.flush()
    _queue_card_refresh(uow, row, now)
    if isinstance(action, domain.Reassign):
        queue_message(uow, kind="alert", dedupe_key=f"alert:{row.id}:{row.assignee_id}:{now.isoformat()}",
                      staff_id=row.assignee_id, case_id=row.id, now=now)
    uow.commit()
    return ActionResult(row.id, row.status, transition.case.assignee)


def _queue_card_refresh(uow: AbstractUnitOfWork, row: Case, now: datetime) -> None:
    """Edit the delivered alert in place rather than adding a message."""
    if row.alert_message_id is None:
        return
    queue_message(uow, **_card_refresh(row, now))


def _card_refresh(row: Case, now: datetime) -> dict[str, Any]:
    return {"kind": "edit", "dedupe_key": f"edit:{row.id}:{now.isoformat()}:{row.status}", "staff_id": None,
            "case_id": row.id, "now": now,
            "payload": {"chat_id": row.alert_chat_id, "message_id": row.alert_message_id}}


def record_reply(uow: AbstractUnitOfWork, config: Config, case_id: int, channel: domain.ReplyChannel, actor: str,
                 clock: Clock) -> None:
    """A reply that reached the customer (the platform took it): the case replied and its clock stopped, unless it
    is answered or closed already. No permission is asked: it was when the reply was written. Not committed."""
    row = _case_row(uow, case_id)
    if row.status not in {status.value for status in domain.OPEN_STATUSES}:
        return
    now = clock()
    transition = domain.apply(to_domain(row), domain.Reply(channel), actor=actor, at=now,
                              policy=config.response_policy)
    store_transition(uow, row, transition.case, transition.event)
    uow.repo.load_assignee(row)
    reschedule(config, row, now)
    uow.repo.flush()
    _queue_card_refresh(uow, row, now)


def refresh_card(uow: AbstractUnitOfWork, row: Case, now: datetime) -> None:
    """The alert card edited in place to show what changed beside the case's status (a reply's progress)."""
    _queue_card_refresh(uow, row, now)


def record_alert_message(uow: AbstractUnitOfWork, case_id: int, chat_id: int, message_id: int) -> None:
    row = uow.repo.case(case_id)
    if row is not None:
        row.alert_chat_id, row.alert_message_id = chat_id, message_id
        uow.commit()


def move_chat(uow: AbstractUnitOfWork, staff_id: int | None, new_chat_id: int) -> None:
    member = uow.repo.staff(staff_id) if staff_id is not None else None
    if member is not None:
        member.chat_id = new_chat_id
        uow.commit()


def reassign_by_lead(uow: AbstractUnitOfWork, config: Config, case_id: int, to_name: str, lead: Staff,
                     clock: Clock) -> ActionResult:
    target = uow.repo.active_staff_named(to_name.lstrip("@"))
    if target is None:
        raise ActionRefused("no_such_staff", f"nobody called {to_name!r} is on the staff")
    row = _case_row(uow, case_id)
    action: domain.Action = (domain.Assign(target.name) if row.status == domain.CaseStatus.NEW
                             else domain.Reassign(target.name, f"by {lead.name}"))
    return perform(uow, config, case_id, action, lead, clock)


def mark_unreachable(uow: AbstractUnitOfWork, config: Config, staff_id: int, clock: Clock) -> int:
    """The person blocked the bot: re-route their open cases and tell the leads. Returns cases moved."""
    member = uow.repo.staff(staff_id)
    if member is None or not member.reachable:
        return 0
    member.reachable = False
    uow.repo.flush()
    return _reroute_open_cases_of(uow, config, member, clock, "blocked the bot")


def _reroute_open_cases_of(uow: AbstractUnitOfWork, config: Config, member: Staff, clock: Clock, why: str) -> int:
    now = clock()
    rows = uow.repo.open_cases_assigned_to(member.id)
    to_route = [CaseToRoute(r.id, r.brand or "", r.mention.sentiment.language if r.mention.sentiment else None)
                for r in rows]
    decisions = reroute_open_cases(member.name, to_route, staff_members(uow, config, now),
                                   open_case_counts(uow), why=why)
    by_id = {r.id: r for r in rows}
    for case_to_route, decision in zip(to_route, decisions, strict=True):
        row = by_id[case_to_route.case_id]
        apply_routing(uow, row, decision, now, SYSTEM_ACTOR)
        uow.repo.load_assignee(row)
        reschedule(config, row, now)
    leads = staff_ids_by_name(uow, [s.name for s in staff_members(uow, config, now)
                                    if is_lead(s.role) and s.contactable and s.name != member.name])
    for lead_id in leads.values():
        queue_message(uow, kind="notice", dedupe_key=f"unreachable:{member.id}:{lead_id}:{now.isoformat()}",
                      staff_id=lead_id, case_id=None, now=now,
                      payload={"notice": "unreachable", "staff": member.name, "why": why,
                               "cases": [r.id for r in rows]})
    uow.commit()
    return len(rows)


# The scheduler ----------------------------------------------------------------------------------------


@dataclass
class TickFigures:
    examined: int = 0
    reminders: int = 0
    escalations: dict[int, int] | None = None


def _leads_for(staff: Iterable[Staff], row: Case, level: domain.EscalationLevel) -> Iterable[Staff]:
    """`staff`: everyone active."""
    if level.leads:
        return [member for member in staff if member.name in level.leads]
    leads = [member for member in staff if is_lead(member.role)]
    of_brand = [lead for lead in leads if covers_brand(lead.brands, row.brand or "")]
    return of_brand or leads


class _OutboxBatch:
    """The messages one batch of the tick queues, checked against the keys ever used in one look-up when the
    batch is stored (as `queue_message` checks each): nothing is queued twice."""

    def __init__(self) -> None:
        self.messages: dict[str, OutboxMessage] = {}

    def queue(self, *, kind: str, dedupe_key: str, staff_id: int | None, case_id: int | None, now: datetime,
              payload: dict[str, object] | None = None) -> None:
        self.messages.setdefault(dedupe_key, OutboxMessage(
            dedupe_key=dedupe_key, kind=kind, staff_id=staff_id, case_id=case_id, payload=payload or {},
            status="pending", attempts=0, not_before=now, created_at=now))

    def store(self, uow: AbstractUnitOfWork) -> None:
        used = uow.repo.outbox_keys_used(self.messages)
        for key, message in self.messages.items():
            if key not in used:
                uow.repo.add(message)


def scheduler_tick(uow: AbstractUnitOfWork, config: Config, clock: Clock, batch_size: int = 500) -> TickFigures:
    """Send what is due: reminders, escalations, snoozes ending. Reads only the cases due now (indexed); the
    staff, the outbox's dedupe keys and the writes are looked up and stored once per batch, not per case."""
    now = clock()
    policy = config.response_policy
    figures = TickFigures(escalations={})
    while True:
        rows = uow.repo.cases_due(now, batch_size)
        if not rows:
            return figures
        staff = uow.repo.active_staff()
        outbox = _OutboxBatch()
        for row in rows:
            figures.examined += 1
            _tick_case(uow, config, policy, row, now, figures, staff, outbox)
        uow.repo.write_together(rows)
        outbox.store(uow)
        uow.commit()


def _tick_case(uow: AbstractUnitOfWork, config: Config, policy: domain.ResponsePolicy, row: Case, now: datetime,
               figures: TickFigures, staff: list[Staff], outbox: _OutboxBatch) -> None:
    assert figures.escalations is not None
    calendar = staff_calendar(config, row.assignee)
    case = to_domain(row)
    if case.status == domain.CaseStatus.SNOOZED and case.snoozed_until and case.snoozed_until <= now:
        transition = domain.apply(case, domain.Wake(), actor=SYSTEM_ACTOR, at=now, policy=policy)
        store_transition(uow, row, transition.case, transition.event)
        case = transition.case
    due = domain.case_due_actions(case, policy, now, calendar)
    if due.remind and row.assignee_id is not None:
        transition = domain.apply(case, domain.Remind(), actor=SYSTEM_ACTOR, at=now, policy=policy)
        store_transition(uow, row, transition.case, transition.event)
        case = transition.case
        outbox.queue(kind="reminder", dedupe_key=f"reminder:{row.id}", staff_id=row.assignee_id, case_id=row.id,
                     now=now)
        figures.reminders += 1
    for level in due.escalate:
        transition = domain.apply(case, domain.Escalate(level), actor=SYSTEM_ACTOR, at=now, policy=policy)
        store_transition(uow, row, transition.case, transition.event)
        case = transition.case
        for lead in _leads_for(staff, row, policy.levels[level - 1]):
            outbox.queue(kind="escalation", dedupe_key=f"escalation:{row.id}:{level}:{lead.id}",
                         staff_id=lead.id, case_id=row.id, now=now, payload={"level": level})
        figures.escalations[level] = figures.escalations.get(level, 0) + 1
    if due.escalate and row.alert_message_id is not None:
        outbox.queue(**_card_refresh(row, now))  # the card shows it is overdue
    later = domain.case_due_actions(case, policy, now, calendar)
    snooze_end = case.snoozed_until if case.status == domain.CaseStatus.SNOOZED else None
    row.next_due_at = min((t for t in (later.next_due_at, snooze_end) if t), default=None)
    if later.next_due_at is not None and later.next_due_at <= now:
        row.next_due_at = None  # a reminder outside the assignee's hours before the deadline is skipped


# Joining, muting ---------------------------------------------------------------------------------------


def register_chat(uow: AbstractUnitOfWork, telegram_id: int, chat_id: int) -> Staff | None:
    member = staff_by_telegram_id(uow, telegram_id)
    if member is not None:
        member.chat_id = chat_id
        member.reachable = True
        uow.commit()
    return member


def create_invite(uow: AbstractUnitOfWork, lead: Staff, role: str, now: datetime) -> str:
    decision = decide(Member(lead.name, lead.role), Operation.INVITE)
    if not decision.allowed:
        raise ActionRefused(decision.reason, "only a lead may invite")
    code = secrets.token_urlsafe(12)
    uow.repo.add(Invite(code=code, role=role, created_at=now))
    uow.commit()
    return code


def join_with_invite(uow: AbstractUnitOfWork, config: Config, code: str, telegram_id: int, chat_id: int, name: str
                     ) -> Staff | None:
    invite = uow.repo.invite(code)
    configured = config.telegram.invite_code is not None and secrets.compare_digest(code,
                                                                                   config.telegram.invite_code)
    if not configured and (invite is None or invite.used_by is not None):
        return None
    if invite is not None:
        invite.used_by = telegram_id
    unique_name = name
    while uow.repo.staff_name_taken(unique_name):
        unique_name = f"{name} ({telegram_id})"
        if unique_name == name:
            break
    member = Staff(name=unique_name, telegram_id=telegram_id, chat_id=chat_id,
                   role=invite.role if invite else AGENT, languages=[], brands=None, calendar=None,
                   locale="en", active=True, reachable=True, muted=False, invited=True)
    uow.repo.add(member)
    uow.commit()
    return member


def set_muted(uow: AbstractUnitOfWork, config: Config, member: Staff, muted: bool, clock: Clock) -> int:
    """Off duty: muted people get no new cases; their open ones go to someone on duty."""
    member.muted = muted
    uow.repo.flush()
    moved = _reroute_open_cases_of(uow, config, member, clock, "went off duty") if muted else 0
    uow.commit()
    return moved
