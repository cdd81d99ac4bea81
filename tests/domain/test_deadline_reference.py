"""deadline() agrees with the brute-force minute-by-minute reference on generated arrivals."""

import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from review_watch.domain.business_time import business_seconds_between, deadline, default_business_day_hours
from tests.domain.calendars import FIVE_CALENDARS, CalendarSpec, reference_deadline

CASES_PER_CALENDAR = 110
CLOCK_CHANGES = {
    "stockholm": [date(2026, 3, 29), date(2026, 10, 25)],
    "jerusalem": [date(2026, 3, 27), date(2026, 10, 25)],
    "new_york": [date(2026, 3, 8), date(2026, 11, 1)],
}
# Offsets the arrival is written in: the same instant, any way the source happens to spell it.
ARRIVAL_OFFSETS = [timedelta(hours=h) for h in range(-12, 15)] + [timedelta(hours=5, minutes=30),
                                                                   timedelta(hours=5, minutes=45),
                                                                   timedelta(hours=-3, minutes=-30)]


def _holidays(spec: CalendarSpec) -> list[date]:
    is_closed = spec.closed_dates()
    start = date(2026, 1, 1)
    return [start + timedelta(days=i) for i in range(365) if is_closed(start + timedelta(days=i))]


def _generated_cases() -> list[tuple[CalendarSpec, datetime, int]]:
    rng = random.Random(20261122)
    cases = []
    for spec in FIVE_CALENDARS:
        day_minutes = round(default_business_day_hours(spec.build()) * 60)
        slas = [day_minutes, day_minutes, 4 * 60, 30, 1, day_minutes * 5 // 2, 3 * day_minutes, 24 * 60]
        near = _holidays(spec) + CLOCK_CHANGES.get(spec.name, [])
        boundaries = sorted({m for spans in spec.periods.values() for span in spans for m in span} - {1440})
        for i in range(CASES_PER_CALENDAR):
            if i % 3 == 0:
                day = rng.choice(near) + timedelta(days=rng.randint(-2, 1))
            elif i % 3 == 1 and spec.name in CLOCK_CHANGES:
                day = rng.choice(CLOCK_CHANGES[spec.name]) + timedelta(days=rng.randint(-1, 0))
            else:
                day = date(2026, 1, 1) + timedelta(days=rng.randint(0, 364))
            minute = rng.choice(boundaries) if i % 4 == 0 else rng.randint(0, 1439)
            local = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
            arrival = local.replace(tzinfo=ZoneInfo(spec.zone)).astimezone(timezone(rng.choice(ARRIVAL_OFFSETS)))
            cases.append((spec, arrival, rng.choice(slas)))
    return cases


CASES = _generated_cases()


def test_enough_cases_over_five_calendars_with_holidays_and_clock_changes() -> None:
    assert len(CASES) >= 500
    assert {spec.name for spec, _, _ in CASES} == {"stockholm", "jerusalem", "riyadh", "moscow", "new_york"}
    for spec in FIVE_CALENDARS:
        is_closed = spec.closed_dates()
        arrivals = [a for s, a, _ in CASES if s is spec]
        zone = ZoneInfo(spec.zone)
        assert sum(is_closed(a.astimezone(zone).date()) for a in arrivals) >= 5, spec.name
    changes = {d for days in CLOCK_CHANGES.values() for d in days}
    assert sum(a.astimezone(ZoneInfo(s.zone)).date() in changes for s, a, _ in CASES) >= 30


def test_deadline_agrees_with_minute_by_minute_reference() -> None:
    built = {spec.name: spec.build() for spec in FIVE_CALENDARS}
    disagreements = []
    for spec, arrival, sla_minutes in CASES:
        calendar = built[spec.name]
        expected = reference_deadline(spec, arrival, sla_minutes)
        got = deadline(calendar, arrival, sla_minutes * 60)
        if got != expected or got.utcoffset() != expected.utcoffset():
            disagreements.append(f"{spec.name} {arrival.isoformat()} +{sla_minutes}min: "
                                 f"{got.isoformat()} != {expected.isoformat()}")
        elif business_seconds_between(calendar, arrival, got) != sla_minutes * 60:
            disagreements.append(f"{spec.name} {arrival.isoformat()}: elapsed business time is not the SLA")
    assert not disagreements, "\n".join(disagreements[:20])


@pytest.mark.parametrize("spec", FIVE_CALENDARS, ids=lambda s: s.name)
def test_reference_counts_a_closing_time_as_the_deadline(spec: CalendarSpec) -> None:
    """Guards the reference itself: a whole open period used up ends at that period's closing time."""
    start, end = spec.periods[2][0]  # every calendar is open on Wednesdays
    day = date(2026, 6, 17)
    zone = ZoneInfo(spec.zone)
    arrival = datetime(2026, 6, 17, start // 60, start % 60, tzinfo=zone)
    assert spec.closed_dates()(day) is False
    expected_end = datetime(2026, 6, 17, tzinfo=zone) + timedelta(minutes=end)
    assert reference_deadline(spec, arrival, end - start) == expected_end
