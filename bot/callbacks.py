"""Callback data of inline buttons: ``<action>:<case_id>[:<argument>]``, at most 64 bytes as Telegram allows."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
CLAIM = "claim"
REPLY = "reply"
RESOLVE = "resolve"
WAIT = "wait"
NOT_ACTIONABLE = "not_actionable"
REASSIGN = "reassign"
ASSIGN_TO = "assignto"
CONFIRM = "confirm"
CANCEL = "cancel"
COMPLAINT = "complaint"  # on the "please look" list; the id is the mention's
NOT_COMPLAINT = "notcomplaint"
# A reply to the platform: the id is the reply's, except TEMPLATE's (the case's, with the template's name).
POST_REPLY = "rpost"
CANCEL_REPLY = "rcancel"
TEMPLATE = "rtpl"
APPROVE_REPLY = "rapprove"
EDIT_DRAFT = "redit"  # a lead's own text instead of the draft
REJECT_REPLY = "rreject"
CHANGE_REPLY = "rchange"  # edit a posted reply
DELETE_REPLY = "rdelete"
REPLY_ACTIONS = frozenset({POST_REPLY, CANCEL_REPLY, TEMPLATE, APPROVE_REPLY, EDIT_DRAFT, REJECT_REPLY,
                           CHANGE_REPLY, DELETE_REPLY})
INCIDENT_ACK = "incack"  # on an incident card; the id is the incident's
INCIDENT_HOLD = "inchold"  # asks to confirm the holding reply
INCIDENT_HOLD_CONFIRM = "incholdok"
INCIDENT_CARDS = "inccards"  # argument "on" or "off": the incident's individual alert cards
INCIDENT_ACTIONS = frozenset({INCIDENT_ACK, INCIDENT_HOLD, INCIDENT_HOLD_CONFIRM, INCIDENT_CARDS})
ACTIONS = frozenset({CLAIM, REPLY, RESOLVE, WAIT, NOT_ACTIONABLE, REASSIGN, ASSIGN_TO, CONFIRM, CANCEL, COMPLAINT,
                     NOT_COMPLAINT}) | REPLY_ACTIONS | INCIDENT_ACTIONS
_CASE_ID = re.compile(r"[1-9][0-9]{0,17}")


class CallbackDataError(ValueError):
    """The button's data cannot be encoded within Telegram's rules."""


@dataclass(frozen=True)
class CallbackData:
    action: str
    case_id: int
    argument: str | None = None


def encode_callback(action: str, case_id: int, argument: str | None = None) -> str:
    if action not in ACTIONS:
        raise CallbackDataError(f"unknown button action {action!r}")
    if case_id <= 0:
        raise CallbackDataError(f"case id must be positive, got {case_id}")
    data = f"{action}:{case_id}" if argument is None else f"{action}:{case_id}:{argument}"
    if argument is not None and not argument:
        raise CallbackDataError("an empty button argument")
    size = len(data.encode("utf-8"))
    if size > MAX_BYTES:
        raise CallbackDataError(f"button data {data!r} is {size} bytes, Telegram allows {MAX_BYTES}")
    return data


def decode_callback(data: str) -> CallbackData | None:
    """The button's meaning, or None for data this bot did not make (old buttons, forged presses)."""
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    parts = data.split(":", 2)
    if len(parts) < 2 or parts[0] not in ACTIONS or not _CASE_ID.fullmatch(parts[1]):
        return None
    argument = parts[2] if len(parts) == 3 else None
    if argument == "":
        return None
    return CallbackData(parts[0], int(parts[1]), argument)
