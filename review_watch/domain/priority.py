"""A case's priority: what makes one complaint more urgent than another of the same age.

The score is the sum of the weights of the signals present; cases are ordered by score, highest first, then by
deadline, soonest first. An incident's cases come first (many customers, in public, at once); then a customer
who says they are leaving; then a long-standing customer's first complaint and a repeat complainer; then a
post that names a competitor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar


class Reason(StrEnum):
    INCIDENT = "incident"
    CHURN_RISK = "churn_risk"
    LONG_STANDING_FIRST_COMPLAINT = "long_standing_first_complaint"
    REPEAT_COMPLAINER = "repeat_complainer"
    COMPETITOR = "competitor"


WEIGHTS: dict[Reason, int] = {
    Reason.INCIDENT: 16,
    Reason.CHURN_RISK: 8,
    Reason.LONG_STANDING_FIRST_COMPLAINT: 4,
    Reason.REPEAT_COMPLAINER: 4,
    Reason.COMPETITOR: 2,
}
LONG_STANDING = timedelta(days=365)  # a customer whose first mention of the brand is this old


@dataclass(frozen=True)
class CaseSignals:
    """What is known about a case and its author when it is ranked."""

    arrived_at: datetime
    in_open_incident: bool = False  # the case belongs to an incident that is still open
    churn_intent: bool = False  # the author says they are leaving
    competitor: str | None = None  # a named competitor
    earlier_complaints: int = 0  # the author's earlier cases on the same brand
    first_seen_at: datetime | None = None  # the author's earliest mention of the brand, this one included


@dataclass(frozen=True)
class Priority:
    score: int
    reasons: tuple[Reason, ...]  # highest weight first


def priority(signals: CaseSignals, long_standing: timedelta = LONG_STANDING) -> Priority:
    reasons = []
    if signals.in_open_incident:
        reasons.append(Reason.INCIDENT)
    if signals.churn_intent:
        reasons.append(Reason.CHURN_RISK)
    if signals.earlier_complaints > 0:
        reasons.append(Reason.REPEAT_COMPLAINER)
    elif signals.first_seen_at is not None and signals.arrived_at - signals.first_seen_at >= long_standing:
        reasons.append(Reason.LONG_STANDING_FIRST_COMPLAINT)
    if signals.competitor:
        reasons.append(Reason.COMPETITOR)
    ordered = tuple(sorted(reasons, key=lambda r: -WEIGHTS[r]))
    return Priority(sum(WEIGHTS[r] for r in ordered), ordered)


T = TypeVar("T")


def by_priority(items: Iterable[tuple[T, Priority, datetime, int]]) -> list[T]:
    """Items given as (item, priority, deadline, case id): highest score first, then soonest deadline, then id."""
    return [item for item, *_ in sorted(items, key=lambda entry: (-entry[1].score, entry[2], entry[3]))]
