"""Crawl benchmark on loopback fixtures (not a test).

Serves every recorded fixture from ../shared/fixtures over HTTP on 127.0.0.1, then runs the real crawl
path (review_watch.entrypoints.crawl_runner.run_crawl: Scrapy in-process, the brand filter, the storage pipeline
writing to a fresh SQLite database) twice:

1. a full crawl, reporting pages/s and items/s (wall time of run_crawl, storage included; sentiment
   classification is not part of the crawl and is measured by bench_classify.py);
2. a second, incremental crawl of the same sources, reporting how many HTTP requests it made.

AutoThrottle and the download delay are switched off so the numbers measure parsing and storage, not
politeness. Each crawl runs in its own process (Twisted's reactor cannot restart).

    python bench/bench_crawl.py [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from machine import describe_machine

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the fixture routes live in tests/spiders

UNTHROTTLED = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
               "LOG_LEVEL": "WARNING"}
EXTRA_BRANDS = """
[[brands]]
name = "Apple"
aliases = ["Apple", "iPhone"]

[[brands]]
name = "Trump"
aliases = ["Trump"]
"""


def child(config_path: str) -> None:
    """One crawl: prints {"seconds", "pages", "items", "new", "failed"} as JSON on the last line."""
    from review_watch.config import load_config
    from review_watch.entrypoints.bootstrap import App
    from review_watch.entrypoints.crawl_runner import run_crawl

    app = App(load_config(Path(config_path)))
    app.sessions  # noqa: B018 - migrate and sync the config before the clock starts
    started = time.perf_counter()
    summaries = run_crawl(app.config, app.sessions, app.clock, settings_overrides=UNTHROTTLED,
                          locks=app.coordination)
    seconds = time.perf_counter() - started
    figures = [s.figures for s in summaries]
    print(json.dumps({
        "seconds": seconds,
        "pages": sum(f.pages for f in figures),
        "items": sum(f.items for f in figures),
        "new": sum(f.new for f in figures),
        "failed": [s.name for s in summaries if s.figures.failed],
    }))


@dataclass
class CrawlRun:
    seconds: float
    pages: int
    items: int
    new: int
    failed: list[str]


def crawl_once(config: Path) -> CrawlRun:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(config)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"crawl failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
    return CrawlRun(**json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary folder")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    from tests.spiders.fixture_server import FixtureServer
    from tests.spiders.fixture_sources import good_sources, install_routes
    from tests.support.configs import source_block, write_config

    with tempfile.TemporaryDirectory() as folder, FixtureServer() as server:
        install_routes(server)
        sources = good_sources()
        blocks = "".join(source_block(s.name, s.type, server.url(s.path), s.brand) for s in sources)
        database_url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        config = write_config(Path(folder), database_url=database_url, sources=blocks, extra=EXTRA_BRANDS)

        first = crawl_once(config)
        requests_first = len([h for h in server.hits if h.path != "/robots.txt"])
        second = crawl_once(config)
        requests_second = len([h for h in server.hits if h.path != "/robots.txt"]) - requests_first

    print(f"machine: {describe_machine()}")
    print(f"sources: {len(sources)} (every fixture file), database: {database_url.split(':')[0]}")
    print(f"full crawl:        {first.pages} pages, {first.items} items parsed, {first.new} new stored "
          f"in {first.seconds:.2f} s -> {first.pages / first.seconds:.1f} pages/s, "
          f"{first.items / first.seconds:.1f} items/s; {requests_first} requests")
    print(f"incremental crawl: {requests_second} requests ({second.pages} pages), {second.new} new stored, "
          f"{second.seconds:.2f} s")
    for run in (first, second):
        if run.failed:
            print(f"failed sources: {run.failed}")


if __name__ == "__main__":
    main()
