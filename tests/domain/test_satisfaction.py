"""The satisfaction index and its warning, on generated ratings: one warning per fall, none while it wavers."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from review_watch.domain.satisfaction import (
    Rating,
    SatisfactionIndex,
    WarningReason,
    WarningRule,
    decide_warning,
    rolling_series,
    satisfaction_index,
    scaled_to_five,
)

START = datetime(2026, 3, 1, 12, tzinfo=UTC)
WEEK = timedelta(days=7)


def day_of_ratings(day: int, mean: float, count: int, rng: random.Random) -> list[Rating]:
    """`count` whole-star ratings whose mean is `mean` to within 1/count, spread over the day."""
    total = round(mean * count)
    stars = [total // count] * count
    for i in range(total - sum(stars)):
        stars[i] += 1
    rng.shuffle(stars)
    base = START + timedelta(days=day)
    return [Rating(base + timedelta(minutes=37 * i), float(s)) for i, s in enumerate(stars)]


def generate(means: list[float], per_day: int = 10, seed: int = 7) -> list[Rating]:
    rng = random.Random(seed)
    return [r for day, mean in enumerate(means) for r in day_of_ratings(day, mean, per_day, rng)]


def run_daily_checks(ratings: list[Rating], days: int, rule: WarningRule) -> list[tuple[int, str]]:
    """A check after each day's crawl, keeping the stored state as the service does; what the leads get."""
    warned = False
    told: list[tuple[int, str]] = []
    for day in range(days):
        now = START + timedelta(days=day, hours=23)
        decision = decide_warning(satisfaction_index(ratings, now, WEEK), warned, rule)
        warned = decision.warned
        if decision.warn is not None:
            told.append((day, decision.warn.value))
        if decision.recovered:
            told.append((day, "recovered"))
    return told


def test_scaled_to_five() -> None:
    assert scaled_to_five(8, 10) == 4.0
    assert scaled_to_five(3, 5) == 3.0
    assert scaled_to_five(4, None) == 4.0
    assert scaled_to_five(None, 5) is None
    assert scaled_to_five(11, 10) is None
    assert scaled_to_five(-1, 5) is None


def test_index_and_trend_over_two_windows() -> None:
    ratings = generate([5.0] * 7 + [4.0] * 7)
    index = satisfaction_index(ratings, START + timedelta(days=13, hours=23), WEEK)
    assert index.count == 70 and index.previous_count == 70
    assert index.average == pytest.approx(4.0)
    assert index.previous_average == pytest.approx(5.0)
    assert index.trend == pytest.approx(-1.0)
    empty = satisfaction_index([], START, WEEK)
    assert empty == SatisfactionIndex(None, 0, None, 0) and empty.trend is None


def test_a_wavering_fall_through_the_line_warns_once_and_again_only_after_recovery() -> None:
    wavering = [4.4 if day % 2 else 4.6 for day in range(24)]
    means = [4.8] * 14 + wavering + [4.8] * 14 + [4.2] * 14
    ratings = generate(means)
    series = rolling_series(ratings, [START + timedelta(days=d, hours=23) for d in range(len(means))], WEEK)
    crossings = sum(1 for a, b in zip(series, series[1:], strict=False)
                    if a is not None and b is not None and a >= 4.5 > b)
    assert crossings >= 5  # the rolling average really does cross 4.5 downwards again and again

    told = run_daily_checks(ratings, len(means), WarningRule(threshold=4.5))

    assert [what for _, what in told] == ["below", "recovered", "below"]
    first, recovered, second = (day for day, _ in told)
    assert 14 <= first < 38 and 38 <= recovered < 52 <= second


def test_a_drop_above_the_line_warns_once_and_is_lifted_once_it_stops_falling() -> None:
    ratings = generate([4.95] * 14 + [4.6] * 21)
    told = run_daily_checks(ratings, 35, WarningRule(threshold=4.5, drop=0.3))
    assert [what for _, what in told] == [WarningReason.DROP.value, "recovered"]
    dropped, lifted = (day for day, _ in told)
    assert 14 <= dropped < 21 <= lifted  # lifted only once both windows are past the fall


def test_too_few_ratings_decide_nothing() -> None:
    quiet = [Rating(START + timedelta(days=d), 1.0) for d in range(0, 28, 7)]  # one a week, all one star
    assert run_daily_checks(quiet, 28, WarningRule(min_ratings=5)) == []


def test_a_standing_warning_is_kept_while_still_low() -> None:
    low = SatisfactionIndex(average=4.55, count=20, previous_average=4.4, previous_count=20)
    decision = decide_warning(low, warned=True, rule=WarningRule(threshold=4.5, recovery_margin=0.1))
    assert decision.warned and decision.warn is None and not decision.recovered


@pytest.mark.parametrize("field, value", [("threshold", 0), ("threshold", 5.5), ("drop", 0),
                                          ("recovery_margin", -0.1), ("min_ratings", 0)])
def test_a_bad_rule_is_refused(field: str, value: float) -> None:
    settings: dict[str, Any] = {field: value}
    with pytest.raises(ValueError):
        WarningRule(**settings)
