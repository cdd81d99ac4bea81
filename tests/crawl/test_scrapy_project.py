"""The repository is a Scrapy project: `scrapy list` names the nine source types, and `scrapy crawl TYPE
-a source=NAME` (the config named by $REVIEW_WATCH_CONFIG) stores the same rows as `review-watch crawl`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spiders.source_types import SOURCE_TYPES
from tests.conftest import REPO
from tests.crawl.support import BRANDS, crawl_config
from tests.spiders.fixture_server import FixtureServer
from tests.spiders.fixture_sources import Source, good_sources, install_routes
from tests.support.cli import review_watch

# A review site over two pages (its third is its first again) and a social source whose posts are kept
# only when they name a configured brand.
SOURCES = ["tp-www.burgerking.fr", "md-hoot"]


def scrapy(*args: str, config: Path | None) -> subprocess.CompletedProcess[str]:
    """The real `scrapy` command in the project root, as a Scrapy user runs it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("REVIEW_WATCH_CONFIG", None)
    if config is not None:
        env["REVIEW_WATCH_CONFIG"] = str(config)
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=240, env=env)


def stored_rows(database: Path) -> list[tuple[Any, ...]]:
    """Every stored mention with what belongs to it, leaving out only when it was stored."""
    query = """
        SELECT s.name, s.type, m.external_id, b.name, a.platform, a.key, a.display_name, m.url, m.published_at,
               m.rating, m.rating_max, m.title, m.text, m.language, m.content_hash, d.external_id, m.raw, m.edit_count
        FROM mentions m JOIN sources s ON s.id = m.source_id LEFT JOIN brands b ON b.id = m.brand_id
        LEFT JOIN authors a ON a.id = m.author_id LEFT JOIN mentions d ON d.id = m.duplicate_of_id
        ORDER BY s.name, m.external_id"""
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as running:
        install_routes(running)
        yield running


def test_scrapy_list_names_the_nine_source_types() -> None:
    done = scrapy("list", config=None)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == sorted(SOURCE_TYPES)


def test_scrapy_crawl_of_a_configured_source_stores_what_review_watch_crawl_stores(
        tmp_path: Path, server: FixtureServer) -> None:
    sources: list[Source] = [s for s in good_sources() if s.name in SOURCES]
    by_review_watch, by_scrapy = tmp_path / "review-watch", tmp_path / "scrapy"
    by_review_watch.mkdir()
    by_scrapy.mkdir()
    config = crawl_config(by_review_watch, f"sqlite:///{by_review_watch / 'db.sqlite'}", server, sources,
                          brands=BRANDS)
    scrapy_config = crawl_config(by_scrapy, f"sqlite:///{by_scrapy / 'db.sqlite'}", server, sources,
                                 brands=BRANDS)

    crawled = review_watch("crawl", config=config, timeout=240)
    assert "Traceback" not in crawled.stderr
    for source in sources:
        done = scrapy("crawl", source.type, "-a", f"source={source.name}", config=scrapy_config)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Traceback" not in done.stderr, done.stderr[-3000:]

    expected = stored_rows(by_review_watch / "db.sqlite")
    assert {row[0] for row in expected} == set(SOURCES)  # both sources stored something
    assert stored_rows(by_scrapy / "db.sqlite") == expected


def test_scrapy_crawl_of_a_source_of_another_type_names_the_right_command(tmp_path: Path) -> None:
    sources = [s for s in good_sources() if s.name == "md-hoot"]
    with FixtureServer() as idle:
        config = crawl_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", idle, sources)
    done = scrapy("crawl", "trustpilot", "-a", "source=md-hoot", config=config)
    assert done.returncode != 0
    assert "source 'md-hoot' is a mastodon source, not trustpilot: scrapy crawl mastodon -a source=md-hoot" \
        in done.stderr
