"""Crisis detection: is a brand's (or one of its sources') rate of complaints far above its own usual rate?

The method, per brand and per source of the brand (a *scope*):

1. **The usual rate** is an exponentially weighted moving average of complaints per hour, folded in one
   whole bucket (an hour by default) at a time, with a half-life (a week by default): a bucket `half_life`
   old counts half as much as the newest. The average starts at zero and is divided by the total weight
   folded so far (as Adam's bias correction does), so a brand watched for two days has the usual rate of
   those two days rather than one pulled towards zero. Buckets that end inside the current window are not
   yet folded (the spike being tested must not raise its own bar), and while an incident is open buckets
   are skipped, so that the burst does not become the new usual.
2. **The test** counts complaints in the last `window` and compares the count with the usual count for a
   window of that length (`usual_per_hour * window`), with the Poisson upper tail: the chance of seeing at
   least that many if nothing had changed. A *spike* needs all of: at least `min_count` complaints, at least
   `min_ratio` times the usual count, and a tail probability of at most `p_value`. The minimum count is what
   keeps a quiet brand (usual: one complaint a week) from opening an incident on two complaints in an hour,
   which the Poisson test alone would call very unlikely. A scope watched for less than `min_history` (a new
   brand or source, whose usual rate is not known yet) opens none.
3. **Opening and closing.** A spike of a scope with no open incident of the brand opens one; a spike of the
   whole brand while a source's incident is open widens that incident to the brand (one incident per brand
   at a time). An open incident is *still elevated* while its scope's count is at least half of
   `min_count`, above the usual count and has a tail probability of at most `close_p_value`; it closes once
   it has not been elevated for `close_after` without a break.

Everything here is pure: counts and instants in, verdicts out. `services/incidents.py` reads the counts and
keeps the baselines and incidents.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class CrisisSettings:
    """The thresholds (config `[crisis]`; the defaults are the config's)."""

    window: timedelta = timedelta(hours=1)  # complaints are counted over the last `window`
    bucket: timedelta = timedelta(hours=1)  # the usual rate is folded one bucket at a time
    half_life: timedelta = timedelta(days=7)  # a bucket this old weighs half as much as the newest
    min_count: int = 10  # no spike with fewer complaints in the window, however quiet the brand
    min_ratio: float = 3.0  # nor with fewer than this many times the usual count
    p_value: float = 1e-4  # nor when at least this many would happen this often by chance (Poisson)
    close_p_value: float = 0.01  # still elevated while the count is this unlikely (and >= min_count / 2)
    close_after: timedelta = timedelta(hours=3)  # closes after this long back to usual without a break
    max_age: timedelta = timedelta(days=2)  # a complaint published longer before it was found is history
    min_history: timedelta = timedelta(days=1)  # a scope watched for less opens no incident

    def __post_init__(self) -> None:
        for name in ("window", "bucket", "half_life", "close_after", "max_age", "min_history"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be positive")
        if self.min_count < 1:
            raise ValueError("min_count must be at least 1")
        if self.min_ratio < 1:
            raise ValueError("min_ratio must be at least 1")
        if not (0 < self.p_value <= self.close_p_value < 1):
            raise ValueError("expected 0 < p_value <= close_p_value < 1")

    @property
    def elevated_min_count(self) -> int:
        return max(1, math.ceil(self.min_count / 2))


# The usual rate ----------------------------------------------------------------------------------------


def bucket_start(at: datetime, bucket: timedelta) -> datetime:
    """The start of the bucket that holds `at` (buckets are aligned on the Unix epoch, in UTC)."""
    return EPOCH + ((at - EPOCH) // bucket) * bucket


@dataclass(frozen=True)
class Baseline:
    """A scope's usual rate: the weighted average so far and how much weight has been folded in."""

    raw_rate: float = 0.0  # complaints per hour, not yet divided by `weight`
    weight: float = 0.0  # 1 - (1 - alpha) ** buckets folded: the weights' sum
    through: datetime | None = None  # the end of the last bucket folded in; None: nothing folded yet

    @property
    def usual_per_hour(self) -> float:
        return self.raw_rate / self.weight if self.weight > 0 else 0.0

    def usual_count(self, span: timedelta) -> float:
        return self.usual_per_hour * (span / HOUR)

    def history(self, settings: CrisisSettings) -> timedelta:
        """How long the scope has been watched, as the weight folded in tells (at most a long time)."""
        if self.weight <= 0:
            return timedelta(0)
        if self.weight >= 1:
            return timedelta(days=36500)
        decay = 0.5 ** (settings.bucket / settings.half_life)
        return settings.bucket * (math.log(1 - self.weight) / math.log(decay))


def fold_until(now: datetime, settings: CrisisSettings) -> datetime:
    """Buckets that end at or before this instant may be folded: none that overlaps the current window."""
    return bucket_start(now - settings.window, settings.bucket)


def fold(baseline: Baseline, counts: Mapping[datetime, int], until: datetime, settings: CrisisSettings,
         skip: bool = False) -> Baseline:
    """Fold the whole buckets from `baseline.through` (or, the first time, from the earliest bucket in
    `counts`) up to `until` into the average. `counts`: complaints per bucket start; buckets absent from it
    had none. `skip`: an incident is open, so the buckets pass without changing the usual rate."""
    until = bucket_start(until, settings.bucket)
    start = baseline.through
    if start is None:
        start = min((b for b in counts if b < until), default=until)
    if until <= start:
        return baseline if baseline.through is not None else replace(baseline, through=until)
    if skip:
        return replace(baseline, through=until)
    decay = 0.5 ** (settings.bucket / settings.half_life)
    alpha = 1 - decay
    bucket_hours = settings.bucket / HOUR
    raw, weight, at = baseline.raw_rate, baseline.weight, start
    for bucket in sorted(b for b in counts if start <= b < until):
        quiet = (bucket - at) // settings.bucket  # empty buckets before this one
        raw, weight = raw * decay ** quiet, 1 - (1 - weight) * decay ** quiet
        raw, weight = raw * decay + alpha * counts[bucket] / bucket_hours, 1 - (1 - weight) * decay
        at = bucket + settings.bucket
    quiet = (until - at) // settings.bucket
    raw, weight = raw * decay ** quiet, 1 - (1 - weight) * decay ** quiet
    return Baseline(raw_rate=raw, weight=weight, through=until)


# The test ----------------------------------------------------------------------------------------------


def poisson_tail(count: int, mean: float) -> float:
    """P(X >= count) for X ~ Poisson(mean)."""
    if count <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    log_mean = math.log(mean)

    def term(i: int) -> float:
        return math.exp(-mean + i * log_mean - math.lgamma(i + 1))

    if count <= mean:  # the tail is large: one minus the (shorter) head
        return max(0.0, 1.0 - math.fsum(term(i) for i in range(count)))
    total, i = 0.0, count
    while True:  # terms fall from `count` on, faster than geometrically once past the mean
        value = term(i)
        total += value
        if value <= total * 1e-16 or value == 0.0:
            return min(1.0, total)
        i += 1


class Level(StrEnum):
    USUAL = "usual"
    ELEVATED = "elevated"  # not enough to open an incident, enough to keep one open
    SPIKE = "spike"


@dataclass(frozen=True)
class RateCheck:
    """One scope's complaints in the window against its usual count for a window that long."""

    scope: str | None  # None: the whole brand; else a source's name
    count: int
    usual: float
    seasoned: bool = True  # watched for at least `min_history`: only then may it open an incident

    def tail(self) -> float:
        return poisson_tail(self.count, self.usual)


def assess(check: RateCheck, settings: CrisisSettings) -> Level:
    tail = check.tail()
    if check.seasoned and check.count >= settings.min_count and check.count >= settings.min_ratio * check.usual \
            and tail <= settings.p_value:
        return Level.SPIKE
    if check.count >= settings.elevated_min_count and check.count > check.usual \
            and tail <= settings.close_p_value:
        return Level.ELEVATED
    return Level.USUAL


# Opening and closing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenIncident:
    scope: str | None  # None: the whole brand
    opened_at: datetime
    usual_since: datetime | None = None  # since when its scope has not been elevated


@dataclass(frozen=True)
class Verdict:
    """What to do with a brand's incident now. `check`: the scope's figures the verdict rests on."""

    action: Literal["none", "open", "widen", "keep", "close"]
    check: RateCheck | None = None
    usual_since: datetime | None = None


def judge(checks: Sequence[RateCheck], incident: OpenIncident | None, now: datetime,
          settings: CrisisSettings) -> Verdict:
    """The verdict for one brand: `checks` holds the brand's check (scope None) and its sources'."""
    by_scope = {c.scope: c for c in checks}
    spikes = [c for c in checks if assess(c, settings) is Level.SPIKE]
    brand_spike = by_scope.get(None) if by_scope.get(None) in spikes else None
    if incident is None:
        if not spikes:
            return Verdict("none")
        return Verdict("open", brand_spike or min(spikes, key=lambda c: (c.tail(), -c.count, c.scope or "")))
    if incident.scope is not None and brand_spike is not None:
        return Verdict("widen", brand_spike)
    check = by_scope.get(incident.scope, RateCheck(incident.scope, 0, 0.0))
    if assess(check, settings) is not Level.USUAL:
        return Verdict("keep", check, usual_since=None)
    usual_since = incident.usual_since or now
    if now - usual_since >= settings.close_after:
        return Verdict("close", check, usual_since=usual_since)
    return Verdict("keep", check, usual_since=usual_since)


def counts_towards_rate(arrived_at: datetime, published_at: datetime | None, settings: CrisisSettings) -> bool:
    """A complaint counts at its arrival, unless it was published long before (a first crawl's backlog)."""
    return published_at is None or arrived_at - published_at <= settings.max_age
