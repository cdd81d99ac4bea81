"""When digests fall due: local wall-clock time on the reader's calendar, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from review_watch.domain.digest_schedule import (
    DigestKind,
    DigestSchedule,
    due_period,
    latest_slot,
    local_instant,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")  # clocks forward 2026-03-29 02:00, back 2026-10-25 03:00
NEW_YORK = ZoneInfo("America/New_York")  # forward 2026-03-08 02:00
DAILY = DigestSchedule(DigestKind.DAILY, time(9, 0))
HOUR = timedelta(hours=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_nine_oclock_local_is_a_different_utc_hour_after_the_change() -> None:
    assert local_instant(date(2026, 3, 28), time(9), STOCKHOLM) == utc(2026, 3, 28, 8)
    assert local_instant(date(2026, 3, 29), time(9), STOCKHOLM) == utc(2026, 3, 29, 7)
    assert local_instant(date(2026, 10, 25), time(9), STOCKHOLM) == utc(2026, 10, 25, 8)


def test_a_time_in_the_gap_is_when_the_clocks_jump_and_a_repeated_time_its_first() -> None:
    assert local_instant(date(2026, 3, 29), time(2, 30), STOCKHOLM) == utc(2026, 3, 29, 1)
    assert local_instant(date(2026, 3, 8), time(2, 15), NEW_YORK) == utc(2026, 3, 8, 7)
    assert local_instant(date(2026, 10, 25), time(2, 30), STOCKHOLM) == utc(2026, 10, 25, 0, 30)


def test_daily_digest_across_spring_forward_covers_23_hours() -> None:
    before = due_period(DAILY, STOCKHOLM, utc(2026, 3, 28, 8, 0, 5), catch_up=HOUR)
    assert before is not None and before.end == utc(2026, 3, 28, 8) and before.local_day == date(2026, 3, 28)
    assert due_period(DAILY, STOCKHOLM, utc(2026, 3, 29, 6, 59), catch_up=HOUR) is None  # 07:59 CEST: not yet
    after = due_period(DAILY, STOCKHOLM, utc(2026, 3, 29, 7, 0), catch_up=HOUR)
    assert after is not None and after.start == utc(2026, 3, 28, 8) and after.end == utc(2026, 3, 29, 7)
    assert after.end - after.start == timedelta(hours=23)


def test_daily_digest_across_fall_back_covers_25_hours() -> None:
    period = due_period(DAILY, STOCKHOLM, utc(2026, 10, 25, 8, 30), catch_up=HOUR)
    assert period is not None and period.end - period.start == timedelta(hours=25)


def test_a_stale_slot_is_not_due() -> None:
    assert due_period(DAILY, STOCKHOLM, utc(2026, 6, 1, 7, 59), catch_up=HOUR) is not None  # 09:59 CEST
    assert due_period(DAILY, STOCKHOLM, utc(2026, 6, 1, 8, 1), catch_up=HOUR) is None


def test_weekly_digest_on_its_weekday() -> None:
    weekly = DigestSchedule(DigestKind.WEEKLY, time(8, 30), weekday=0)
    day, instant = latest_slot(weekly, STOCKHOLM, utc(2026, 6, 4, 12))  # a Thursday
    assert day == date(2026, 6, 1) and instant == utc(2026, 6, 1, 6, 30)
    period = due_period(weekly, STOCKHOLM, utc(2026, 3, 30, 6, 31), catch_up=HOUR)  # Monday after the change
    assert period is not None and period.start == utc(2026, 3, 23, 7, 30)
    assert period.end - period.start == timedelta(days=7) - HOUR


def test_a_bad_weekday_is_refused() -> None:
    with pytest.raises(ValueError):
        DigestSchedule(DigestKind.WEEKLY, time(9), weekday=7)
