"""Crisis check benchmark (not a test): the cost of `services/incidents.check` after a crawl, with a year of
history for 50 brands (a million mentions by default).

For each backend (SQLite always; PostgreSQL when a server URL is given or REVIEW_WATCH_TEST_POSTGRES_URL is
set), a fresh database is filled in bulk (SQLAlchemy core inserts of 10,000 rows; COPY on PostgreSQL): 50
brands with two sources each, a year of mentions (a daily rhythm, 30% judged negative) and their sentiment
results. Then:

- the first check, which learns every scope's usual rate from four half-lives of history (once per database);
- the check after a crawl, as the median and the worst of --crawls crawls: each stores 15 minutes' worth of new
  mentions, the clock moves on 15 minutes, and the check runs with the stored usual rates (the goal: under
  100 ms);
- the obvious alternative in the same run: the same check with no stored usual rates, so that every check
  relearns them from the history.

    python bench/bench_crisis.py [--mentions 1000000] [--brands 50] [--crawls 20] [--postgres-url URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_scheduler import postgres_database
from machine import describe_machine
from sqlalchemy import Engine, delete, func, insert, select, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from review_watch.config import load_config  # noqa: E402
from review_watch.entrypoints.bootstrap import App  # noqa: E402
from review_watch.services import incidents  # noqa: E402
from review_watch.storage.orm import Brand, CrisisBaseline, Incident, Mention, SentimentResult, Source  # noqa: E402

NOW = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
CHUNK = 10_000
CRAWL = timedelta(minutes=15)


def config_text(url: str, brands: int) -> str:
    parts = [f'[database]\nurl = "{url}"\n\n[[calendars]]\nname = "utc"\ntimezone = "UTC"\n'
             'hours = { mon = ["00:00-24:00"], tue = ["00:00-24:00"], wed = ["00:00-24:00"], '
             'thu = ["00:00-24:00"], fri = ["00:00-24:00"] }\n\n[sla]\ncalendar = "utc"\n\n'
             '[[staff]]\nname = "Lena"\ntelegram_id = 999\nrole = "lead"\n']
    for b in range(brands):
        parts.append(f'\n[[brands]]\nname = "Brand {b:02d}"\n')
        for kind, url_ in (("trustpilot", f"https://www.trustpilot.com/review/brand{b}.example"),
                           ("googleplay", f"https://play.google.com/store/apps/details?id=com.brand{b}")):
            parts.append(f'\n[[sources]]\nname = "brand{b:02d}-{kind}"\ntype = "{kind}"\nurl = "{url_}"\n'
                         f'brand = "Brand {b:02d}"\n')
    return "".join(parts)


class Seeder:
    """Rows for mentions and their sentiment results, with ids counted on from the last."""

    def __init__(self, app: App, seed: int = 11) -> None:
        self.app = app
        self.rng = random.Random(seed)
        with app.unit_of_work() as uow:
            self.sources = [(source_id, brand_id) for source_id, brand_id in uow.session.execute(
                select(Source.id, Source.brand_id).order_by(Source.id))]
        self.next_id = 1

    def arrival(self, start: datetime, span: timedelta) -> datetime:
        """A daily rhythm: busier in the afternoon (UTC), quiet at night."""
        while True:
            at = start + span * self.rng.random()
            if self.rng.random() < 0.35 + 0.65 * math.sin(math.pi * at.hour / 24):
                return at

    def insert(self, count: int, start: datetime, span: timedelta) -> None:
        engine = self.app.engine
        for first in range(0, count, CHUNK):
            mentions, sentiments = [], []
            for _ in range(min(CHUNK, count - first)):
                mention_id = self.next_id
                self.next_id += 1
                source_id, brand_id = self.rng.choice(self.sources)
                arrived = self.arrival(start, span)
                negative = self.rng.random() < 0.3
                mentions.append({
                    "id": mention_id, "source_id": source_id, "external_id": f"m-{mention_id}",
                    "brand_id": brand_id, "text": "Terrible service" if negative else "Lovely",
                    "rating": 1.0 if negative else 5.0, "rating_max": 5.0, "language": "en",
                    "content_hash": f"{mention_id:064x}", "raw": {}, "arrived_at": arrived,
                    "published_at": arrived - timedelta(minutes=self.rng.randint(1, 90)), "edit_count": 0})
                sentiments.append({
                    "mention_id": mention_id, "label": "negative" if negative else "positive", "score": 0.9,
                    "negative": negative, "language": "en", "model": "bench", "classified_at": arrived,
                    "churn_intent": False, "threat": False, "staff_abuse": False, "unsure": False})
            if engine.dialect.name == "postgresql":
                _copy(engine, "mentions", mentions)
                _copy(engine, "sentiment_results", sentiments)
                continue
            with engine.begin() as connection:
                connection.execute(insert(Mention), mentions)
                connection.execute(insert(SentimentResult), sentiments)


def _copy(engine: Engine, table: str, rows: Sequence[Mapping[str, object]]) -> None:
    """PostgreSQL's COPY: many times faster than INSERT for a year of history."""
    columns = list(rows[0])
    connection = engine.raw_connection()
    try:
        with connection.cursor() as cursor, cursor.copy(  # type: ignore[attr-defined]
                f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([json.dumps(v) if isinstance(v, dict) else v for v in row.values()])
        connection.commit()
    finally:
        connection.close()


@dataclass(frozen=True)
class Figures:
    backend: str
    mentions: int
    seed_s: float
    first_ms: float
    median_ms: float
    worst_ms: float
    relearn_ms: float
    incidents: int


def measure(backend: str, url: str, mentions: int, brands: int, crawls: int) -> Figures:
    with tempfile.TemporaryDirectory() as directory:
        config_path = Path(directory) / "review-watch.toml"
        config_path.write_text(config_text(url, brands), encoding="utf-8")
        now = [NOW]
        app = App(load_config(config_path), clock=lambda: now[0])
        app.sessions  # noqa: B018 - creates the schema, the brands and the sources
        seeder = Seeder(app)
        started = time.perf_counter()
        seeder.insert(mentions, NOW - timedelta(days=365), timedelta(days=365))
        with app.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        seed_s = time.perf_counter() - started
        print(f"  {backend}: {mentions:,} mentions inserted in {seed_s:.1f} s", flush=True)
        per_crawl = max(1, round(mentions / (365 * 24 * 4)))

        def check() -> float:
            started = time.perf_counter()
            with app.unit_of_work() as uow:
                incidents.check(uow, app.config, app.clock)
            return (time.perf_counter() - started) * 1000

        first_ms = check()
        times, relearn = [], []
        for _ in range(crawls):
            seeder.insert(per_crawl, now[0], CRAWL)
            now[0] += CRAWL
            times.append(check())
        for _ in range(3):
            with app.unit_of_work() as uow:
                uow.session.execute(delete(CrisisBaseline))
                uow.commit()
            relearn.append(check())
        with app.unit_of_work() as uow:
            opened = uow.session.scalar(select(func.count(Incident.id))) or 0
            assert uow.session.scalar(select(func.count(Brand.id))) == brands
        app.engine.dispose()
        return Figures(backend, mentions, seed_s, first_ms, statistics.median(times), max(times),
                       statistics.median(relearn), opened)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--brands", type=int, default=50)
    parser.add_argument("--crawls", type=int, default=20)
    parser.add_argument("--postgres-url", default=os.environ.get("REVIEW_WATCH_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL (default: $REVIEW_WATCH_TEST_POSTGRES_URL)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(f"machine: {describe_machine()}", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as directory:
        results.append(measure("SQLite", f"sqlite:///{Path(directory) / 'bench.db'}", args.mentions, args.brands,
                               args.crawls))
    if args.postgres_url and not args.no_postgres:
        with postgres_database(args.postgres_url) as url:
            results.append(measure("PostgreSQL", url, args.mentions, args.brands, args.crawls))
    else:
        print("  postgresql: skipped (give --postgres-url or set REVIEW_WATCH_TEST_POSTGRES_URL)")
    print()
    print("| backend | mentions | seeding | first check (learns the usual rates) | check after a crawl: median "
          "| worst | relearning every check (the alternative) | incidents opened |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r.backend} | {r.mentions:,} | {r.seed_s:.0f} s | {r.first_ms:,.0f} ms | {r.median_ms:.1f} ms "
              f"| {r.worst_ms:.1f} ms | {r.relearn_ms:,.0f} ms | {r.incidents} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
