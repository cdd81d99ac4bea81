"""Per-person figures in business hours, checked against figures worked out by hand on the Stockholm calendar
(Mon-Thu 09-18, Fri 09-17)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from review_watch.domain.team_figures import (
    UNASSIGNED,
    AnsweredCase,
    OpenCase,
    PersonFigures,
    fastest_responders,
    person_figures,
)
from tests.domain.calendars import STOCKHOLM

ZONE = ZoneInfo("Europe/Stockholm")
CALENDAR = STOCKHOLM.build()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=ZONE)  # 2026-06-01 is a Monday


def test_figures_by_hand() -> None:
    answered = [
        # Anna: Mon 10:00 -> Mon 12:30 = 2.5 h, in time; Thu 17:00 -> Fri 10:00 = 1 + 1 = 2 h, in time;
        # Fri 16:00 -> Mon 11:00 = 1 + 2 = 3 h, deadline Mon 10:00: late.
        AnsweredCase("Anna", at(1, 10), at(2, 10), at(1, 12, 30)),
        AnsweredCase("Anna", at(4, 17), at(5, 17), at(5, 10)),
        AnsweredCase("Anna", at(5, 16), at(8, 10), at(8, 11)),
        # Boris: Sat 12:00 (closed) -> Mon 09:45 = 0.75 h; Tue 09:00 -> Tue 18:00 = 9 h, at the deadline: in time.
        AnsweredCase("Boris", at(6, 12), at(9, 9), at(8, 9, 45)),
        AnsweredCase("Boris", at(2, 9), at(2, 18), at(2, 18)),
    ]
    open_cases = [OpenCase("Anna", at(9, 9)), OpenCase("Anna", at(10, 9)), OpenCase(None, at(8, 17)),
                  OpenCase("Boris", at(11, 9))]
    now = at(9, 12)

    figures = {f.name: f for f in person_figures(answered, open_cases, CALENDAR, now)}

    assert figures["Anna"] == PersonFigures("Anna", 3, 2, 2.5, 1)
    assert figures["Anna"].in_time_share == pytest.approx(2 / 3)
    assert figures["Boris"].median_first_reply_hours == pytest.approx((0.75 + 9) / 2)
    assert (figures["Boris"].answered, figures["Boris"].answered_in_time, figures["Boris"].overdue_now) == (2, 2, 0)
    assert figures[UNASSIGNED] == PersonFigures(UNASSIGNED, 0, 0, None, 1)
    assert figures[UNASSIGNED].in_time_share is None


def test_fastest_responders_need_enough_replies() -> None:
    figures = [PersonFigures("Anna", 5, 5, 1.0, 0), PersonFigures("Boris", 2, 2, 0.1, 0),
               PersonFigures("Clara", 4, 3, 1.0, 0), PersonFigures("Dan", 9, 4, 3.0, 2)]
    assert [f.name for f in fastest_responders(figures, least_answered=3, top=2)] == ["Anna", "Clara"]
