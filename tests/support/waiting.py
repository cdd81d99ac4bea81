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
