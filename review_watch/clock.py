"""Where time comes from. Everything that needs "now" takes a Clock, so tests can inject one."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)
