"""`review-watch deadline` agrees with the brute-force minute-by-minute reference over the five calendars.

The 550 generated cases go through the CLI's entry point in-process (a subprocess each would take minutes);
a few real subprocess runs check the printed format and the one-line errors on bad input.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from review_watch.entrypoints.cli import main
from tests.domain.calendars import FIVE_CALENDARS, STOCKHOLM, CalendarSpec, reference_deadline
from tests.scheduling.calendar_toml import calendar_toml
from tests.support.cli import review_watch

CASES_PER_CALENDAR = 110
BUSINESS_DAY_HOURS = 8.5  # configured: one business day is 510 business minutes in every calendar
OUTPUT_FORMAT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
CLOCK_CHANGES = {
    "stockholm": [date(2026, 3, 29), date(2026, 10, 25)],
    "jerusalem": [date(2026, 3, 27), date(2026, 10, 25)],
    "moscow": [],
    "riyadh": [],
    "new_york": [date(2026, 3, 8), date(2026, 11, 1)],
}
ARRIVAL_OFFSETS = [timedelta(hours=h) for h in range(-11, 14)] + [timedelta(hours=5, minutes=30),
                                                                   timedelta(hours=-9, minutes=-30)]


def _config_text(business_day_hours: float | None) -> str:
    day_line = f"business_day_hours = {business_day_hours}\n" if business_day_hours is not None else ""
    return ("[database]\nurl = \"sqlite:///deadline.db\"\n\n"
            + "".join(calendar_toml(spec) for spec in FIVE_CALENDARS)
            + f'[sla]\ncalendar = "stockholm"\nresponse = "1 business day"\n{day_line}remind_at = 0.75\n')


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """"set": business_day_hours configured; "default": each calendar's longest open weekday."""
    directory = tmp_path_factory.mktemp("deadline")
    paths = {}
    for name, day_hours in (("set", BUSINESS_DAY_HOURS), ("default", None)):
        paths[name] = directory / f"{name}.toml"
        paths[name].write_text(_config_text(day_hours), encoding="utf-8")
    return paths


def _longest_open_day_minutes(spec: CalendarSpec) -> int:
    return max(sum(end - start for start, end in spans) for spans in spec.periods.values())


@dataclass(frozen=True)
class DeadlineCase:
    spec: CalendarSpec
    arrival: datetime
    at_text: str
    sla_text: str | None  # None: the config's response time
    sla_minutes: int
    calendar_named: bool  # False: rely on the config's default calendar (stockholm cases only)
    config: str

    def argv(self, config: Path) -> list[str]:
        args = ["deadline", "--at", self.at_text]
        if self.calendar_named:
            args += ["--calendar", self.spec.name]
        if self.sla_text is not None:
            args += ["--sla", self.sla_text]
        return [*args, "--config", str(config)]


def _sla(rng: random.Random, day_minutes: int) -> tuple[str | None, int]:
    """An SLA as the user writes it, and its length in business minutes."""
    choice = rng.randrange(9)
    if choice == 0:
        return None, day_minutes
    if choice <= 2:
        days = rng.choice([1, 1, 2, 3, 0.5])
        return f"{days} business day{'s' if days != 1 else ''}", round(days * day_minutes)
    if choice <= 4:
        hours = rng.choice([1, 4, 8, 1.5, 24])
        return f"{hours} business hours", round(hours * 60)
    if choice <= 7:
        minutes = rng.choice([1, 2, 30, 59, 61, 240, 600])
        return f"{minutes} business minute{'s' if minutes != 1 else ''}", minutes
    minutes = rng.choice([1, 45, 90])
    return f"{minutes * 60} business seconds", minutes


def _closed_dates_2026(spec: CalendarSpec) -> list[date]:
    is_closed = spec.closed_dates()
    return [d for d in (date(2026, 1, 1) + timedelta(days=i) for i in range(365)) if is_closed(d)]


def _generated_cases() -> list[DeadlineCase]:
    rng = random.Random(5_2026_11_22)
    cases = []
    for spec in FIVE_CALENDARS:
        holidays = _closed_dates_2026(spec)
        boundaries = sorted({m for spans in spec.periods.values() for span in spans for m in span} - {1440})
        for i in range(CASES_PER_CALENDAR):
            if i % 3 == 0:
                day = rng.choice(holidays) + timedelta(days=rng.randint(-2, 1))
            elif i % 3 == 1 and CLOCK_CHANGES[spec.name]:
                day = rng.choice(CLOCK_CHANGES[spec.name]) + timedelta(days=rng.randint(-1, 0))
            else:
                day = date(2026, 1, 1) + timedelta(days=rng.randint(0, 364))
            minute = rng.choice(boundaries) if i % 4 == 0 else rng.randint(0, 1439)
            local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=ZoneInfo(spec.zone))
            config = "default" if i % 5 == 0 else "set"
            day_minutes = (_longest_open_day_minutes(spec) if config == "default"
                           else round(BUSINESS_DAY_HOURS * 60))
            sla_text, sla_minutes = _sla(rng, day_minutes)
            offset = rng.choice(ARRIVAL_OFFSETS)
            arrival = local.astimezone(timezone(offset))
            at_text = arrival.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if not offset else arrival.isoformat()
            calendar_named = spec is not STOCKHOLM or i % 2 == 0
            cases.append(DeadlineCase(spec, arrival, at_text, sla_text, sla_minutes, calendar_named, config))
    return cases


CASES = _generated_cases()


def test_the_cases_cover_five_calendars_holidays_clock_changes_and_every_way_to_write_an_sla() -> None:
    assert len(CASES) >= 500
    assert {c.spec.name for c in CASES} == {s.name for s in FIVE_CALENDARS}
    for spec in FIVE_CALENDARS:
        is_closed = spec.closed_dates()
        arrivals = [c.arrival.astimezone(ZoneInfo(spec.zone)).date() for c in CASES if c.spec is spec]
        assert sum(map(is_closed, arrivals)) >= 5, spec.name
    changes = {d for days in CLOCK_CHANGES.values() for d in days}
    assert sum(c.arrival.astimezone(ZoneInfo(c.spec.zone)).date() in changes for c in CASES) >= 30
    units = {c.sla_text.split()[-1].rstrip("s") if c.sla_text else None for c in CASES}
    assert units == {"day", "hour", "minute", "second", None}
    assert any(c.at_text.endswith("Z") for c in CASES) and any(not c.calendar_named for c in CASES)


def test_deadline_command_agrees_with_the_minute_by_minute_reference(
        configs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    disagreements = []
    for case in CASES:
        expected = reference_deadline(case.spec, case.arrival, case.sla_minutes).isoformat()
        status = main(case.argv(configs[case.config]))
        printed = capsys.readouterr()
        if status != 0 or printed.out != expected + "\n" or printed.err:
            disagreements.append(f"{' '.join(case.argv(configs[case.config])[:-2])}: exit {status}, "
                                 f"printed {printed.out.strip()!r} {printed.err.strip()!r}, expected {expected}")
    assert not disagreements, f"{len(disagreements)} of {len(CASES)} disagree:\n" + "\n".join(disagreements[:20])


def test_the_real_command_prints_one_line_in_the_calendars_offset(configs: dict[str, Path]) -> None:
    # Friday 16:30 in Stockholm, written in New York time, just before the clocks change on 25 October:
    # 30 minutes on Friday, then Monday 26 October (now +01:00) until 17:00.
    done = review_watch("deadline", "--at", "2026-10-23T10:30:00-04:00", "--calendar", "stockholm", "--sla",
                        "8.5 business hours", config=configs["set"])
    assert done.stdout == "2026-10-26T17:00:00+01:00\n"
    assert OUTPUT_FORMAT.fullmatch(done.stdout.strip())
    arrival = datetime(2026, 10, 23, 10, 30, tzinfo=timezone(timedelta(hours=-4)))
    assert done.stdout.strip() == reference_deadline(STOCKHOLM, arrival, 510).isoformat()

    # Moscow's lunch break and a Z arrival, with the config's default calendar and SLA for comparison.
    moscow = review_watch("deadline", "--at", "2026-06-17T09:30:00Z", "--calendar", "moscow", "--sla",
                          "45 business minutes", config=configs["set"])
    assert moscow.stdout == "2026-06-17T14:15:00+03:00\n"
    default = review_watch("deadline", "--at", "2026-11-23T08:00:00Z", config=configs["default"])
    assert default.stdout == "2026-11-23T18:00:00+01:00\n"  # 1 business day = Stockholm's 9-hour Monday


@pytest.mark.parametrize(("args", "message"), [
    (["--at", "2026-11-23T09:00:00"], "--at: '2026-11-23T09:00:00' has no UTC offset"),
    (["--at", "tomorrow"], "--at: 'tomorrow' is not an ISO 8601 date-time"),
    (["--at", "2026-11-23T09:00:00Z", "--calendar", "paris"], "unknown calendar 'paris'"),
    (["--at", "2026-11-23T09:00:00Z", "--sla", "1 fortnight"], "--sla: duration '1 fortnight' must look like"),
    (["--at", "2026-11-23T09:00:00Z", "--sla", "0 business days"], "--sla: duration '0 business days' must be"),
], ids=["no-offset", "not-a-date", "unknown-calendar", "unknown-unit", "zero-sla"])
def test_bad_input_gives_a_one_line_error_and_exit_status_2(configs: dict[str, Path], args: list[str],
                                                            message: str) -> None:
    done = review_watch("deadline", *args, config=configs["set"], check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("review-watch: ") and message in done.stderr
