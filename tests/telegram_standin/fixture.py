"""Pytest fixture: a running stand-in and its control client (``pytest_plugins`` or import it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.telegram_standin.runner import ControlClient, StandInThread


@pytest.fixture
def telegram_standin() -> Iterator[ControlClient]:
    """A fresh stand-in on a free loopback port; ``.api_url``, ``.base_url``, ``.token`` and controls."""
    thread = StandInThread()
    client = thread.start()
    try:
        yield client
    finally:
        thread.stop()
