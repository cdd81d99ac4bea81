"""When a digest is due: daily, or weekly on a weekday, at a local time on the reader's calendar.

The local time is wall-clock time in the reader's zone, so 08:30 stays 08:30 across a daylight-saving change.
A time that does not exist on the day (inside a spring-forward gap) is the moment the clocks jump; a time that
happens twice (autumn) is its first occurrence. A digest covers the period from the slot before to its own
slot, so a day's digest covers 23 or 25 hours across a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class DigestKind(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True)
class DigestSchedule:
    kind: DigestKind
    at: time  # local wall-clock time
    weekday: int = 0  # weekly digests: 0 = Monday

    def __post_init__(self) -> None:
        if self.weekday not in range(7):
            raise ValueError(f"weekday must be 0 (Monday) .. 6, not {self.weekday!r}")


@dataclass(frozen=True)
class DigestPeriod:
    kind: DigestKind
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive: the slot itself
    local_day: date  # the slot's local date, which names the digest


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local date (a gap: when the clocks jump; twice: the first)."""
    wall = datetime.combine(day, at)
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # Inside a gap: fold=1 reads the wall time with the offset after the jump, which lands before the jump.
    low = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    before_offset = datetime.fromtimestamp(low, zone).utcoffset()
    high = int(instant.timestamp())
    while high - low > 1:  # the jump is the first second with the new offset
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == before_offset:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _slot_days(schedule: DigestSchedule, latest: date) -> date:
    """The latest day on or before `latest` that has a slot."""
    if schedule.kind is DigestKind.DAILY:
        return latest
    return latest - timedelta(days=(latest.weekday() - schedule.weekday) % 7)


def _step(schedule: DigestSchedule) -> timedelta:
    return timedelta(days=1 if schedule.kind is DigestKind.DAILY else 7)


def latest_slot(schedule: DigestSchedule, zone: ZoneInfo, now: datetime) -> tuple[date, datetime]:
    """The local date and UTC instant of the most recent slot at or before `now`."""
    day = _slot_days(schedule, now.astimezone(zone).date())
    instant = local_instant(day, schedule.at, zone)
    if instant > now:
        day -= _step(schedule)
        instant = local_instant(day, schedule.at, zone)
    return day, instant


def due_period(schedule: DigestSchedule, zone: ZoneInfo, now: datetime, catch_up: timedelta) -> DigestPeriod | None:
    """The digest due now: the latest slot, if it is at most `catch_up` old (a bot that was down does not send
    a stale digest); its period runs from the slot before."""
    day, end = latest_slot(schedule, zone, now)
    if now - end > catch_up:
        return None
    previous = day - _step(schedule)
    return DigestPeriod(schedule.kind, local_instant(previous, schedule.at, zone), end, day)
