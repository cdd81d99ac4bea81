"""Which brands a social or feed source watches: its own when it names one, every configured brand when it
does not, and then a post that mentions two brands is stored once for each (each brand's team gets a case)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.crawl.support import BrandSpec, counts, crawl_config, export, summary_lines
from tests.spiders import expected
from tests.spiders.fixture_server import FixtureServer
from tests.spiders.fixture_sources import REDDIT_JSON, Source, install_routes
from tests.support.cli import review_watch

# A reddit search whose posts name Reddit, GitHub, or both.
PATH = "/r/all/search.json?q=praw+oauth+search"
FIXTURE = f"reddit/{REDDIT_JSON[PATH]}"
BRANDS: list[BrandSpec] = [("Reddit", ["Reddit"], []), ("GitHub", ["GitHub"], [])]
SOURCES = [Source("reddit-github", "reddit", PATH, (), "GitHub"), Source("reddit-reddit", "reddit", PATH, (), "Reddit"),
           Source("reddit-all", "reddit", PATH, (), None)]


def mentioning(word: str) -> set[str]:
    """The fixture's posts that name the word, written out independently of the matcher."""
    return {r["external_id"] for r in expected.reddit(FIXTURE)
            if re.search(rf"(?<!\w){word}(?!\w)", f"{r['title']} {r['text']}", re.I)}


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as running:
        install_routes(running)
        yield running


def test_a_source_with_a_brand_watches_that_brand_and_one_without_watches_every_brand(
        tmp_path: Path, database_url: str, server: FixtureServer) -> None:
    reddit, github = mentioning("reddit"), mentioning("github")
    both = reddit & github
    assert both and reddit - github and len(expected.reddit(FIXTURE)) > len(reddit | github), "the fixture's shape"
    config = crawl_config(tmp_path, database_url, server, SOURCES, brands=BRANDS)
    first = review_watch("crawl", config=config)
    rows = export(config)

    def stored(source: str) -> set[tuple[str, str]]:
        return {(row["external_id"], row["brand"]) for row in rows if row["source"] == source}

    assert stored("reddit-github") == {(i, "GitHub") for i in github}
    assert stored("reddit-reddit") == {(i, "Reddit") for i in reddit}
    # Without a brand: every post that names a brand, once per brand it names, the first brand (in the
    # config's order) under the post's own id.
    assert stored("reddit-all") == {(i, "Reddit") for i in reddit} | {(f"{i}#brand=GitHub", "GitHub") for i in both}
    by_post = Counter(row["url"] for row in rows if row["source"] == "reddit-all")
    assert sorted(by_post.values()) == [1] * len(reddit - both) + [2] * len(both)
    lines = summary_lines(first.stdout)
    assert counts(lines["reddit-all"])["new"] == len(reddit) + len(both)

    second = review_watch("crawl", config=config)
    assert "nothing new stored" in second.stdout
    assert counts(summary_lines(second.stdout)["reddit-all"])["duplicate"] == len(reddit) + len(both)
    assert {(row["source"], row["external_id"]) for row in export(config)} == {
        (row["source"], row["external_id"]) for row in rows}
