"""Scheduler benchmark (not a test): the time of one scheduler tick with 100,000 open cases.

For each backend (SQLite always; PostgreSQL when a server URL is given or REVIEW_WATCH_TEST_POSTGRES_URL is
set), a fresh database is filled directly with SQLAlchemy core: 100,000 open, assigned cases on the
Stockholm calendar, almost all of them not due (they arrived in the last two hours), plus --due cases whose
reminder or escalations are due now. Then it times, as the median of several runs:

- an idle tick: `review_watch.services.cases.scheduler_tick` when nothing is due (what runs every minute
  almost always): one query on the `next_due_at` index;
- a busy tick: the same with the --due cases due, reminders and escalations queued included (reset between
  runs);
- the obvious alternative: load every open case and compute its due actions in Python
  (`case_due_actions`), only finding what is due, nothing sent.

    python bench/bench_scheduler.py [--cases 100000] [--due 100] [--postgres-url URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from machine import describe_machine
from sqlalchemy import Engine, bindparam, create_engine, delete, insert, select, text, update
from sqlalchemy.orm import joinedload

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from review_watch.config import Config, load_config  # noqa: E402
from review_watch.domain import cases as domain  # noqa: E402
from review_watch.entrypoints.bootstrap import App  # noqa: E402
from review_watch.services.cases import scheduler_tick  # noqa: E402
from review_watch.services.policy import staff_calendar, to_domain  # noqa: E402
from review_watch.storage.database import normalise_url  # noqa: E402
from review_watch.storage.orm import Brand, Case, CaseEvent, Mention, OutboxMessage, Source, Staff  # noqa: E402

NOW = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # Wednesday 14:00 in Stockholm
CHUNK = 10_000
CONFIG = """\
[database]
url = "{url}"

[[calendars]]
name = "stockholm"
timezone = "Europe/Stockholm"
hours = {{ mon = ["09:00-18:00"], tue = ["09:00-18:00"], wed = ["09:00-18:00"], thu = ["09:00-18:00"],
          fri = ["09:00-17:00"] }}
holidays = "SE"

[sla]
calendar = "stockholm"
response = "1 business day"
remind_at = 0.75

[[sla.escalation]]

[[sla.escalation]]
after = "1 business day"
leads = ["Lena"]

[[brands]]
name = "Acme"

[[sources]]
name = "acme-trustpilot"
type = "trustpilot"
url = "https://www.trustpilot.com/review/acme.com"
brand = "Acme"
{staff}"""
AGENTS = [f"Agent {i:02d}" for i in range(20)]
STAFF = "".join(f'\n[[staff]]\nname = "{name}"\ntelegram_id = {1000 + i}\nlanguages = ["en"]\n'
                for i, name in enumerate(AGENTS)) + '\n[[staff]]\nname = "Lena"\ntelegram_id = 999\nrole = "lead"\n'


@dataclass(frozen=True)
class Figures:
    backend: str
    version: str
    open_cases: int
    due: int
    idle_ms: float
    busy_ms: float
    full_scan_ms: float
    full_scan_found: int
    uses_index: bool


def _median_ms(run: Callable[[], object], repeat: int, before: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


class Arrivals:
    """Case fields for an arrival minute, computed once per distinct minute by the domain itself."""

    def __init__(self, config: Config) -> None:
        self.policy = config.response_policy
        self._cache: dict[datetime, tuple[datetime, datetime, datetime | None]] = {}

    def fields(self, arrival: datetime) -> tuple[datetime, datetime, datetime | None]:
        if arrival not in self._cache:
            case = domain.open_case(self.policy, arrival)
            assigned = domain.Case(domain.CaseStatus.ASSIGNED, arrival, case.deadline, case.remind_at, "agent")
            due = domain.case_due_actions(assigned, self.policy, arrival)
            self._cache[arrival] = (case.deadline, case.remind_at, due.next_due_at)
        return self._cache[arrival]


def _minutes_before(rng: random.Random, latest: datetime, span_minutes: int) -> datetime:
    return latest - timedelta(minutes=rng.randint(1, span_minutes))


def fill(app: App, cases: int, due: int, seed: int = 7) -> list[int]:
    """Insert `cases` open cases, `due` of them due at NOW; returns the due ones' ids."""
    rng = random.Random(seed)
    arrivals = Arrivals(app.config)
    with app.unit_of_work() as uow:
        source_id = uow.session.scalar(select(Source.id))
        brand_id = uow.session.scalar(select(Brand.id))
        agent_ids = list(uow.session.scalars(select(Staff.id).where(Staff.role == "agent")))
    # Due now: half arrived Tuesday afternoon (the reminder is due), half on Monday (both escalations).
    tuesday, monday = datetime(2026, 11, 24, 15, 0, tzinfo=UTC), datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    due_ids = set(rng.sample(range(1, cases + 1), due))
    engine = app.engine
    for first in range(1, cases + 1, CHUNK):
        mentions: list[dict[str, object]] = []
        case_rows: list[dict[str, object]] = []
        for mention_id in range(first, min(first + CHUNK, cases + 1)):
            if mention_id in due_ids:
                arrival = _minutes_before(rng, tuesday if mention_id % 2 else monday, 60)
            else:
                arrival = _minutes_before(rng, NOW, 120)
            deadline_at, remind_at, next_due_at = arrivals.fields(arrival)
            mentions.append({
                "id": mention_id, "source_id": source_id, "external_id": f"review-{mention_id}",
                "brand_id": brand_id, "text": f"Terrible service, order {mention_id}", "rating": 1.0,
                "rating_max": 5.0, "language": "en", "content_hash": f"{mention_id:064x}", "raw": {},
                "arrived_at": arrival, "edit_count": 0})
            case_rows.append({
                "id": mention_id, "brand": "Acme", "status": "assigned", "assignee_id": rng.choice(agent_ids),
                "arrived_at": arrival, "deadline_at": deadline_at, "remind_at": remind_at,
                "escalation_level": 0, "next_due_at": next_due_at})
        with engine.begin() as connection:
            connection.execute(insert(Mention), mentions)
            connection.execute(insert(Case), case_rows)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return sorted(due_ids)


def _reset_due(app: App, due_ids: list[int]) -> Callable[[], None]:
    """Puts the due cases back as they were before a tick, and forgets what the tick queued."""
    arrivals = Arrivals(app.config)
    with app.unit_of_work() as uow:
        originals = [(case_id, arrivals.fields(arrived)[2]) for case_id, arrived in
                     uow.session.execute(select(Case.id, Case.arrived_at).where(Case.id.in_(due_ids)))]

    def reset() -> None:
        with app.unit_of_work() as uow:
            uow.session.execute(delete(OutboxMessage))
            uow.session.execute(delete(CaseEvent))
            uow.session.execute(update(Case), [
                {"id": case_id, "status": "assigned", "reminded_at": None, "escalation_level": 0,
                 "next_due_at": next_due_at} for case_id, next_due_at in originals])
            uow.commit()

    return reset


def full_scan(app: App) -> int:
    """The obvious alternative: every open case loaded and asked what is due."""
    policy = app.config.response_policy
    found = 0
    with app.unit_of_work() as uow:
        for row in uow.session.scalars(select(Case).options(joinedload(Case.assignee))
                                       .where(Case.status.in_(domain.OPEN_STATUSES))):
            due = domain.case_due_actions(to_domain(row), policy, NOW, staff_calendar(app.config, row.assignee))
            found += bool(due.remind or due.escalate)
    return found


def _uses_index(engine: Engine) -> bool:
    """Whether the database plans the scheduler's query on the next_due_at index."""
    explain = "EXPLAIN QUERY PLAN" if engine.dialect.name == "sqlite" else "EXPLAIN"
    query = text(f"{explain} SELECT id FROM cases WHERE next_due_at IS NOT NULL AND next_due_at <= :now "
                 "ORDER BY next_due_at LIMIT 500").bindparams(bindparam("now", NOW, type_=Case.next_due_at.type))
    with engine.connect() as connection:
        plan = connection.execute(query).fetchall()
    return "ix_cases_open_next_due" in " ".join(str(line) for line in plan)


def measure(backend: str, url: str, cases: int, due: int) -> Figures:
    with tempfile.TemporaryDirectory() as directory:
        config_path = Path(directory) / "review-watch.toml"
        config_path.write_text(CONFIG.format(url=url, staff=STAFF), encoding="utf-8")
        app = App(load_config(config_path), clock=lambda: NOW)
        app.sessions  # noqa: B018 - creates the schema and the staff
        started = time.perf_counter()
        due_ids = fill(app, cases, due)
        print(f"  {backend}: {cases:,} cases inserted in {time.perf_counter() - started:.1f} s", flush=True)
        version = _server_version(app.engine)

        def tick() -> None:
            with app.unit_of_work() as uow:
                scheduler_tick(uow, app.config, app.clock)

        reset = _reset_due(app, due_ids)
        reset()
        with app.unit_of_work() as uow:
            figures = scheduler_tick(uow, app.config, app.clock)
        assert figures.examined == due, f"the first tick examined {figures.examined} cases, not {due}"
        busy_ms = _median_ms(tick, 5, before=reset)
        idle_ms = _median_ms(tick, 50)  # the due cases were just handled: nothing is due now
        reset()
        found = full_scan(app)
        full_scan_ms = _median_ms(lambda: full_scan(app), 3)
        result = Figures(backend, version, cases, due, idle_ms, busy_ms, full_scan_ms, found,
                         _uses_index(app.engine))
        app.engine.dispose()
        return result


def _server_version(engine: Engine) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            return "SQLite " + str(connection.exec_driver_sql("select sqlite_version()").scalar())
        return "PostgreSQL " + str(connection.exec_driver_sql("show server_version").scalar()).split()[0]


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server, dropped afterwards."""
    name = f"rw_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="open cases in the database")
    parser.add_argument("--due", type=int, default=100, help="cases due at the busy tick")
    parser.add_argument("--postgres-url", default=os.environ.get("REVIEW_WATCH_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL (default: $REVIEW_WATCH_TEST_POSTGRES_URL)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if not 0 < args.due <= args.cases:
        parser.error("--due must be between 1 and --cases")
    print(f"machine: {describe_machine()}", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as directory:
        results.append(measure("sqlite", f"sqlite:///{Path(directory) / 'bench.db'}", args.cases, args.due))
    if args.postgres_url and not args.no_postgres:
        with postgres_database(args.postgres_url) as url:
            results.append(measure("postgresql", url, args.cases, args.due))
    else:
        print("  postgresql: skipped (give --postgres-url or set REVIEW_WATCH_TEST_POSTGRES_URL)")
    print()
    print(f"| backend | open cases | idle tick (0 due) | tick with {args.due} due | full scan of open cases "
          "(finding due only) | scan / idle tick | next_due_at index used |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(f"| {r.version} | {r.open_cases:,} | {r.idle_ms:.2f} ms | {r.busy_ms:.1f} ms | "
              f"{r.full_scan_ms:,.0f} ms ({r.full_scan_found} found) | {r.full_scan_ms / r.idle_ms:,.0f}x | "
              f"{'yes' if r.uses_index else 'no'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
