"""One loopback server for all spider tests, and the crawls over it (each in a subprocess, since
Twisted's reactor cannot restart in one process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.spiders.fixture_server import FixtureServer
from tests.spiders.fixture_sources import (
    FAST,
    Source,
    bad_sources,
    fallback_sources,
    good_sources,
    install_routes,
)


@dataclass
class CrawlResult:
    items: list[dict[str, Any]]
    stats: dict[str, dict[str, Any]]
    log: str

    def of(self, source: str) -> list[dict[str, Any]]:
        return [item for item in self.items if item["source"] == source]


def run_crawl(server: FixtureServer, sources: list[dict[str, Any]], out: Path,
              settings: dict[str, Any] | None = None) -> CrawlResult:
    out.mkdir(parents=True, exist_ok=True)
    spec = {"sources": sources, "settings": {**FAST, **(settings or {})}}
    (out / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.spiders.crawl_harness", str(out / "spec.json"), str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
    )
    if done.returncode != 0:
        raise AssertionError(f"crawl harness failed ({done.returncode}):\n{done.stderr[-4000:]}")
    items = [json.loads(line) for line in (out / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    return CrawlResult(items, stats, done.stderr)


def source_spec(server: FixtureServer, source: Source, known_ids: list[str] | None = None) -> dict[str, Any]:
    return {"name": source.name, "type": source.type, "url": server.url(source.path), "brand": source.brand,
            "known_ids": known_ids or []}


@pytest.fixture(scope="session")
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as running:
        install_routes(running)
        yield running


@pytest.fixture(scope="session")
def full_crawl(server: FixtureServer, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    """Every fixture source and every broken one, crawled together with brand filtering off."""
    sources = [source_spec(server, s) for s in good_sources() + fallback_sources() + bad_sources()]
    return run_crawl(server, sources, tmp_path_factory.mktemp("full"), {"ITEM_PIPELINES": {}})


INCREMENTAL = ["tp-djmania.es", "tp-www.burgerking.fr", "as-0", "gp-twitter", "reddit-0", "hn-1", "md-hoot",
               "bs-author", "so-0"]
BRANDS = [
    {"name": "Trump", "aliases": ["Trump", "Трамп"], "exclude": ["Trump Tower"]},
    {"name": "Apple", "aliases": ["Apple", "iPhone"], "exclude": []},
]
BRAND_FILTERED = ["rss-1", "hn-0", "reddit-2", "md-public"]


@pytest.fixture(scope="session")
def second_crawl(server: FixtureServer, full_crawl: CrawlResult,
                 tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    """A scheduled re-run: the ids of the first crawl are known; brand filtering is on
    (REVIEW_WATCH_BRANDS, and a spider-level brand_matcher for one source); one source is rate limited."""
    by_name = {s.name: s for s in good_sources()}
    sources = [
        source_spec(server, by_name[name], sorted({i["external_id"] for i in full_crawl.of(name)}))
        for name in INCREMENTAL
    ]
    sources += [source_spec(server, by_name[name]) for name in BRAND_FILTERED]
    heise = source_spec(server, by_name["rss-2"])
    heise["brands"] = [{"name": "Red Hat", "aliases": ["Red Hat"], "exclude": []}]
    sources.append(heise)
    sources.append(source_spec(server, Source("limited", "hackernews", "/api/v1/search?query=limited", (), None)))
    return run_crawl(server, sources, tmp_path_factory.mktemp("second"), {"REVIEW_WATCH_BRANDS": BRANDS})
