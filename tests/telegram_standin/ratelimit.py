"""Telegram's flood limits as token buckets: per private chat, per group, and for the whole bot."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class TokenBucket:
    rate: float
    capacity: float
    tokens: float = -1.0
    updated: float = 0.0

    def wait_needed(self, now: float) -> float:
        """Seconds until one token is available (0 when one is)."""
        if self.tokens < 0:
            self.tokens, self.updated = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class RateLimits:
    """Telegram's published limits; ``private_burst`` is how many quick messages one chat tolerates."""

    def __init__(
        self,
        private_per_second: float = 1.0,
        private_burst: float = 3.0,
        group_per_minute: float = 20.0,
        global_per_second: float = 30.0,
    ) -> None:
        self.private_per_second = private_per_second
        self.private_burst = private_burst
        self.group_per_minute = group_per_minute
        self.global_per_second = global_per_second
        self._global: TokenBucket | None = None
        self._chats: dict[int | str, TokenBucket] = {}

    def retry_after(self, chat_id: int | str, is_group: bool, now: float) -> int:
        """0 when the message may go now (and counts it), else the whole seconds to wait."""
        if self._global is None:
            self._global = TokenBucket(self.global_per_second, self.global_per_second)
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = (
                TokenBucket(self.group_per_minute / 60.0, self.group_per_minute)
                if is_group
                else TokenBucket(self.private_per_second, self.private_burst)
            )
            self._chats[chat_id] = chat
        wait = max(self._global.wait_needed(now), chat.wait_needed(now))
        if wait > 0:
            return max(1, math.ceil(wait))
        self._global.take()
        chat.take()
        return 0
