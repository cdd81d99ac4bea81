"""What the bot's handlers, sender and metrics need from the process's wiring (the entry points' `App`)."""

from __future__ import annotations

from typing import Protocol

from review_watch.clock import Clock
from review_watch.config import Config
from review_watch.domain.replies import ReplyConnectors
from review_watch.storage.coordination import Lease
from review_watch.storage.unit_of_work import UnitOfWork


class BotContext(Protocol):
    @property
    def config(self) -> Config: ...

    @property
    def clock(self) -> Clock: ...

    def unit_of_work(self) -> UnitOfWork: ...

    def lease(self, name: str, seconds: float) -> Lease:
        """A lease one process holds at a time (replicas: the sending lease)."""

    @property
    def connectors(self) -> ReplyConnectors:
        """The reply connectors of the sources that have reply settings."""
        ...
