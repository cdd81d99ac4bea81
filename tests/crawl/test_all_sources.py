"""`review-watch crawl` over every fixture source at once, then `export`; a second crawl stores nothing new."""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POSTGRES_ENV
from tests.crawl.support import BASE_BRANDS, BRANDS, counts, crawl_config, export, summary_lines, when
from tests.spiders import expected
from tests.spiders.fixture_server import FixtureServer, Reply
from tests.spiders.fixture_sources import Source, bad_sources, good_sources, install_routes
from tests.support.cli import review_watch

EXPECTED_FROM: dict[str, Callable[[str], list[dict[str, Any]]]] = {
    "trustpilot": expected.trustpilot, "appstore": expected.appstore, "googleplay": expected.googleplay,
    "reddit": expected.reddit, "hackernews": expected.hackernews, "mastodon": expected.mastodon,
    "bluesky": expected.bluesky, "rss": expected.rss, "schemaorg": expected.schemaorg,
}
REVIEW_SITES = {"trustpilot", "appstore", "googleplay", "schemaorg"}
TIME_BUDGET = 10  # seconds; the "timeout" source never answers within it
BAD_REASONS = {
    "bad-truncated": "truncated page",
    "bad-json": "invalid JSON",
    "bad-403": "HTTP 403",
    "bad-timeout": r"time budget|timed out",
    "bad-robots": "robots.txt",
    "bad-one-record": "KeyError",
}
# One small source of each type (and two broken ones), for the run on PostgreSQL.
ONE_PER_TYPE = ["tp-www.granada.no", "as-web", "gp-twitter", "reddit-2", "hn-1", "md-hoot", "bs-search", "rss-0",
                "so-4"]


def brands_of(record: dict[str, Any]) -> list[str]:
    """The expected rule, written out independently of the matcher: the brands (config order) one of whose
    aliases occurs as a whole word, case-insensitively, with none of their exclusions."""
    text = f"{record['title'] or ''}\n{record['text']}"

    def occurs(phrase: str) -> bool:
        words = r"\s+".join(re.escape(word) for word in phrase.split())
        return re.search(rf"(?<!\w){words}(?!\w)", text, re.I) is not None

    return [name for name, aliases, exclude in BASE_BRANDS + BRANDS
            if any(occurs(a) for a in aliases) and not any(occurs(e) for e in exclude)]


def expected_mentions(source: Source) -> list[dict[str, Any]]:
    """What the source must store: every record of its fixtures once; social ones once per brand they mention
    (the first under the post's id, the others under "<id>#brand=<name>"), none when they mention none."""
    if source.name == "bad-one-record":  # the public timeline, its fourth status without an id
        statuses = expected.mastodon("mastodon/api_v1_timelines_public_mastodon-4.6.4_localhost_2026-08.json")
        records = [r for n, r in enumerate(statuses) if n != 3]
    elif source.name == "reddit-removed":  # askreddit comments: two removed, the third one's author deleted
        records = expected.reddit("reddit/r_askreddit_comments_2016-07.json")[2:]
        records[0] = records[0] | {"author": None}
    else:
        records = [r for path in source.fixtures for r in EXPECTED_FROM[source.type](path)]
    if source.type != "schemaorg":
        records = list({r["external_id"]: r for r in records}.values())
    if source.type in REVIEW_SITES:
        return [r | {"brand": source.brand} for r in records]
    return [r | {"brand": brand, "external_id": r["external_id"] + (f"#brand={brand}" if n else "")}
            for r in records for n, brand in enumerate(brands_of(r))]


def check_rows(source: Source, rows: list[dict[str, Any]]) -> None:
    want = expected_mentions(source)
    assert len(rows) == len(want), source.name
    assert len({r["external_id"] for r in rows}) == len(rows), source.name
    for row in rows:
        assert row["source_type"] == source.type
        if source.type not in REVIEW_SITES:
            assert (row["rating"], row["rating_max"]) == (None, None)
        elif row["rating"] is not None:
            assert row["rating_max"] == 5.0
    if source.type == "schemaorg":  # reviews rarely carry ids: compare what they say
        def key(r: dict[str, Any], published: Any) -> tuple[Any, ...]:
            return r["author"], published, r["rating"], expected.norm(r["text"]), r["brand"]
        assert Counter(key(r, when(r["published_at"])) for r in rows) == Counter(
            key(r, r["published_at"]) for r in want), source.name
        return
    by_id = {r["external_id"]: r for r in rows}
    assert set(by_id) == {r["external_id"] for r in want}, source.name
    for record in want:
        row = by_id[record["external_id"]]
        where = (source.name, record["external_id"])
        assert expected.norm(row["text"]) == record["text"] and row["text"] == row["text"].strip(), where
        assert row["rating"] == record["rating"], where
        assert when(row["published_at"]) == record["published_at"], where
        assert row["author"] == record["author"], where
        assert row["url"] == record["url"], where
        assert expected.norm(row["title"]) == (record["title"] or ""), where
        assert row["brand"] == record["brand"], where


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as running:
        install_routes(running)
        # The "timeout" source answers long after the crawl's time budget (and its download timeout).
        running.routes["/xrpc/app.bsky.feed.searchPosts?q=slow"] = Reply(b'{"posts": []}', delay=60)
        yield running


def crawl_and_check(tmp_path: Path, database_url: str, server: FixtureServer, sources: list[Source]) -> None:
    config = crawl_config(tmp_path, database_url, server, sources, crawl={"time_budget": TIME_BUDGET},
                          brands=BRANDS)
    first = review_watch_crawl(config)
    assert first.returncode == 1, first.stderr[-3000:]  # some sources failed
    assert "Traceback" not in first.stderr
    summary = summary_lines(first.stdout)
    assert set(summary) == {s.name for s in sources}

    rows = export(config)
    for source in sources:
        mine = [r for r in rows if r["source"] == source.name]
        check_rows(source, mine)
        line = summary[source.name]
        assert counts(line)["new"] == len(mine), (source.name, line)
        if source.name in BAD_REASONS:
            assert re.search(rf"— FAILED: .*({BAD_REASONS[source.name]})", line), (source.name, line)
        else:
            assert line.endswith("— ok") and counts(line)["failed"] == 0, (source.name, line)
            if source.type in REVIEW_SITES:
                assert mine, f"{source.name} stored nothing"
    total = sum(len(expected_mentions(s)) for s in sources)
    assert len(rows) == total and f"{total} new mentions stored" in first.stdout
    assert len({r["id"] for r in rows}) == len(rows)
    # Social posts that mention no brand are not stored at all.
    dropped = [s for s in sources if s.type not in REVIEW_SITES and s.fixtures and not expected_mentions(s)]
    assert all(not [r for r in rows if r["source"] == s.name] for s in dropped)

    second = review_watch_crawl(config)
    assert "Traceback" not in second.stderr
    assert "nothing new stored" in second.stdout
    for name, line in summary_lines(second.stdout).items():
        assert counts(line)["new"] == counts(line)["updated"] == 0, (name, line)  # unchanged is no edit
        assert (name in BAD_REASONS) == ("FAILED" in line), (name, line)
    assert export(config) == rows


def review_watch_crawl(config: Path) -> subprocess.CompletedProcess[str]:
    return review_watch("crawl", config=config, check=False, timeout=240)


def test_every_fixture_source_crawled_together_then_exported(tmp_path: Path, server: FixtureServer) -> None:
    sources = good_sources() + bad_sources()
    crawl_and_check(tmp_path, f"sqlite:///{tmp_path / 'review-watch.db'}", server, sources)
    assert {s.type for s in sources} == set(EXPECTED_FROM)


@pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason=f"{POSTGRES_ENV} is not set")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_one_source_of_each_type_on_postgresql(tmp_path: Path, server: FixtureServer, database_url: str) -> None:
    by_name = {s.name: s for s in good_sources() + bad_sources()}
    sources = [by_name[n] for n in ONE_PER_TYPE] + [by_name["bad-truncated"], by_name["bad-json"]]
    crawl_and_check(tmp_path, database_url, server, sources)
