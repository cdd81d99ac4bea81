"""Serves an aiohttp application on 127.0.0.1 (a free port) from a background thread with its own loop."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from tests.conftest import shared_dir


def platform_spec(*parts: str) -> Path:
    """A file of ../shared/platform-apis/ (or $REVIEW_WATCH_SHARED/platform-apis/)."""
    return shared_dir().joinpath("platform-apis", *parts)


class StandInThread:
    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="platform-standin")
        self._runner: web.AppRunner | None = None

    def start(self) -> str:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self.url

    async def _start(self) -> None:
        # a request held open on purpose (a fault such as a hang after acceptance) is cut at stop, not awaited
        self._runner = web.AppRunner(self.app, handle_signals=False, shutdown_timeout=5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)


@dataclass
class Fault:
    kind: str
    count: int
    method: str | None = None  # the stand-in's name for the call it hits; None: any
    delay: float = 0.0
    retry_after: int = 1


class FaultQueue:
    """Faults waiting for the next matching requests; added from the test's thread, taken in the server's."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, kind: str, count: int = 1, method: str | None = None, delay: float = 0.0,
            retry_after: int = 1) -> None:
        with self._lock:
            self._faults.append(Fault(kind, count, method, delay, retry_after))

    def take(self, method: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.count > 0 and fault.method in (None, method):
                    fault.count -= 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
