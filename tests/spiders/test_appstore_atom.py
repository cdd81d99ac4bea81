"""The App Store's customer-reviews feed in its Atom XML form, crawled over HTTP through two pages.

No recorded Atom page is among the shared fixtures, so the pages are written here in the feed's format."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.spiders.conftest import run_crawl
from tests.spiders.fixture_server import FixtureServer, Reply
from tests.support.pages import Review, app_store_atom_page

ATOM = "application/atom+xml; charset=utf-8"
PAGE_1 = "/us/rss/customerreviews/id=284815942/sortby=mostrecent/xml"
PAGE_2 = "/us/rss/customerreviews/page=2/id=284815942/sortby=mostrecent/xml"
FIRST = [Review("9000000001", 1, "Crashes every time I open a PDF & nobody answers <support>.", title="Crashes",
                author="Maja K", published="2026-11-20T08:00:00.000Z"),
         Review("9000000002", 5, "Works great.", title="Love it", author="Olle")]
SECOND = [Review("9000000003", 2, "Sync stopped after the update.", title="Sync broken", author="Dana")]


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as running:
        running.routes["/robots.txt"] = Reply(b"User-agent: *\nAllow: /\n", "text/plain")
        running.routes[PAGE_1] = Reply(app_store_atom_page(FIRST, next_url="{base}" + PAGE_2), ATOM)
        running.routes[PAGE_2] = Reply(app_store_atom_page(SECOND), ATOM)
        yield running


def test_atom_feed_reviews_come_through_both_pages_without_the_app_entry(
        server: FixtureServer, tmp_path: Path) -> None:
    spec = {"name": "as-atom", "type": "appstore", "url": server.url(PAGE_1), "brand": "Acme", "known_ids": []}
    result = run_crawl(server, [spec], tmp_path, {"ITEM_PIPELINES": {}})
    items = {item["external_id"]: item for item in result.of("as-atom")}
    assert set(items) == {"9000000001", "9000000002", "9000000003"}  # not the app's own entry
    first = items["9000000001"]
    assert first["text"] == "Crashes every time I open a PDF & nobody answers <support>."  # the text, not the HTML
    assert (first["title"], first["author"], first["rating"], first["rating_max"]) == ("Crashes", "Maja K", 1.0, 5.0)
    assert first["published_at"] == "2026-11-20T15:00:00+00:00"  # -07:00 in the feed, UTC stored
    assert first["author_id"] == str(zlib.crc32(b"Maja K"))  # from the author's uri, as in the JSON feed
    assert first["url"] == "https://itunes.apple.com/us/review?id=284815942&type=Purple%20Software"
    assert [items[i]["rating"] for i in ("9000000002", "9000000003")] == [5.0, 2.0]
    assert len(server.hits_for(PAGE_1)) == len(server.hits_for(PAGE_2)) == 1
