"""The five calendars of the acceptance criteria, and a brute-force minute-by-minute reference deadline.

Each calendar is described by plain data (weekday -> periods as minutes of the day) so that the reference
does not share any code with review_watch.domain.business_time.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from review_watch.domain.business_time import BusinessCalendar

MINUTE = timedelta(minutes=1)

MinutePeriods = Mapping[int, tuple[tuple[int, int], ...]]
"""Weekday (0 = Monday) -> periods as (start, end) minutes of the day, end 1440 meaning 24:00."""


def hours(*spans: str) -> tuple[tuple[int, int], ...]:
    def minutes(text: str) -> int:
        h, m = text.split(":")
        return int(h) * 60 + int(m)

    return tuple((minutes(s.split("-")[0]), minutes(s.split("-")[1])) for s in spans)


@dataclass(frozen=True)
class CalendarSpec:
    name: str
    zone: str
    periods: MinutePeriods
    country: str | None = None
    extra_closed: frozenset[date] = frozenset()

    def closed_dates(self) -> Callable[[date], bool]:
        public = holidays.country_holidays(self.country) if self.country else {}

        def is_closed_date(day: date) -> bool:
            return day in self.extra_closed or day in public

        return is_closed_date

    def build(self) -> BusinessCalendar:
        def end(minute: int) -> time | None:
            return None if minute == 1440 else time(minute // 60, minute % 60)

        weekly = {day: tuple((time(s // 60, s % 60), end(e)) for s, e in spans)
                  for day, spans in self.periods.items()}
        return BusinessCalendar(self.name, ZoneInfo(self.zone), weekly, self.closed_dates())


WORKWEEK = (0, 1, 2, 3, 4)
SUN_THU = (6, 0, 1, 2, 3)

STOCKHOLM = CalendarSpec(
    "stockholm", "Europe/Stockholm",
    {**{d: hours("09:00-18:00") for d in (0, 1, 2, 3)}, 4: hours("09:00-17:00")},
    country="SE", extra_closed=frozenset({date(2026, 12, 24), date(2026, 12, 31)}))
JERUSALEM = CalendarSpec("jerusalem", "Asia/Jerusalem", {d: hours("08:30-17:30") for d in SUN_THU}, country="IL")
RIYADH = CalendarSpec("riyadh", "Asia/Riyadh", {d: hours("08:00-16:00") for d in SUN_THU}, country="SA")
MOSCOW = CalendarSpec("moscow", "Europe/Moscow", {d: hours("09:00-13:00", "14:00-18:00") for d in WORKWEEK},
                      country="RU")
# A 24-hour Sunday line, so that both US clock changes (Sundays, 02:00) fall inside open time.
NEW_YORK = CalendarSpec("new_york", "America/New_York",
                        {**{d: hours("09:00-17:00") for d in WORKWEEK}, 6: hours("00:00-24:00")}, country="US")

FIVE_CALENDARS = (STOCKHOLM, JERUSALEM, RIYADH, MOSCOW, NEW_YORK)


def reference_deadline(spec: CalendarSpec, arrival: datetime, sla_minutes: int,
                       closed: Callable[[date], bool] | None = None) -> datetime:
    """Walk minute by minute from a whole-minute arrival, counting the open minutes, until the SLA is used.

    A minute [t, t + 1 min) is open when the local wall-clock time at t lies inside one of that local
    weekday's periods and the local date is not closed. The deadline is the end of the last minute counted.
    """
    assert arrival.second == 0 and arrival.microsecond == 0 and sla_minutes > 0
    is_closed = closed or spec.closed_dates()
    zone = ZoneInfo(spec.zone)
    closed_cache: dict[date, bool] = {}
    instant = arrival.astimezone(UTC)
    counted = 0
    while True:
        local = instant.astimezone(zone)
        day = local.date()
        if day not in closed_cache:
            closed_cache[day] = is_closed(day)
        if not closed_cache[day]:
            minute = local.hour * 60 + local.minute
            if any(s <= minute < e for s, e in spec.periods.get(day.weekday(), ())):
                counted += 1
                if counted == sla_minutes:
                    return (instant + MINUTE).astimezone(zone)
        instant += MINUTE
