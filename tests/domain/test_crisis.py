"""Crisis detection table tests: the usual rate, the Poisson test with its minimum count, opening, widening
and closing, and a brand with very little traffic."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from review_watch.domain.crisis import (
    Baseline,
    CrisisSettings,
    Level,
    OpenIncident,
    RateCheck,
    assess,
    bucket_start,
    counts_towards_rate,
    fold,
    fold_until,
    judge,
    poisson_tail,
)

HOUR = timedelta(hours=1)
T0 = datetime(2026, 3, 2, tzinfo=UTC)
SETTINGS = CrisisSettings()


def history(per_hour: float, hours: int, seed: int = 1) -> dict[datetime, int]:
    """Complaints per hourly bucket, Poisson-distributed around `per_hour`."""
    rng = random.Random(seed)
    counts: dict[datetime, int] = {}
    for h in range(hours):
        n, t = 0, rng.expovariate(per_hour) if per_hour else math.inf
        while t < 1:
            n += 1
            t += rng.expovariate(per_hour)
        if n:
            counts[T0 + h * HOUR] = n
    return counts


@pytest.mark.parametrize(("count", "mean", "expected"), [
    (0, 3.0, 1.0),
    (1, 0.0, 0.0),
    (1, 2.0, 1 - math.exp(-2)),
    (3, 1.0, 1 - math.exp(-1) * (1 + 1 + 0.5)),
    (10, 0.5, 1.7096e-10),
    (130, 100.0, 0.00228),
    (70, 100.0, 0.99905),
])
def test_poisson_tail(count: int, mean: float, expected: float) -> None:
    assert poisson_tail(count, mean) == pytest.approx(expected, rel=2e-3)


# what, usual rate per hour, weeks of history, complaints in the last hour, level
LEVELS = [
    ("a busy brand's ordinary hour", 20.0, 4, 24, Level.USUAL),
    ("a busy brand at twice its usual: not three times", 20.0, 4, 45, Level.ELEVATED),
    ("a busy brand at four times its usual", 20.0, 4, 80, Level.SPIKE),
    ("a medium brand at ten in an hour", 1.0, 4, 10, Level.SPIKE),
    ("a medium brand at five: still short of the minimum count", 1.0, 4, 5, Level.ELEVATED),
    ("a quiet brand (one a week): two in an hour is no crisis", 1 / 168, 8, 2, Level.USUAL),
    ("a quiet brand: five in an hour keeps an incident open", 1 / 168, 8, 5, Level.ELEVATED),
    ("a quiet brand: twelve in an hour is one", 1 / 168, 8, 12, Level.SPIKE),
    ("a brand never complained about: ten is one", 0.0, 2, 10, Level.SPIKE),
    ("a brand never complained about: nine is not", 0.0, 2, 9, Level.ELEVATED),
]


@pytest.mark.parametrize(("what", "per_hour", "weeks", "count", "level"), LEVELS, ids=[row[0] for row in LEVELS])
def test_levels_against_a_learnt_baseline(what: str, per_hour: float, weeks: int, count: int, level: Level) -> None:
    hours = weeks * 168
    baseline = fold(Baseline(), history(per_hour, hours), T0 + hours * HOUR, SETTINGS)
    if per_hour >= 1:
        assert baseline.usual_per_hour == pytest.approx(per_hour, rel=0.15)
    assert assess(RateCheck(None, count, baseline.usual_count(SETTINGS.window)), SETTINGS) is level


def test_the_usual_rate_is_not_pulled_towards_zero_for_a_young_brand() -> None:
    two_days = fold(Baseline(), {T0 + h * HOUR: 4 for h in range(48)}, T0 + 48 * HOUR, SETTINGS)
    assert two_days.usual_per_hour == pytest.approx(4.0)
    assert two_days.weight < 0.2


def test_a_scope_watched_for_less_than_a_day_opens_nothing() -> None:
    young = fold(Baseline(through=T0), {}, T0 + 20 * HOUR, SETTINGS)
    seasoned = fold(Baseline(through=T0), {}, T0 + 30 * HOUR, SETTINGS)
    assert abs(young.history(SETTINGS) - 20 * HOUR) < timedelta(seconds=1)
    assert seasoned.history(SETTINGS) > SETTINGS.min_history
    assert assess(RateCheck(None, 50, 0.0, seasoned=False), SETTINGS) is Level.ELEVATED
    assert assess(RateCheck(None, 50, 0.0, seasoned=True), SETTINGS) is Level.SPIKE


def test_folding_in_steps_equals_folding_at_once() -> None:
    counts = history(3.0, 500, seed=7)
    once = fold(Baseline(), counts, T0 + 500 * HOUR, SETTINGS)
    stepped = Baseline()
    for end in (T0 + 7 * HOUR, T0 + 7 * HOUR, T0 + 230 * HOUR, T0 + 499 * HOUR, T0 + 500 * HOUR):
        stepped = fold(stepped, {b: c for b, c in counts.items() if b >= (stepped.through or T0)}, end, SETTINGS)
    assert stepped.through == once.through == T0 + 500 * HOUR
    assert stepped.usual_per_hour == pytest.approx(once.usual_per_hour)
    assert stepped.weight == pytest.approx(once.weight)


def test_recent_buckets_weigh_more_and_half_life_halves() -> None:
    week = 168
    old = fold(Baseline(), {T0: 100}, T0 + week * HOUR, SETTINGS)
    new = fold(Baseline(through=T0), {T0 + (week - 1) * HOUR: 100}, T0 + week * HOUR, SETTINGS)
    assert old.raw_rate == pytest.approx(new.raw_rate / 2, rel=0.01)


def test_an_open_incident_does_not_become_the_new_usual() -> None:
    quiet = fold(Baseline(), history(1.0, 336), T0 + 336 * HOUR, SETTINGS)
    burst = {T0 + (336 + h) * HOUR: 40 for h in range(3)}
    skipped = fold(quiet, burst, T0 + 339 * HOUR, SETTINGS, skip=True)
    assert skipped.usual_per_hour == quiet.usual_per_hour and skipped.through == T0 + 339 * HOUR
    absorbed = fold(quiet, burst, T0 + 339 * HOUR, SETTINGS)
    assert absorbed.usual_per_hour > 1.3 * quiet.usual_per_hour


def test_the_window_being_tested_is_not_folded() -> None:
    now = T0 + timedelta(hours=5, minutes=20)
    assert fold_until(now, SETTINGS) == T0 + 4 * HOUR  # the bucket 04:00-05:00 overlaps the last hour
    assert bucket_start(now, SETTINGS.bucket) == T0 + 5 * HOUR


# The verdict: what, checks (scope, count, usual), incident, minutes since usual, action, scope of its check
BRAND, APP = None, "acme-appstore"
VERDICTS = [
    ("quiet everywhere", [(BRAND, 3, 2.0), (APP, 1, 0.5)], None, None, "none", None),
    ("the brand spikes", [(BRAND, 60, 2.0), (APP, 50, 0.5)], None, None, "open", BRAND),
    ("one source spikes, diluted in the brand", [(BRAND, 90, 40.0), (APP, 30, 0.5)], None, None, "open", APP),
    ("the brand spikes while a source's incident is open: widened", [(BRAND, 60, 2.0), (APP, 50, 0.5)],
     OpenIncident(APP, T0), None, "widen", BRAND),
    ("a source's spike while the brand's incident is open: kept", [(BRAND, 60, 2.0), (APP, 50, 0.5)],
     OpenIncident(BRAND, T0), None, "keep", BRAND),
    ("open and still elevated", [(BRAND, 8, 1.0)], OpenIncident(BRAND, T0), 120, "keep", BRAND),
    ("back to usual: the clock starts", [(BRAND, 1, 1.0)], OpenIncident(BRAND, T0), None, "keep", BRAND),
    ("back to usual, not long enough", [(BRAND, 1, 1.0)], OpenIncident(BRAND, T0), 179, "keep", BRAND),
    ("back to usual long enough: closed", [(BRAND, 1, 1.0)], OpenIncident(BRAND, T0), 180, "close", BRAND),
    ("a source's incident with no complaints left", [(BRAND, 2, 1.0)], OpenIncident(APP, T0), 200, "close", APP),
]


@pytest.mark.parametrize(("what", "checks", "incident", "usual_minutes", "action", "scope"), VERDICTS,
                         ids=[row[0] for row in VERDICTS])
def test_verdicts(what: str, checks: list[tuple[str | None, int, float]], incident: OpenIncident | None,
                  usual_minutes: int | None, action: str, scope: str | None) -> None:
    now = T0 + 10 * HOUR
    if incident is not None and usual_minutes is not None:
        incident = OpenIncident(incident.scope, incident.opened_at, now - timedelta(minutes=usual_minutes))
    verdict = judge([RateCheck(*c) for c in checks], incident, now, SETTINGS)
    assert verdict.action == action
    if action != "none":
        assert verdict.check is not None and verdict.check.scope == scope
    if action == "keep" and "usual" in what:
        assert verdict.usual_since == (now if usual_minutes is None else now - timedelta(minutes=usual_minutes))
    if action == "keep" and "elevated" in what:
        assert verdict.usual_since is None


def test_a_quiet_brand_across_a_simulated_month() -> None:
    """One complaint a week, with a day of five scattered complaints and then a real burst: only the burst
    opens an incident, and it closes three hours after the burst ends."""
    settings = CrisisSettings()
    arrivals = [T0 + timedelta(days=d, hours=10) for d in range(0, 28, 7)]
    arrivals += [T0 + timedelta(days=15, hours=h) for h in (8, 10, 12, 14, 16)]  # five scattered
    burst_start = T0 + timedelta(days=22, hours=9)
    arrivals += [burst_start + timedelta(minutes=3 * i) for i in range(30)]  # 30 in 90 minutes
    arrivals.sort()
    baseline, incident, opened, closed = Baseline(), None, [], []
    now = T0
    while now < T0 + timedelta(days=28):
        now += timedelta(minutes=15)
        until = fold_until(now, settings)
        counts: dict[datetime, int] = {}
        for a in arrivals:
            if a < until:
                counts[bucket_start(a, settings.bucket)] = counts.get(bucket_start(a, settings.bucket), 0) + 1
        baseline = fold(baseline, {b: c for b, c in counts.items() if b >= (baseline.through or T0)}, until,
                        settings, skip=incident is not None)
        count = sum(1 for a in arrivals if now - settings.window < a <= now)
        verdict = judge([RateCheck(None, count, baseline.usual_count(settings.window))], incident, now, settings)
        if verdict.action == "open":
            opened.append(now)
            incident = OpenIncident(None, now)
        elif verdict.action == "keep" and incident is not None:
            incident = OpenIncident(None, incident.opened_at, verdict.usual_since)
        elif verdict.action == "close":
            closed.append(now)
            incident = None
    assert len(opened) == 1 and burst_start < opened[0] <= burst_start + timedelta(minutes=45)
    burst_end = burst_start + timedelta(minutes=87)
    assert len(closed) == 1 and burst_end + settings.close_after < closed[0] <= burst_end + 5 * HOUR


@pytest.mark.parametrize(("published_hours_before", "counts"), [(None, True), (1, True), (47, True), (49, False)])
def test_a_backlog_of_old_reviews_is_not_news(published_hours_before: int | None, counts: bool) -> None:
    arrived = T0 + 100 * HOUR
    published = None if published_hours_before is None else arrived - published_hours_before * HOUR
    assert counts_towards_rate(arrived, published, SETTINGS) is counts


@pytest.mark.parametrize("bad", [dict(min_count=0), dict(window=timedelta(0)), dict(min_ratio=0.5),
                                 dict(p_value=0.05, close_p_value=0.01)])
def test_settings_refuse_nonsense(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        CrisisSettings(**bad)  # type: ignore[arg-type]
