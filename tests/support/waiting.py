"""Waiting, in end-to-end tests, for what the bot and the stand-ins do in their own time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.telegram_standin.runner import ControlClient


def until(condition: Callable[[], Any], timeout: float = 30, what: str = "") -> Any:
    """The condition's first true value, polled every 0.2 s; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or condition}")


def said_after(telegram: ControlClient, chat_id: int, act: Callable[[], object], words: str,
               timeout: float = 30) -> str:
    """Does `act`, then waits for the bot's new message to the chat that contains `words` and returns its text
    (other messages, such as notices of earlier replies, may arrive in between)."""
    before = len(telegram.sent(chat_id=chat_id, method="sendMessage"))
    act()
    return str(until(lambda: next((sent["text"] for sent in telegram.sent(chat_id=chat_id, method="sendMessage")
                                   [before:] if words in sent["text"]), None), timeout, words))


def post_reply_by_command(telegram: ControlClient, chat_id: int, case_id: int, text: str) -> str:
    """`/reply CASE TEXT`, then the confirmation's Post button; returns the confirmation's text. The confirmation
    is the new message with a Post button that shows the text: a reminder, an incident card or a notice of an
    earlier reply may arrive before it on a busy machine."""
    earlier = {message["message_id"] for message in telegram.messages(chat_id=chat_id)}
    telegram.send_text(chat_id, f"/reply {case_id} {text}")

    def confirmation() -> tuple[dict[str, Any], str] | None:
        for message in telegram.messages(chat_id=chat_id):
            if message["message_id"] in earlier or text not in message.get("text", ""):
                continue
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button.get("callback_data", "").startswith("rpost:"):
                        return message, button["callback_data"]
        return None

    message, data = until(confirmation, what=f"the confirmation of the reply to case #{case_id}")
    telegram.press_button(chat_id, message["message_id"], data)
    return str(message["text"])
