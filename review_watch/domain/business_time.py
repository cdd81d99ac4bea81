"""Business time: open hours of a calendar, SLA durations and response deadlines.

Business time runs only while the calendar is open: the local wall-clock time, in the calendar's zone,
lies inside one of the day's periods and the local date is not closed. It is real elapsed time, so an open
00:00-24:00 day lasts 23 or 25 hours when the clocks change, and a period whose start falls into a
spring-forward gap opens at the moment the clocks jump.
"""

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Literal, cast, get_args
from zoneinfo import ZoneInfo

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Period = tuple[time, time | None]
"""Open from the start up to (not including) the end; an end of None means 24:00."""

DurationUnit = Literal["days", "hours", "minutes", "seconds"]

# Calendars with no open hour in this many consecutive days are rejected instead of searched forever.
MAX_CLOSED_DAYS = 366
# Spans longer than this are checked again for clock changes, so that two changes inside one span
# (a long closure across a whole summer) are not missed.
_OFFSET_PROBE = timedelta(days=7)
_SECOND = timedelta(seconds=1)


def _never_closed(_: date) -> bool:
    return False


@dataclass(frozen=True, eq=False)
class BusinessCalendar:
    name: str
    timezone: ZoneInfo
    weekly_hours: Mapping[int, tuple[Period, ...]]
    """Weekday (0 = Monday) to its open periods; weekdays left out are closed."""
    is_closed_date: Callable[[date], bool] = field(default=_never_closed)
    """Holidays and extra closed dates, as a predicate on local dates."""

    def __post_init__(self) -> None:
        normalized: dict[int, tuple[Period, ...]] = {}
        for weekday, periods in self.weekly_hours.items():
            if weekday not in range(7):
                raise ValueError(f"calendar {self.name!r}: weekday must be 0 (Monday) .. 6, not {weekday!r}")
            validate_periods(WEEKDAY_NAMES[weekday], periods)
            if periods:
                normalized[weekday] = tuple(sorted(periods, key=lambda p: p[0]))
        object.__setattr__(self, "weekly_hours", MappingProxyType(normalized))


def _format_time(value: time | None) -> str:
    return "24:00" if value is None else value.strftime("%H:%M")


def _format_period(period: Period) -> str:
    return f"{_format_time(period[0])}-{_format_time(period[1])}"


_PERIOD = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


def _clock_time(text: str, hour: int, minute: int, *, is_end: bool) -> time | None:
    if not 0 <= hour <= 24:
        raise ValueError(f"hours period {text!r}: hour must be 00..24")
    if not 0 <= minute <= 59:
        raise ValueError(f"hours period {text!r}: minute must be 00..59")
    if hour == 24:
        if minute != 0:
            raise ValueError(f"hours period {text!r}: the latest time is 24:00")
        if not is_end:
            raise ValueError(f"hours period {text!r}: 24:00 is only allowed as an end")
        return None
    return time(hour, minute)


def parse_hours_period(text: str) -> Period:
    """Parse "HH:MM-HH:MM" (24:00 allowed as the end) into a period."""
    match = _PERIOD.fullmatch(text)
    if match is None:
        raise ValueError(f"hours period {text!r} must look like 'HH:MM-HH:MM', e.g. '09:00-18:00'")
    start_h, start_m, end_h, end_m = (int(g) for g in match.groups())
    start = _clock_time(text, start_h, start_m, is_end=False)
    end = _clock_time(text, end_h, end_m, is_end=True)
    assert start is not None
    if end is not None and end <= start:
        raise ValueError(f"hours period {text!r}: the start must be before the end")
    return start, end


def validate_periods(day: str, periods: Sequence[Period]) -> None:
    """Reject empty or reversed periods and periods of one day that overlap (touching is fine)."""
    for start, end in periods:
        if end is not None and end <= start:
            raise ValueError(f"hours for {day}: period {_format_period((start, end))} ends before it starts")
    ordered = sorted(periods, key=lambda p: p[0])
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if earlier[1] is None or earlier[1] > later[0]:
            raise ValueError(
                f"hours for {day}: periods {_format_period(earlier)} and {_format_period(later)} overlap")


def _nominal_length(period: Period) -> timedelta:
    start, end = period
    end_of_day = timedelta(hours=24) if end is None else timedelta(hours=end.hour, minutes=end.minute)
    return end_of_day - timedelta(hours=start.hour, minutes=start.minute)


def default_business_day_hours(calendar: BusinessCalendar) -> float:
    """The largest total open time of any weekday, in hours (09-13 + 14-18 gives 8)."""
    totals = [sum((_nominal_length(p) for p in periods), timedelta()) for periods in
              calendar.weekly_hours.values()]
    if not totals:
        raise ValueError(f"calendar {calendar.name!r} has no open hours")
    return max(totals) / timedelta(hours=1)


@dataclass(frozen=True)
class BusinessDuration:
    amount: float
    unit: DurationUnit


_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s+business\s+(day|hour|minute|second)s?\s*", re.IGNORECASE)


def parse_duration(text: str) -> BusinessDuration:
    """Parse "1 business day", "4 business hours", "2.5 business days", "30 business minutes"."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"duration {text!r} must look like 'N business days|hours|minutes|seconds', "
                         "e.g. '1 business day'")
    amount = float(match.group(1))
    if amount <= 0:
        raise ValueError(f"duration {text!r} must be greater than zero")
    unit = match.group(2).lower() + "s"
    assert unit in get_args(DurationUnit)
    return BusinessDuration(amount, cast(DurationUnit, unit))


_UNIT_SECONDS = {"hours": 3600.0, "minutes": 60.0, "seconds": 1.0}


def duration_seconds(duration: BusinessDuration, business_day_hours: float) -> float:
    """Business seconds in a duration; one business day is worth `business_day_hours` hours."""
    if duration.unit == "days":
        if not business_day_hours > 0:
            raise ValueError(f"business_day_hours must be greater than zero, not {business_day_hours}")
        return duration.amount * business_day_hours * 3600.0
    return duration.amount * _UNIT_SECONDS[duration.unit]


def _require_aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} {value.isoformat()} must carry a UTC offset")
    return value.astimezone(UTC)


def _offset(calendar: BusinessCalendar, instant: datetime) -> timedelta:
    offset = instant.astimezone(calendar.timezone).utcoffset()
    assert offset is not None
    return offset


def _wall(instant: datetime, offset: timedelta) -> datetime:
    """The naive local wall-clock time of a UTC instant under the given offset."""
    return instant.replace(tzinfo=None) + offset


def _instant(wall: datetime, offset: timedelta) -> datetime:
    return (wall - offset).replace(tzinfo=UTC)


def _period_end(calendar: BusinessCalendar, wall: datetime) -> datetime | None:
    """The wall-clock end of the open period that contains `wall`, or None when closed then."""
    day = wall.date()
    periods = calendar.weekly_hours.get(day.weekday())
    if not periods or calendar.is_closed_date(day):
        return None
    now = wall.time()
    for start, end in periods:
        if start <= now and (end is None or now < end):
            day_start = datetime.combine(day, time())
            return day_start + (timedelta(days=1) if end is None else
                                timedelta(hours=end.hour, minutes=end.minute))
    return None


def _next_period_start(calendar: BusinessCalendar, wall: datetime, last_day: date) -> datetime | None:
    """The first wall-clock period start after `wall` on a day up to `last_day`, or None."""
    day = wall.date()
    while day <= last_day:
        periods = calendar.weekly_hours.get(day.weekday())
        if periods and not calendar.is_closed_date(day):
            for start, _ in periods:
                candidate = datetime.combine(day, start)
                if candidate > wall:
                    return candidate
        day += timedelta(days=1)
    return None


def _first_offset_change(calendar: BusinessCalendar, start: datetime, end: datetime) -> datetime | None:
    """The first instant in (start, end] where the zone's offset differs from the offset at `start`."""
    offset = _offset(calendar, start)
    if _offset(calendar, end) == offset:
        return None
    # Offsets change on whole seconds; bisect on them.
    low = start.replace(microsecond=0)
    high = end.replace(microsecond=0) + (_SECOND if end.microsecond else timedelta())
    while high - low > _SECOND:
        middle = low + ((high - low) // 2 // _SECOND) * _SECOND
        if _offset(calendar, middle) == offset:
            low = middle
        else:
            high = middle
    return high


def _open_spans(calendar: BusinessCalendar, start: datetime, until: datetime | None = None
                ) -> Iterator[tuple[datetime, datetime]]:
    """Open spans [a, b) in UTC, in order, from `start` (a UTC instant) on; stops after `until` if given.

    Consecutive spans may touch. Raises ValueError when the calendar has no open hours, or none within
    MAX_CLOSED_DAYS of some point before `until`.
    """
    if not calendar.weekly_hours:
        raise ValueError(f"calendar {calendar.name!r} has no open hours")
    instant = start
    while until is None or instant < until:
        offset = _offset(calendar, instant)
        wall = _wall(instant, offset)
        end = _period_end(calendar, wall)
        if end is not None:
            boundary = end
        else:
            last_day = wall.date() + timedelta(days=MAX_CLOSED_DAYS)
            if until is not None:
                last_day = min(last_day, (until + timedelta(days=2)).date())
            found = _next_period_start(calendar, wall, last_day)
            if found is None:
                if until is not None and last_day < wall.date() + timedelta(days=MAX_CLOSED_DAYS):
                    return
                raise ValueError(f"calendar {calendar.name!r} has no open hours in the "
                                 f"{MAX_CLOSED_DAYS} days after {wall.date().isoformat()}")
            boundary = found
        step_end = min(_instant(boundary, offset), instant + _OFFSET_PROBE)
        change = _first_offset_change(calendar, instant, step_end)
        if change is not None:
            step_end = change
        if end is not None:
            yield instant, step_end
        instant = step_end


def _business_delta(seconds: float) -> timedelta:
    if seconds < 0:
        raise ValueError(f"business time must not be negative, not {seconds}")
    return timedelta(seconds=seconds)


def deadline(calendar: BusinessCalendar, arrival: datetime, business_seconds: float) -> datetime:
    """The first instant at which `business_seconds` of business time have elapsed since `arrival`.

    An arrival while closed starts the clock at the next opening; a deadline that falls on a closing
    time stays that closing time. Zero business time gives the arrival itself. The result is in the
    calendar's zone.
    """
    remaining = _business_delta(business_seconds)
    start = _require_aware(arrival, "arrival")
    if not remaining:
        return start.astimezone(calendar.timezone)
    for span_start, span_end in _open_spans(calendar, start):
        length = span_end - span_start
        if remaining <= length:
            return (span_start + remaining).astimezone(calendar.timezone)
        remaining -= length
    raise AssertionError("open spans never end")


def business_seconds_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Business time from `start` to `end` in seconds; negative when `end` is before `start`."""
    begin = _require_aware(start, "start")
    finish = _require_aware(end, "end")
    if finish < begin:
        return -business_seconds_between(calendar, end, start)
    total = timedelta()
    for span_start, span_end in _open_spans(calendar, begin, until=finish):
        total += min(span_end, finish) - span_start
    return total.total_seconds()


def is_open(calendar: BusinessCalendar, at: datetime) -> bool:
    """Whether business time runs at this instant."""
    instant = _require_aware(at, "instant")
    return _period_end(calendar, _wall(instant, _offset(calendar, instant))) is not None


def next_opening(calendar: BusinessCalendar, at: datetime) -> datetime:
    """`at` itself when the calendar is open then, else the instant it next opens (in its zone)."""
    instant = _require_aware(at, "instant")
    for span_start, _ in _open_spans(calendar, instant):
        return span_start.astimezone(calendar.timezone)
    raise AssertionError("open spans never end")
