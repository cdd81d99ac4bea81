"""The satisfaction index: the average star rating over a rolling window, scaled to 5, with its trend, and the
warning rule that tells the leads once when it falls, and not again until it has recovered.

A rating counts at the review's own date. The trend compares the window ending now with the window before it.
The warning has hysteresis: once given, it is re-armed only when the average is back at or above the
threshold plus `recovery_margin` and no longer dropping, so an average that wavers around 4.5 warns once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

FIVE = 5.0


def scaled_to_five(rating: float | None, rating_max: float | None) -> float | None:
    """A rating on the platform's scale as stars out of 5; None when there is no usable rating."""
    if rating is None:
        return None
    scale = rating_max if rating_max is not None and rating_max > 0 else FIVE
    if rating < 0 or rating > scale:
        return None
    return rating / scale * FIVE


@dataclass(frozen=True)
class Rating:
    at: datetime
    stars: float  # out of 5


@dataclass(frozen=True)
class SatisfactionIndex:
    average: float | None  # None: no rating in the window
    count: int
    previous_average: float | None  # the window before
    previous_count: int

    @property
    def trend(self) -> float | None:
        """The change against the window before; None when either window has no rating."""
        if self.average is None or self.previous_average is None:
            return None
        return self.average - self.previous_average


def _average(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def satisfaction_index(ratings: Iterable[Rating], now: datetime, window: timedelta) -> SatisfactionIndex:
    """The index for the window (now - window, now] against (now - 2 window, now - window]."""
    if window <= timedelta(0):
        raise ValueError(f"the window must be longer than zero, not {window}")
    current: list[float] = []
    previous: list[float] = []
    for rating in ratings:
        if now - window < rating.at <= now:
            current.append(rating.stars)
        elif now - 2 * window < rating.at <= now - window:
            previous.append(rating.stars)
    return SatisfactionIndex(_average(current), len(current), _average(previous), len(previous))


def rolling_series(ratings: Sequence[Rating], ends: Sequence[datetime], window: timedelta) -> list[float | None]:
    """The rolling average at each of `ends` (for a chart's trend line)."""
    return [satisfaction_index(ratings, end, window).average for end in ends]


@dataclass(frozen=True)
class WarningRule:
    threshold: float = 4.5  # an average below it warns
    drop: float = 0.3  # so does a fall of at least this much against the window before
    recovery_margin: float = 0.1  # re-armed at threshold + margin, so an average wavering at the line warns once
    min_ratings: int = 5  # fewer ratings in the window decide nothing

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= FIVE:
            raise ValueError(f"satisfaction_warning must be above 0 and at most 5, not {self.threshold}")
        if self.drop <= 0:
            raise ValueError(f"satisfaction_drop must be greater than zero, not {self.drop}")
        if self.recovery_margin < 0:
            raise ValueError(f"satisfaction_recovery_margin must not be negative, not {self.recovery_margin}")
        if self.min_ratings < 1:
            raise ValueError(f"satisfaction_min_ratings must be at least 1, not {self.min_ratings}")


class WarningReason(StrEnum):
    BELOW = "below"  # the average fell below the threshold
    DROP = "drop"  # the average fell by `drop` or more


@dataclass(frozen=True)
class WarningDecision:
    warned: bool  # the state to store: a warning stands and no new one is given
    warn: WarningReason | None = None  # tell the leads now, and why
    recovered: bool = False  # the standing warning was lifted now


def decide_warning(index: SatisfactionIndex, warned: bool, rule: WarningRule) -> WarningDecision:
    """Whether to warn now, given whether a warning already stands (the stored state)."""
    if index.average is None or index.count < rule.min_ratings:
        return WarningDecision(warned)
    trend = index.trend if index.previous_count >= rule.min_ratings else None
    dropping = trend is not None and trend <= -rule.drop
    if warned:
        if index.average >= rule.threshold + rule.recovery_margin and not dropping:
            return WarningDecision(False, recovered=True)
        return WarningDecision(True)
    if index.average < rule.threshold:
        return WarningDecision(True, WarningReason.BELOW)
    if dropping:
        return WarningDecision(True, WarningReason.DROP)
    return WarningDecision(False)
