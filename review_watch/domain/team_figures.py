"""Who answers fast: per person, the share of cases answered in time, the median time to the first reply in
business hours, and the cases overdue now; and the fastest responders.

A case counts for the person it is assigned to (who was responsible for it). Its first reply is the one that
stopped its clock; the time to it is business time (domain/business_time) from the clock's start.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from review_watch.domain.business_time import BusinessCalendar, business_seconds_between

UNASSIGNED = "—"


@dataclass(frozen=True)
class AnsweredCase:
    assignee: str | None
    arrived_at: datetime  # the response clock's start
    deadline_at: datetime
    answered_at: datetime


@dataclass(frozen=True)
class OpenCase:
    assignee: str | None
    deadline_at: datetime


@dataclass(frozen=True)
class PersonFigures:
    name: str
    answered: int
    answered_in_time: int
    median_first_reply_hours: float | None  # business hours; None when nothing was answered
    overdue_now: int

    @property
    def in_time_share(self) -> float | None:
        return self.answered_in_time / self.answered if self.answered else None


def answered_in_time(case: AnsweredCase) -> bool:
    return case.answered_at <= case.deadline_at


def first_reply_business_hours(calendar: BusinessCalendar, case: AnsweredCase) -> float:
    return max(0.0, business_seconds_between(calendar, case.arrived_at, case.answered_at)) / 3600


def person_figures(answered: Iterable[AnsweredCase], open_cases: Iterable[OpenCase], calendar: BusinessCalendar,
                   now: datetime) -> list[PersonFigures]:
    """One line per person with a case answered in the period or overdue now, by name."""
    hours: dict[str, list[float]] = defaultdict(list)
    in_time: dict[str, int] = defaultdict(int)
    overdue: dict[str, int] = defaultdict(int)
    for case in answered:
        name = case.assignee or UNASSIGNED
        hours[name].append(first_reply_business_hours(calendar, case))
        in_time[name] += answered_in_time(case)
    for open_case in open_cases:
        if open_case.deadline_at < now:
            overdue[open_case.assignee or UNASSIGNED] += 1
    return [PersonFigures(name, len(hours[name]), in_time[name],
                          statistics.median(hours[name]) if hours[name] else None, overdue[name])
            for name in sorted(set(hours) | set(overdue))]


def fastest_responders(figures: Iterable[PersonFigures], least_answered: int = 3, top: int = 3
                       ) -> list[PersonFigures]:
    """Those with at least `least_answered` replies, by median first reply, then in-time share."""
    eligible = [f for f in figures if f.answered >= least_answered and f.median_first_reply_hours is not None
                and f.name != UNASSIGNED]
    return sorted(eligible, key=lambda f: (f.median_first_reply_hours, -(f.in_time_share or 0), f.name))[:top]
