"""Two `review-watch crawl` runs started at once on two "machines" (separate processes with separate lock
folders) against one PostgreSQL database never crawl one source at the same time: the sources' locks are in
the database. The fixture server counts the requests in flight per source and finds no overlap."""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_ENV
from tests.crawl.support import counts, crawl_config, export, summary_lines
from tests.spiders.fixture_server import FixtureServer, Hit, Reply
from tests.spiders.fixture_sources import Source
from tests.support.cli import start_review_watch
from tests.support.pages import Review, trustpilot_page

HTML = "text/html; charset=utf-8"
SOURCES = [Source(f"acme-{n}", "trustpilot", f"/review/shop{n}.example", ()) for n in range(4)]
REVIEWS = {s.name: [Review(f"6d0000000000000000000{n}{k:02d}", 2 + k, f"Review {k} of shop {n}.")
                    for k in range(2)] for n, s in enumerate(SOURCES)}
LOCKED = "skipped (another crawl of this source is running)"
HOLD = 1.5  # seconds each page takes to answer: long enough for the two runs to meet on a source


class InFlight:
    """Counts each source's requests being answered; remembers the most at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: dict[str, int] = defaultdict(int)
        self.most: dict[str, int] = defaultdict(int)

    def route(self, path: str, body: bytes) -> Callable[[Hit], Reply]:
        def answer(hit: Hit) -> Reply:
            with self.lock:
                self.now[path] += 1
                self.most[path] = max(self.most[path], self.now[path])
            time.sleep(HOLD)
            with self.lock:
                self.now[path] -= 1
            return Reply(body, HTML)

        return answer


@pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason=f"{POSTGRES_ENV} is not set")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_machines_never_crawl_one_source_at_once(tmp_path: Path, database_url: str) -> None:
    in_flight = InFlight()
    with FixtureServer() as server:
        server.routes["/robots.txt"] = Reply(b"User-agent: *\nAllow: /\n", "text/plain")
        for source in SOURCES:
            server.routes[source.path] = in_flight.route(source.path, trustpilot_page(REVIEWS[source.name]))
        configs = []
        for machine in ("a", "b"):
            (tmp_path / machine).mkdir()
            configs.append(crawl_config(tmp_path / machine, database_url, server, SOURCES,
                                        crawl={"lock_file": str(tmp_path / machine / "locks")}))
        logs = [tmp_path / f"crawl-{machine}.log" for machine in ("a", "b")]
        runs = [start_review_watch("crawl", config=config, log=log) for config, log in zip(configs, logs, strict=True)]
        for run in runs:
            assert run.wait(timeout=240) == 0
        outputs = [log.read_text(encoding="utf-8") for log in logs]
        fetched = {s.path: len(server.hits_for(s.path)) for s in SOURCES}

    assert all("Traceback" not in output for output in outputs), outputs
    assert max(in_flight.most.values()) == 1, dict(in_flight.most)  # no source crawled by both at once
    lines = [summary_lines(output) for output in outputs]
    for source in SOURCES:
        crawled = [machine[source.name] for machine in lines if machine[source.name] != LOCKED]
        skipped = [machine[source.name] for machine in lines if machine[source.name] == LOCKED]
        assert crawled, f"{source.name} was crawled by neither run"
        if skipped:  # the other run met it locked
            assert len(crawled) == 1 and fetched[source.path] == 1
        assert sum(counts(line)["new"] for line in crawled) == 2
    assert any(LOCKED in machine.values() for machine in lines), "the runs never met: nothing was tested"
    rows = export(configs[0])
    assert sorted((r["source"], r["external_id"]) for r in rows) == sorted(
        (name, review.id) for name, reviews in REVIEWS.items() for review in reviews)
