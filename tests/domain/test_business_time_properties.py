"""Properties of deadline() on random calendars, zones with odd clock changes, and arrivals in any offset."""

from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from review_watch.domain.business_time import business_seconds_between, deadline, is_open
from tests.domain.calendars import CalendarSpec, reference_deadline

# Zones whose clocks change at midnight, by half an hour, or at odd offsets, besides the usual ones.
ZONES = ["Europe/Stockholm", "America/New_York", "Asia/Jerusalem", "Europe/Moscow", "Asia/Riyadh",
         "Australia/Lord_Howe", "America/Santiago", "America/Havana", "Pacific/Chatham", "Asia/Kolkata",
         "America/St_Johns", "Africa/Casablanca"]
MICROSECOND = timedelta(microseconds=1)


@st.composite
def day_periods(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    cuts = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    return tuple((cuts[i] * 15, cuts[i + 1] * 15) for i in range(0, len(cuts), 2))


@st.composite
def calendars(draw: st.DrawFn) -> CalendarSpec:
    weekly = {day: draw(day_periods()) for day in range(7)}
    weekly = {day: spans for day, spans in weekly.items() if spans}
    if not weekly:
        weekly = {draw(st.integers(0, 6)): ((9 * 60, 17 * 60),)}
    closed = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=40))
    return CalendarSpec("random", draw(st.sampled_from(ZONES)), weekly, extra_closed=closed)


offsets = st.integers(-12 * 4, 14 * 4).map(lambda quarters: timezone(timedelta(minutes=15 * quarters)))


@cache
def clock_changes(zone: str) -> tuple[datetime, ...]:
    """The instants in 2026 (to the hour) around which the zone's offset changes."""
    tz = ZoneInfo(zone)
    hours = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(366 * 24)]
    return tuple(b for a, b in zip(hours, hours[1:], strict=False) if a.astimezone(tz).utcoffset()
                 != b.astimezone(tz).utcoffset())


def arrivals(spec: CalendarSpec) -> st.SearchStrategy[datetime]:
    """Any instant, or one in the days just before and after a clock change of the calendar's zone."""
    anywhere = st.datetimes(datetime(2025, 12, 1), datetime(2027, 1, 31)).map(lambda d: d.replace(tzinfo=UTC))
    changes = clock_changes(spec.zone)
    if not changes:
        return anywhere
    near = st.tuples(st.sampled_from(changes), st.integers(-3 * 86400 * 10**6, 86400 * 10**6)).map(
        lambda pair: pair[0] + timedelta(microseconds=pair[1]))
    return st.one_of(anywhere, near)


calendars_and_arrivals = calendars().flatmap(lambda spec: st.tuples(st.just(spec), arrivals(spec)))


@settings(max_examples=300, deadline=None)
@given(calendars_and_arrivals, offsets, st.integers(1, 4 * 86400))
def test_deadline_is_open_or_a_closing_instant_and_uses_exactly_the_sla(
        spec_and_instant: tuple[CalendarSpec, datetime], offset: timezone, seconds: int) -> None:
    spec, instant = spec_and_instant
    calendar = spec.build()
    arrival = instant.astimezone(offset)
    due = deadline(calendar, arrival, seconds)
    assert due > arrival
    assert due.utcoffset() == due.astimezone(calendar.timezone).utcoffset()
    assert is_open(calendar, due) or is_open(calendar, due - MICROSECOND), "deadline inside closed time"
    assert business_seconds_between(calendar, arrival, due) == seconds
    assert business_seconds_between(calendar, arrival, due - MICROSECOND) < seconds


@settings(max_examples=60, deadline=None)
@given(calendars_and_arrivals, offsets, st.integers(1, 600))
def test_deadline_agrees_with_the_reference_on_random_calendars(
        spec_and_instant: tuple[CalendarSpec, datetime], offset: timezone, minutes: int) -> None:
    spec, instant = spec_and_instant
    arrival = instant.replace(second=0, microsecond=0).astimezone(offset)
    assert deadline(spec.build(), arrival, minutes * 60) == reference_deadline(spec, arrival, minutes)
