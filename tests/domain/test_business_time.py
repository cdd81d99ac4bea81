"""Table tests for business time: parsing, every calendar shape, holidays, clock changes, edges."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from review_watch.domain.business_time import (
    BusinessCalendar,
    BusinessDuration,
    business_seconds_between,
    deadline,
    default_business_day_hours,
    duration_seconds,
    is_open,
    next_opening,
    parse_duration,
    parse_hours_period,
    validate_periods,
)
from tests.domain.calendars import (
    JERUSALEM,
    MOSCOW,
    NEW_YORK,
    RIYADH,
    STOCKHOLM,
    CalendarSpec,
    hours,
)

HOUR = 3600
STOCKHOLM_ZONE = ZoneInfo("Europe/Stockholm")


@pytest.mark.parametrize(("text", "expected"), [
    ("09:00-18:00", (time(9), time(18))),
    ("9:30-13:00", (time(9, 30), time(13))),
    ("00:00-24:00", (time(0), None)),
    (" 14:00 - 18:15 ", (time(14), time(18, 15))),
])
def test_parse_hours_period(text: str, expected: tuple[time, time | None]) -> None:
    assert parse_hours_period(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("25:00-26:00", "hour must be 00..24"),
    ("09:60-10:00", "minute must be 00..59"),
    ("24:00-24:00", "24:00 is only allowed as an end"),
    ("09:00-24:30", "the latest time is 24:00"),
    ("18:00-09:00", "the start must be before the end"),
    ("09:00-09:00", "the start must be before the end"),
    ("09:00", "must look like 'HH:MM-HH:MM'"),
    ("nine to five", "must look like 'HH:MM-HH:MM'"),
])
def test_parse_hours_period_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hours_period(text)


def test_validate_periods() -> None:
    validate_periods("mon", [(time(14), time(18)), (time(9), time(13))])
    validate_periods("mon", [(time(9), time(13)), (time(13), None)])  # touching is not overlapping
    with pytest.raises(ValueError, match="hours for tue: periods 09:00-13:00 and 12:00-18:00 overlap"):
        validate_periods("tue", [(time(12), time(18)), (time(9), time(13))])
    with pytest.raises(ValueError, match="overlap"):
        validate_periods("sun", [(time(0), None), (time(9), time(10))])


def test_calendar_rejects_bad_weekly_hours() -> None:
    with pytest.raises(ValueError, match="overlap"):
        BusinessCalendar("x", STOCKHOLM_ZONE, {0: ((time(9), time(13)), (time(12), time(18)))})
    with pytest.raises(ValueError, match="weekday must be 0"):
        BusinessCalendar("x", STOCKHOLM_ZONE, {7: ((time(9), time(13)),)})


@pytest.mark.parametrize(("text", "expected"), [
    ("1 business day", BusinessDuration(1, "days")),
    ("2.5 business days", BusinessDuration(2.5, "days")),
    ("4 business hours", BusinessDuration(4, "hours")),
    ("1 Business Hour", BusinessDuration(1, "hours")),
    ("30 business minutes", BusinessDuration(30, "minutes")),
    ("90 business seconds", BusinessDuration(90, "seconds")),
])
def test_parse_duration(text: str, expected: BusinessDuration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("1 day", "must look like 'N business days"),
    ("one business day", "must look like"),
    ("3 business weeks", "must look like"),
    ("-1 business day", "must look like"),
    ("0 business hours", "greater than zero"),
])
def test_parse_duration_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


def test_duration_seconds() -> None:
    assert duration_seconds(BusinessDuration(1, "days"), 9) == 9 * HOUR
    assert duration_seconds(BusinessDuration(2.5, "days"), 8) == 20 * HOUR
    assert duration_seconds(BusinessDuration(4, "hours"), 9) == 4 * HOUR
    assert duration_seconds(BusinessDuration(30, "minutes"), 9) == 1800
    assert duration_seconds(BusinessDuration(7, "seconds"), 9) == 7
    with pytest.raises(ValueError, match="business_day_hours"):
        duration_seconds(BusinessDuration(1, "days"), 0)


@pytest.mark.parametrize(("spec", "hours_per_day"), [
    (STOCKHOLM, 9), (JERUSALEM, 9), (RIYADH, 8), (MOSCOW, 8), (NEW_YORK, 24)])
def test_default_business_day_hours(spec: CalendarSpec, hours_per_day: float) -> None:
    assert default_business_day_hours(spec.build()) == hours_per_day


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# (calendar, arrival, business seconds, expected deadline, what it shows)
DEADLINES = [
    # Stockholm: Mon-Thu 09-18, Fri 09-17, Sat-Sun weekend, SE holidays, 24 and 31 Dec closed.
    (STOCKHOLM, "2026-11-23T09:00:00+01:00", 9 * HOUR, "2026-11-23T18:00:00+01:00", "arrives at opening"),
    (STOCKHOLM, "2026-11-23T18:00:00+01:00", 9 * HOUR, "2026-11-24T18:00:00+01:00", "arrives at closing"),
    (STOCKHOLM, "2026-11-23T12:00:00+01:00", 6 * HOUR, "2026-11-23T18:00:00+01:00",
     "ends on a closing time, not the next opening"),
    (STOCKHOLM, "2026-11-27T16:00:00+01:00", 9 * HOUR, "2026-11-30T17:00:00+01:00", "Sat-Sun weekend"),
    (STOCKHOLM, "2026-11-28T11:00:00+01:00", 1800, "2026-11-30T09:30:00+01:00", "arrives on a weekend"),
    (STOCKHOLM, "2026-11-23T03:00:00Z", 9 * HOUR, "2026-11-23T18:00:00+01:00", "UTC arrival before opening"),
    (STOCKHOLM, "2026-11-23T13:00:00+05:00", HOUR, "2026-11-23T10:00:00+01:00", "arrival in +05:00"),
    (STOCKHOLM, "2026-11-22T20:30:00-08:00", HOUR, "2026-11-23T10:00:00+01:00", "arrival in -08:00"),
    (STOCKHOLM, "2026-12-23T12:00:00+01:00", 9 * HOUR, "2026-12-28T12:00:00+01:00",
     "extra closed 24 Dec, Christmas holidays, weekend"),
    (STOCKHOLM, "2026-04-02T17:00:00+02:00", 9 * HOUR, "2026-04-07T17:00:00+02:00", "Easter holidays"),
    (STOCKHOLM, "2026-03-27T16:30:00+01:00", 9 * HOUR, "2026-03-30T17:30:00+02:00", "spring clock change"),
    (STOCKHOLM, "2026-10-23T16:30:00+02:00", 9 * HOUR, "2026-10-26T17:30:00+01:00", "autumn clock change"),
    # Jerusalem: Sun-Thu 08:30-17:30, Fri-Sat weekend, IL holidays.
    (JERUSALEM, "2026-11-19T17:00:00+02:00", 9 * HOUR, "2026-11-22T17:00:00+02:00", "Fri-Sat weekend"),
    (JERUSALEM, "2026-09-10T12:00:00+03:00", 9 * HOUR, "2026-09-14T12:00:00+03:00", "Rosh Hashanah"),
    (JERUSALEM, "2026-03-26T16:30:00+02:00", 9 * HOUR, "2026-03-29T16:30:00+03:00",
     "clock change on a Friday"),
    # Riyadh: Sun-Thu 08-16, SA holidays.
    (RIYADH, "2026-11-19T15:00:00+03:00", 8 * HOUR, "2026-11-22T15:00:00+03:00", "Fri-Sat weekend"),
    (RIYADH, "2026-03-18T12:00:00+03:00", 8 * HOUR, "2026-03-25T12:00:00+03:00", "Eid al-Fitr"),
    (RIYADH, "2026-11-22T08:00:00+03:00", 8 * HOUR, "2026-11-22T16:00:00+03:00", "opening to closing"),
    # Moscow: Mon-Fri 09-13 and 14-18, RU holidays.
    (MOSCOW, "2026-11-23T12:00:00+03:00", HOUR, "2026-11-23T13:00:00+03:00", "lunch break's closing time"),
    (MOSCOW, "2026-11-23T12:30:00+03:00", HOUR, "2026-11-23T14:30:00+03:00", "across the lunch break"),
    (MOSCOW, "2026-11-23T13:30:00+03:00", HOUR, "2026-11-23T15:00:00+03:00", "arrives during lunch"),
    (MOSCOW, "2026-11-23T13:00:00+03:00", 1800, "2026-11-23T14:30:00+03:00", "arrives as lunch begins"),
    (MOSCOW, "2026-11-23T10:00:00+03:00", 8 * HOUR, "2026-11-24T10:00:00+03:00", "one split business day"),
    (MOSCOW, "2026-11-03T17:00:00+03:00", 8 * HOUR, "2026-11-05T17:00:00+03:00", "Unity Day"),
    (MOSCOW, "2026-12-30T17:00:00+03:00", 8 * HOUR, "2027-01-11T17:00:00+03:00", "New Year holidays"),
    # New York: Mon-Fri 09-17 and a 24-hour Sunday line, US holidays.
    (NEW_YORK, "2026-03-07T12:00:00-05:00", 24 * HOUR, "2026-03-09T10:00:00-04:00",
     "a 00:00-24:00 day lasts 23 hours in spring"),
    (NEW_YORK, "2026-10-31T12:00:00-04:00", 24 * HOUR, "2026-11-01T23:00:00-05:00",
     "a 00:00-24:00 day lasts 25 hours in autumn"),
    (NEW_YORK, "2026-11-22T22:00:00-05:00", 2 * HOUR, "2026-11-23T00:00:00-05:00", "24:00 as a closing time"),
    (NEW_YORK, "2026-11-22T23:00:00-05:00", 2 * HOUR, "2026-11-23T10:00:00-05:00", "past 24:00"),
    (NEW_YORK, "2026-11-25T16:00:00-05:00", 8 * HOUR, "2026-11-27T16:00:00-05:00", "Thanksgiving"),
    (NEW_YORK, "2026-11-23T10:00:00-05:00", 0, "2026-11-23T10:00:00-05:00", "zero business time"),
]


@pytest.mark.parametrize(("spec", "arrival", "seconds", "expected", "what"), DEADLINES,
                         ids=[f"{row[0].name}: {row[4]}" for row in DEADLINES])
def test_deadline(spec: CalendarSpec, arrival: str, seconds: float, expected: str, what: str) -> None:
    calendar = spec.build()
    got = deadline(calendar, _at(arrival), seconds)
    assert got.isoformat() == expected
    assert business_seconds_between(calendar, _at(arrival), got) == seconds


def _all_week(*spans: str) -> CalendarSpec:
    return CalendarSpec("all-week", "Europe/Stockholm", {d: hours(*spans) for d in range(7)})


def test_open_all_day_follows_real_time_across_clock_changes() -> None:
    calendar = _all_week("00:00-24:00").build()
    assert deadline(calendar, _at("2026-03-29T00:00:00+01:00"), 24 * HOUR).isoformat() == \
        "2026-03-30T01:00:00+02:00"
    assert deadline(calendar, _at("2026-10-25T00:00:00+02:00"), 24 * HOUR).isoformat() == \
        "2026-10-25T23:00:00+01:00"
    assert business_seconds_between(calendar, _at("2026-10-25T00:00:00+02:00"),
                                    _at("2026-10-26T00:00:00+01:00")) == 25 * HOUR


def test_a_period_starting_in_the_spring_gap_opens_when_the_clocks_jump() -> None:
    # 02:30 does not exist on 29 March 2026 in Stockholm: 02:00 CET becomes 03:00 CEST.
    calendar = CalendarSpec("gap", "Europe/Stockholm", {6: hours("02:30-04:00")}).build()
    assert next_opening(calendar, _at("2026-03-29T00:00:00+01:00")).isoformat() == "2026-03-29T03:00:00+02:00"
    assert business_seconds_between(calendar, _at("2026-03-28T00:00:00+01:00"),
                                    _at("2026-03-30T00:00:00+02:00")) == HOUR


def test_a_period_inside_the_repeated_autumn_hour_counts_twice() -> None:
    # New York repeats 01:00-02:00 on 1 November 2026.
    calendar = CalendarSpec("fold", "America/New_York", {6: hours("01:00-02:00")}).build()
    start = _at("2026-11-01T00:00:00-04:00")
    assert business_seconds_between(calendar, start, _at("2026-11-01T05:00:00-05:00")) == 2 * HOUR
    assert deadline(calendar, start, 1.5 * HOUR).isoformat() == "2026-11-01T01:30:00-05:00"


def test_touching_periods_and_days_run_on() -> None:
    calendar = CalendarSpec("night", "Europe/Stockholm",
                            {0: hours("16:00-24:00"), 1: hours("00:00-08:00", "08:00-10:00")}).build()
    assert deadline(calendar, _at("2026-11-23T23:00:00+01:00"), 2 * HOUR).isoformat() == \
        "2026-11-24T01:00:00+01:00"
    assert deadline(calendar, _at("2026-11-23T16:00:00+01:00"), 18 * HOUR).isoformat() == \
        "2026-11-24T10:00:00+01:00"


def test_is_open_and_next_opening_at_the_edges() -> None:
    calendar = MOSCOW.build()
    assert is_open(calendar, _at("2026-11-23T09:00:00+03:00"))
    assert is_open(calendar, _at("2026-11-23T12:59:59+03:00"))
    assert not is_open(calendar, _at("2026-11-23T13:00:00+03:00"))
    assert is_open(calendar, _at("2026-11-23T11:00:00Z"))  # 14:00 in Moscow
    assert not is_open(calendar, _at("2026-11-04T10:00:00+03:00"))  # Unity Day
    assert next_opening(calendar, _at("2026-11-23T13:10:00+03:00")).isoformat() == "2026-11-23T14:00:00+03:00"
    assert next_opening(calendar, _at("2026-11-23T10:00:00Z")) == _at("2026-11-23T11:00:00Z")
    assert next_opening(calendar, _at("2026-11-23T09:30:00+03:00")).isoformat() == "2026-11-23T09:30:00+03:00"
    assert next_opening(calendar, _at("2026-11-27T18:00:00+03:00")).isoformat() == "2026-11-30T09:00:00+03:00"


def test_business_seconds_between() -> None:
    calendar = STOCKHOLM.build()
    friday, monday = _at("2026-11-27T16:00:00+01:00"), _at("2026-11-30T10:00:00+01:00")
    assert business_seconds_between(calendar, friday, monday) == 2 * HOUR
    assert business_seconds_between(calendar, monday, friday) == -2 * HOUR
    assert business_seconds_between(calendar, friday, friday) == 0


def test_holidays_are_injected() -> None:
    spec = CalendarSpec("plain", "Europe/Stockholm", STOCKHOLM.periods)
    christmas_eve = _at("2026-12-24T10:00:00+01:00")
    assert is_open(spec.build(), christmas_eve)
    assert not is_open(STOCKHOLM.build(), christmas_eve)


@pytest.mark.parametrize("arrival", ["2026-11-23T09:00:00", "2026-11-23T09:00:00+01:00"])
def test_bad_inputs(arrival: str) -> None:
    calendar = STOCKHOLM.build()
    if "+" not in arrival:
        with pytest.raises(ValueError, match="must carry a UTC offset"):
            deadline(calendar, _at(arrival), HOUR)
    else:
        with pytest.raises(ValueError, match="must not be negative"):
            deadline(calendar, _at(arrival), -1)


def test_calendars_without_open_time_are_refused_not_searched_forever() -> None:
    arrival = _at("2026-11-23T09:00:00+01:00")
    empty = BusinessCalendar("empty", STOCKHOLM_ZONE, {})
    with pytest.raises(ValueError, match="calendar 'empty' has no open hours"):
        deadline(empty, arrival, HOUR)
    with pytest.raises(ValueError, match="has no open hours"):
        default_business_day_hours(empty)
    always_closed = BusinessCalendar("closed", STOCKHOLM_ZONE, STOCKHOLM.build().weekly_hours,
                                     lambda day: True)
    with pytest.raises(ValueError, match="calendar 'closed' has no open hours in the 366 days after"):
        deadline(always_closed, arrival, HOUR)
    assert business_seconds_between(always_closed, arrival, arrival + timedelta(days=30)) == 0
    assert not is_open(always_closed, arrival)


def test_long_closures_are_stepped_over_not_walked() -> None:
    lookups: list[date] = []
    reopening = date(2027, 6, 1)

    def closed_until_june(day: date) -> bool:
        lookups.append(day)
        return day < reopening

    calendar = BusinessCalendar("closed", STOCKHOLM_ZONE, STOCKHOLM.build().weekly_hours, closed_until_june)
    assert deadline(calendar, _at("2026-11-23T09:00:00+01:00"), HOUR).isoformat() == "2027-06-01T10:00:00+02:00"
    # Minute by minute would be some 270,000 steps; by open periods it is a few thousand date checks.
    assert len(lookups) < 10_000


def test_many_business_days_stay_cheap() -> None:
    lookups: list[date] = []
    closed = STOCKHOLM.closed_dates()

    def counting(day: date) -> bool:
        lookups.append(day)
        return closed(day)

    calendar = BusinessCalendar("sto", STOCKHOLM_ZONE, STOCKHOLM.build().weekly_hours, counting)
    arrival = _at("2026-01-05T09:00:00+01:00")
    due = deadline(calendar, arrival, 200 * 9 * HOUR)
    assert business_seconds_between(STOCKHOLM.build(), arrival, due) == 200 * 9 * HOUR
    assert len(lookups) < 2_000
