"""Digest benchmark (not a test): the cost of one brand's weekly digest in a year of history.

For each backend (SQLite always; PostgreSQL when a server URL is given or REVIEW_WATCH_TEST_POSTGRES_URL is
set), a fresh, migrated database is filled with bulk inserts (SQLAlchemy core, 20,000 rows a statement): 50
brands with a review-site source each, a year of mentions spread evenly (1,000,000 by default) with a
judgement each, a rating on four in five, and a case, mostly answered, for each negative one. Then it times,
as the median of several runs, `services.report.brand_report` for one brand's last week (what a weekly digest
builds before it is queued), and the same with the report's indexes dropped (the obvious alternative: the
schema before issue 17).

    python bench/bench_digest.py [--mentions 1000000] [--brands 50] [--postgres-url URL | --no-postgres]
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
from sqlalchemy import Engine, create_engine, insert, select, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from review_watch.config import load_config  # noqa: E402
from review_watch.entrypoints.bootstrap import App  # noqa: E402
from review_watch.services.report import brand_report  # noqa: E402
from review_watch.storage.database import normalise_url  # noqa: E402
from review_watch.storage.orm import Brand, Case, Mention, SentimentResult, Source, Staff  # noqa: E402

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # Monday 08:00 in Stockholm, when a weekly digest goes out
YEAR = timedelta(days=365)
CHUNK = 20_000
REPORT_INDEXES = ("ix_mentions_brand_arrived", "ix_mentions_brand_published", "ix_cases_brand_answered")
CONFIG = """\
[database]
url = "{url}"

[[calendars]]
name = "stockholm"
timezone = "Europe/Stockholm"
hours = {{ mon = ["09:00-18:00"], tue = ["09:00-18:00"], wed = ["09:00-18:00"], thu = ["09:00-18:00"],
          fri = ["09:00-17:00"] }}

[sla]
calendar = "stockholm"
{brands}{sources}{staff}"""


def config_text(url: str, brands: int) -> str:
    names = [f"Brand {i:02d}" for i in range(brands)]
    brand_part = "".join(f'\n[[brands]]\nname = "{name}"\n' for name in names)
    source_part = "".join(f'\n[[sources]]\nname = "src-{i:02d}"\ntype = "trustpilot"\n'
                          f'url = "https://www.trustpilot.com/review/b{i}.example"\nbrand = "{name}"\n'
                          for i, name in enumerate(names))
    staff_part = "".join(f'\n[[staff]]\nname = "Agent {i:02d}"\ntelegram_id = {1000 + i}\n' for i in range(25))
    staff_part += '\n[[staff]]\nname = "Lena"\ntelegram_id = 999\nrole = "lead"\n'
    return CONFIG.format(url=url, brands=brand_part, sources=source_part, staff=staff_part)


@dataclass(frozen=True)
class Figures:
    version: str
    mentions: int
    seed_s: float
    digest_ms: float
    digest_without_indexes_ms: float
    week_mentions: int


def fill(app: App, mentions: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with app.unit_of_work() as uow:
        sources = {brand_id: source_id for brand_id, source_id in uow.session.execute(
            select(Source.brand_id, Source.id)) if brand_id is not None}
        brand_names = {brand_id: name for brand_id, name in uow.session.execute(select(Brand.id, Brand.name))}
        agents = list(uow.session.scalars(select(Staff.id).where(Staff.role == "agent")))
    brand_ids = sorted(sources)
    step = YEAR / mentions
    for first in range(0, mentions, CHUNK):
        mention_rows, judgement_rows, case_rows = [], [], []
        for n in range(first, min(first + CHUNK, mentions)):
            mention_id = n + 1
            brand_id = brand_ids[n % len(brand_ids)]
            arrived = NOW - YEAR + step * n
            stars = rng.choices((1, 2, 3, 4, 5), weights=(8, 4, 6, 22, 60))[0]
            negative = stars <= 2
            mention_rows.append({
                "id": mention_id, "source_id": sources[brand_id], "external_id": f"r{mention_id}",
                "brand_id": brand_id, "published_at": arrived - timedelta(hours=rng.randint(0, 48)),
                "rating": float(stars) if rng.random() < 0.8 else None, "rating_max": 5.0,
                "text": f"{'Late delivery and rude support' if negative else 'Great shop'} #{mention_id}",
                "language": "en", "content_hash": f"{mention_id:064x}", "raw": {}, "arrived_at": arrived,
                "edit_count": 0})
            judgement_rows.append({
                "mention_id": mention_id, "label": "negative" if negative else "positive", "score": 0.9,
                "negative": negative, "language": "en", "churn_intent": negative and rng.random() < 0.1,
                "threat": False, "staff_abuse": False, "unsure": False, "model": "bench", "classified_at": arrived})
            if negative:
                deadline = arrived + timedelta(days=1)
                answered = arrived + timedelta(hours=rng.uniform(0.5, 40)) if arrived < NOW - timedelta(hours=6) \
                    else None
                case_rows.append({
                    "id": mention_id, "brand": brand_names[brand_id],
                    "status": "replied" if answered else "assigned", "assignee_id": rng.choice(agents),
                    "arrived_at": arrived, "deadline_at": deadline, "remind_at": arrived + timedelta(hours=18),
                    "escalation_level": 0, "answered_at": answered, "next_due_at": None if answered else deadline})
        with app.engine.begin() as connection:
            connection.execute(insert(Mention), mention_rows)
            connection.execute(insert(SentimentResult), judgement_rows)
            connection.execute(insert(Case), case_rows)
    with app.engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(backend: str, url: str, mentions: int, brands: int) -> Figures:
    with tempfile.TemporaryDirectory() as directory:
        config_path = Path(directory) / "review-watch.toml"
        config_path.write_text(config_text(url, brands), encoding="utf-8")
        app = App(load_config(config_path), clock=lambda: NOW)
        app.sessions  # noqa: B018 - creates the schema, the brands, sources and staff
        started = time.perf_counter()
        fill(app, mentions)
        seed_s = time.perf_counter() - started
        print(f"  {backend}: {mentions:,} mentions inserted in {seed_s:.0f} s", flush=True)

        def digest() -> int:
            with app.unit_of_work() as uow:
                return brand_report(uow, app.config, "Brand 07", NOW - timedelta(days=7), NOW).mentions

        week = digest()
        with_indexes = _median_ms(digest, 5)
        with app.engine.begin() as connection:
            for name in REPORT_INDEXES:
                connection.execute(text(f"DROP INDEX {name}" if backend == "sqlite" else f'DROP INDEX "{name}"'))
            connection.execute(text("ANALYZE"))
        without = _median_ms(digest, 3)
        result = Figures(_server_version(app.engine), mentions, seed_s, with_indexes, without, week)
        app.engine.dispose()
        return result


def _server_version(engine: Engine) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            return "SQLite " + str(connection.exec_driver_sql("select sqlite_version()").scalar())
        return "PostgreSQL " + str(connection.exec_driver_sql("show server_version").scalar()).split()[0]


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
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
    parser.add_argument("--mentions", type=int, default=1_000_000, help="a year of mentions, all brands together")
    parser.add_argument("--brands", type=int, default=50)
    parser.add_argument("--postgres-url", default=os.environ.get("REVIEW_WATCH_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL (default: $REVIEW_WATCH_TEST_POSTGRES_URL)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(f"machine: {describe_machine()}", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as directory:
        results.append(measure("sqlite", f"sqlite:///{Path(directory) / 'bench.db'}", args.mentions, args.brands))
    if args.postgres_url and not args.no_postgres:
        with postgres_database(args.postgres_url) as url:
            results.append(measure("postgresql", url, args.mentions, args.brands))
    else:
        print("  postgresql: skipped (give --postgres-url or set REVIEW_WATCH_TEST_POSTGRES_URL)")
    print()
    print("| backend | mentions (a year, all brands) | seeding | one brand's weekly digest | "
          "without the report indexes | the brand's mentions that week |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r.version} | {r.mentions:,} | {r.seed_s:.0f} s | {r.digest_ms:,.0f} ms | "
              f"{r.digest_without_indexes_ms:,.0f} ms | {r.week_mentions:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
