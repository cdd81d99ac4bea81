"""What the bot's handlers, sender and metrics need from the process's wiring (the entry points' `App`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, TypeVar

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


T = TypeVar("T")


async def in_database(app: BotContext, work: Callable[[UnitOfWork], T]) -> T:
    """`work` in one unit of work, off the event loop (database calls block)."""

    def run() -> T:
        with app.unit_of_work() as uow:
            return work(uow)

    return await asyncio.to_thread(run)
