"""What the outbox holds, as plain views for whoever delivers or shows it (the bot's sender, the demo).

`take_due` applies the rules of delivery at sending time, so that the sender only renders and sends: a later
edit of a card supersedes an earlier one; a message to someone removed or unreachable fails; a reminder or
escalation of a case answered or closed meanwhile, a card gone, or a "please look" list answered meanwhile
by others, is skipped. The outbox rows themselves stay in this layer.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from review_watch.config import Config
from review_watch.domain.cases import OPEN_STATUSES
from review_watch.services import outbox
from review_watch.services.incidents import INCIDENT_EDIT, INCIDENT_KINDS, IncidentView, incident_view
from review_watch.services.review_queue import UnsureItem, waiting_items
from review_watch.services.views import CaseView, StaffView, case_view, staff_view
from review_watch.storage.orm import OutboxMessage
from review_watch.storage.unit_of_work import AbstractUnitOfWork

NOTHING_LEFT = "nothing left to say (case closed or answered)"


@dataclass(frozen=True)
class OutboxView:
    """One queued message: its kind (alert, reminder, escalation, notice, edit, please_look, and the incident
    kinds: incident, incident_edit, incident_closed), what it is about, and for whom."""

    message_id: int
    kind: str
    payload: Mapping[str, Any]
    attempts: int
    case_id: int | None
    recipient: StaffView | None  # None for a card's edit (it goes to the card's chat)
    case: CaseView | None


@dataclass(frozen=True)
class Delivery:
    """A message due now, with all its rendering needs: where it goes and in whose language and time."""

    message: OutboxView
    chat_id: int
    reader: StaffView  # whom it is written for (an edit: the person whose chat holds the card)
    edit_message_id: int | None = None  # an edit: the card's message in that chat
    unsure_items: tuple[UnsureItem, ...] = field(default_factory=tuple)  # please_look: those still waiting
    incident: IncidentView | None = None  # the incident kinds: the incident as it is now


def _view(uow: AbstractUnitOfWork, config: Config, message: OutboxMessage, now: datetime) -> OutboxView:
    return OutboxView(
        message_id=message.id, kind=message.kind, payload=dict(message.payload or {}), attempts=message.attempts,
        case_id=message.case_id, recipient=staff_view(message.staff) if message.staff is not None else None,
        case=case_view(uow, config, message.case_id, now) if message.case_id is not None else None)


def pending(uow: AbstractUnitOfWork, config: Config, now: datetime, limit: int = 100) -> list[OutboxView]:
    """The messages due now, oldest first, as they are (for `review-watch demo`)."""
    return [_view(uow, config, message, now) for message in outbox.pending_messages(uow, now, limit)]


def still_relevant(kind: str, case: CaseView | None) -> bool:
    """Re-checked at the moment of sending: no reminder or escalation for an answered or closed case."""
    if kind in ("reminder", "escalation"):
        return case is not None and case.status in OPEN_STATUSES
    if kind == "edit":
        return case is not None
    return True


def take_due(uow: AbstractUnitOfWork, config: Config, now: datetime, limit: int, excluding: Collection[int] = (),
             held_chats: Collection[int] = ()) -> list[Delivery]:
    """The messages to send now, oldest first; `excluding`: ids the sender has in hand; `held_chats`: chats
    that must wait (their messages stay pending). What will never be sent is marked so here."""
    messages = outbox.pending_messages(uow, now, limit, excluding=excluding)
    latest_edit = {m.case_id: m.id for m in messages if m.kind == "edit"}
    latest_card_edit = {_card_of(m): m.id for m in messages if m.kind == INCIDENT_EDIT}
    deliveries = []
    for message in messages:
        staff = message.staff
        if message.kind == "edit" and latest_edit[message.case_id] != message.id:
            outbox.mark_skipped(uow, message.id, f"superseded by edit {latest_edit[message.case_id]}")
            continue
        if message.kind == INCIDENT_EDIT and latest_card_edit[_card_of(message)] != message.id:
            outbox.mark_skipped(uow, message.id, f"superseded by edit {latest_card_edit[_card_of(message)]}")
            continue
        if message.kind in ("edit", INCIDENT_EDIT):
            chat_id = int(message.payload["chat_id"])
        elif staff is None or not staff.active or not staff.reachable:
            outbox.mark_failed(uow, message.id, "no reachable recipient")
            continue
        else:
            chat_id = staff.chat_id or staff.telegram_id
        if chat_id in held_chats:
            continue
        view = _view(uow, config, message, now)
        delivery = _delivery(uow, config, view, chat_id)
        if delivery is None:
            outbox.mark_skipped(uow, message.id, NOTHING_LEFT)
            continue
        deliveries.append(delivery)
    return deliveries


def _card_of(message: OutboxMessage) -> tuple[object, object]:
    return message.payload.get("incident_id"), message.staff_id


def _delivery(uow: AbstractUnitOfWork, config: Config, view: OutboxView, chat_id: int) -> Delivery | None:
    if view.kind in INCIDENT_KINDS:
        incident = incident_view(uow, config, int(view.payload["incident_id"]))
        if incident is None or view.recipient is None:
            return None
        edit_id = int(view.payload["message_id"]) if view.kind == INCIDENT_EDIT else None
        return Delivery(view, chat_id, view.recipient, edit_message_id=edit_id, incident=incident)
    if not still_relevant(view.kind, view.case):
        return None
    if view.kind == "edit":
        case = uow.repo.case(view.case_id) if view.case_id is not None else None
        if case is None or case.alert_message_id is None or case.alert_chat_id is None:
            return None
        reader = uow.repo.staff_by_chat(case.alert_chat_id)
        if reader is None:
            return None
        return Delivery(view, chat_id, staff_view(reader), edit_message_id=case.alert_message_id)
    if view.recipient is None:
        return None
    if view.kind == "please_look":
        items = tuple(waiting_items(uow, [int(i) for i in view.payload["items"]]))
        if not items:
            return None  # all answered meanwhile
        return Delivery(view, chat_id, view.recipient, unsure_items=items)
    return Delivery(view, chat_id, view.recipient)
