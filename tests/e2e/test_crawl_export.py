"""`review-watch crawl` then `export` over the recorded Trustpilot pages on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from review_watch.services.export import EXPORT_FIELDS
from tests.conftest import shared_dir
from tests.spiders.fixture_server import FixtureServer, Reply
from tests.support.cli import review_watch, start_review_watch
from tests.support.configs import source_block, write_config

TRUSTPILOT = shared_dir() / "fixtures" / "trustpilot"
PAGES = {  # source name -> (path, fixture served as page 1, fixture served as page 2)
    "burgerking-fr": ("/review/www.burgerking.fr", "review_www.burgerking.fr_fr_2024-06.html",
                      "review_sumeria.eu_en_2025-05.html"),
    "granada-no": ("/review/www.granada.no", "review_www.granada.no_no_single-review_2024.html", None),
    "twenix-es": ("/review/twenix.es", "review_twenix.es_en_2025-05.html", "review_djmania.es_es_2024-06.html"),
}


def next_data_reviews(name: str) -> list[dict[str, Any]]:
    page = (TRUSTPILOT / name).read_text(encoding="utf-8")
    match = re.search(r'<script id="__NEXT_DATA__"[^>]*>(.*?)</script>', page, re.S)
    assert match is not None
    reviews: list[dict[str, Any]] = json.loads(match.group(1))["props"]["pageProps"]["reviews"]
    return reviews


def expected_reviews() -> dict[tuple[str, str], dict[str, Any]]:
    expected = {}
    for source, (_, first, second) in PAGES.items():
        for name in (first, second):
            for review in next_data_reviews(name) if name else []:
                expected[(source, review["id"])] = review
    return expected


def install(server: FixtureServer, delay: float = 0.0) -> None:
    server.routes["/robots.txt"] = Reply(b"User-agent: *\nAllow: /\n", "text/plain")
    for path, first, second in PAGES.values():
        # page 1, and any page after the last recorded one (nothing new there: paging stops)
        server.routes[path] = Reply((TRUSTPILOT / first).read_bytes(), "text/html", delay=delay)
        if second:
            server.routes[f"{path}?page=2"] = Reply((TRUSTPILOT / second).read_bytes(), "text/html", delay=delay)


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as running:
        install(running)
        yield running


def _config(tmp_path: Path, database_url: str, server: FixtureServer) -> Path:
    sources = "".join(source_block(name, "trustpilot", server.url(path)) for name, (path, _, _) in PAGES.items())
    return write_config(tmp_path, database_url=database_url, sources=sources)


def export(config: Path) -> list[dict[str, Any]]:
    out = review_watch("export", "--format", "jsonl", config=config).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_crawl_then_export_lists_every_review_once_with_the_contract_fields(
        tmp_path: Path, database_url: str, server: FixtureServer) -> None:
    config = _config(tmp_path, database_url, server)
    first = review_watch("crawl", config=config)
    rows = export(config)
    expected = expected_reviews()
    assert len(rows) == len(expected) == 20 + 20 + 1 + 20 + 20
    assert len({(r["source"], r["external_id"]) for r in rows}) == len(rows)  # no duplicates
    for row in rows:
        assert tuple(row) == EXPORT_FIELDS
        review = expected[(row["source"], row["external_id"])]
        assert row["rating"] == review["rating"] and row["rating_max"] == 5
        published = review["dates"]["publishedDate"]
        assert row["published_at"] == published.replace(".000Z", "Z")
        assert row["url"] == f"https://www.trustpilot.com/reviews/{review['id']}"
        assert row["author"] == review["consumer"]["displayName"]
        assert row["source_type"] == "trustpilot" and row["brand"] == "Acme"
        assert row["sentiment"] in ("negative", "neutral", "positive")
        if row["negative"] and not row["unsure"]:  # an unsure one waits on the leads' list, with no case
            assert row["status"] == "assigned" and row["assignee"] and row["deadline"]
        else:
            assert (row["status"], row["assignee"], row["deadline"]) == ("none", None, None)
    one_star = [r for r in rows if r["rating"] == 1]
    assert one_star and all(r["negative"] for r in one_star)
    assert "81 new mentions stored" in first.stdout

    second = review_watch("crawl", config=config)
    assert "nothing new stored" in second.stdout
    assert export(config) == rows


def _stable(rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(r["source"], r["external_id"], r["text"], r["rating"], r["published_at"], r["sentiment"], r["status"])
            for r in rows}


@pytest.mark.parametrize("kill_after", [0.5, 2.0])
def test_a_killed_crawl_run_again_ends_with_the_same_data(
        tmp_path: Path, database_url: str, kill_after: float) -> None:
    with FixtureServer() as slow:
        install(slow, delay=0.4)
        config = _config(tmp_path, database_url, slow)
        crawl = start_review_watch("crawl", config=config, log=tmp_path / "killed.log")
        time.sleep(kill_after)
        crawl.send_signal(signal.SIGKILL)
        crawl.wait(timeout=30)
        review_watch("crawl", config=config)
        rows = export(config)
    assert len(rows) == len(expected_reviews())
    assert len({(r["source"], r["external_id"]) for r in rows}) == len(rows)
    alerts = [r for r in rows if r["negative"] and not r["unsure"]]
    assert all(r["status"] == "assigned" for r in alerts)
