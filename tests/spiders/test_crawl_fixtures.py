"""Every fixture crawled through real Scrapy over loopback; every item of every file checked."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.spiders import expected
from tests.spiders.conftest import CrawlResult
from tests.spiders.fixture_server import FixtureServer
from tests.spiders.fixture_sources import Source, bad_sources, fallback_sources, good_sources

EXPECTED_FROM = {
    "trustpilot": expected.trustpilot, "appstore": expected.appstore, "googleplay": expected.googleplay,
    "reddit": expected.reddit, "hackernews": expected.hackernews, "mastodon": expected.mastodon,
    "bluesky": expected.bluesky, "rss": expected.rss, "schemaorg": expected.schemaorg,
}
HTML_SOURCES = {"hackernews", "mastodon", "rss"}  # their text fields are HTML
REVIEW_SITES = {"trustpilot", "appstore", "googleplay", "schemaorg"}
HTML_LEFTOVER = re.compile(r"<(p|br|div|span|a|img|table)\b|&(amp|lt|gt|quot|nbsp|#\d+);", re.I)


def parsed(value: str | None) -> datetime:
    """An item's published_at, which must be present, timezone-aware and in UTC."""
    assert value is not None and not value.startswith("NAIVE:"), f"missing or naive datetime {value}"
    when = datetime.fromisoformat(value)
    assert when.utcoffset() == timedelta(0), value
    return when


def unique_by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Items by id; a page served twice yields its items twice, identically."""
    by_id: dict[str, dict[str, Any]] = {}
    for item in items:
        if item["external_id"] in by_id:
            assert by_id[item["external_id"]] == item
        by_id[item["external_id"]] = item
    return by_id


SOURCES_WITH_FIXTURES = [s for s in good_sources() if s.fixtures]


@pytest.mark.parametrize("source", SOURCES_WITH_FIXTURES, ids=[s.name for s in SOURCES_WITH_FIXTURES])
def test_every_item_of_every_fixture(full_crawl: CrawlResult, source: Source) -> None:
    want = [rec for path in source.fixtures for rec in EXPECTED_FROM[source.type](path)]
    got = unique_by_id(full_crawl.of(source.name))
    assert got, f"{source.name} yielded nothing"
    assert all(item["source_type"] == source.type for item in got.values())
    assert all(item["raw"] > 0 for item in got.values()), "raw record kept"
    if source.type == "schemaorg":
        check_by_content(want, list(got.values()))
        return
    assert set(got) == {rec["external_id"] for rec in want}
    for rec in want:
        item = got[rec["external_id"]]
        assert expected.norm(item["text"]) == rec["text"], rec["external_id"]
        assert item["text"] == item["text"].strip()
        if source.type in HTML_SOURCES or any(path.endswith(".xml") for path in source.fixtures):
            assert not HTML_LEFTOVER.search(item["text"]), item["text"][:200]
        assert item["author"] == rec["author"], rec["external_id"]
        assert parsed(item["published_at"]) == rec["published_at"], rec["external_id"]
        assert item["rating"] == rec["rating"]
        assert item["rating_max"] == (5.0 if source.type in REVIEW_SITES else None)
        assert item["url"] == rec["url"], rec["external_id"]
        assert expected.norm(item["title"]) == (rec["title"] or ""), rec["external_id"]
        if rec["language"] is not None:
            assert item["language"] == rec["language"]


def check_by_content(want: list[dict[str, Any]], got: list[dict[str, Any]]) -> None:
    """schema.org reviews rarely carry ids: compare what they say, and require unique stable ids."""
    def key(rec: dict[str, Any], published: datetime | None) -> tuple[Any, ...]:
        return (rec["author"], published, rec["rating"], expected.norm(rec["text"]))

    assert Counter(key(item, parsed(item["published_at"])) for item in got) == Counter(
        key(rec, rec["published_at"]) for rec in want)
    assert len({item["external_id"] for item in got}) == len(got)
    for item in got:
        if item["rating"] is not None:
            assert item["rating_max"] == 5.0
    for rec in want:
        if rec["external_id"] != "?":  # microdata: data-reviewid is the id
            assert rec["external_id"] in {item["external_id"] for item in got}


# Hard-coded spot checks, read off the fixture files by hand.
SPOT_CHECKS = [
    ("tp-www.granada.no", "5faa6d8c5e693f0a8422eca0",
     {"author": "Hilde Rahn", "rating": 5.0, "published_at": "2020-11-10T10:38:04+00:00", "language": "no",
      "title": "En perfekt samarbeidsparter innen ehandel",
      "url": "https://www.trustpilot.com/reviews/5faa6d8c5e693f0a8422eca0"}),
    ("tp-djmania.es", "6671a5cfea83bcbeca5b9aa0",
     {"author": "Luis Manuel", "rating": 5.0, "title": "Buena experiencia", "language": "es",
      "published_at": "2024-06-18T17:20:47+00:00"}),
    ("tp-twenix.es", "6814efba01eba776fc92357f",
     {"author": "Nadine Dixon", "rating": 5.0, "title": "Working with Twenix is absolutely Amazing",
      "published_at": "2025-05-02T18:15:54+00:00"}),
    ("as-0", "8044879566",
     {"author": "Lantana, FL", "rating": 4.0, "title": "Usually interesting reading but",
      "published_at": "2021-11-20T17:25:34+00:00"}),
    ("as-web", "5210384573",
     {"author": "daniel___9898", "rating": 5.0, "title": "Videos are glitchy",
      "published_at": "2019-11-29T04:56:56+00:00"}),
    ("gp-twitter",
     "gp:AOqpTOEG141w8NXyoj4CFpinzfXvBYYywrWQdoRk3NMYLgGE-8TmYXHQhFgs-pXL25gDnLulPidwqJvbcxNK3A",
     {"author": "hayzel rose ilagan", "rating": 5.0, "published_at": "2021-01-20T01:34:05+00:00"}),
    ("reddit-1", "t1_d4y8bdp",
     {"author": "preppypuppy", "url": "https://www.reddit.com/comments/4r4inc/_/d4y8bdp/",
      "text": "great, life is so much better when you can do what you enjoy for a living",
      "published_at": "2016-07-04T00:04:50+00:00"}),
    ("reddit-atom", "t3_42tizy",
     {"author": "AngryRedditorsBelow", "title": "How the British as seen by Americans and Europeans",
      "published_at": "2016-01-26T20:31:34+00:00"}),
    ("hn-3", "17",
     {"author": "pg", "text": "Is there anywhere to eat on Sandhill Road?",
      "url": "https://news.ycombinator.com/item?id=17", "published_at": "2006-10-09T19:52:45+00:00"}),
    ("rss-0", "https://noticias.uol.com.br/politica/eleicoes/2018/noticias/2018/09/24/"
              "ibope-bolsonaro-perde-de-haddad-ciro-e-alckmin-em-simulacoes-de-2-turno.htm",
     {"title": "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno",
      "published_at": "2018-09-24T22:42:40+00:00"}),
    ("so-4", "220700866",
     {"author": "Donnagar10", "rating": 1.0, "title": "Chocolate Cake?", "published_at": "2022-10-30T00:00:00+00:00"}),
]


@pytest.mark.parametrize(("source", "external_id", "fields"), SPOT_CHECKS, ids=[c[0] for c in SPOT_CHECKS])
def test_spot_checks(full_crawl: CrawlResult, source: str, external_id: str, fields: dict[str, Any]) -> None:
    item = unique_by_id(full_crawl.of(source))[external_id]
    for name, value in fields.items():
        assert item[name] == value, name


def test_single_review_page_is_one_item_and_one_page(full_crawl: CrawlResult, server: FixtureServer) -> None:
    assert len(full_crawl.of("tp-www.granada.no")) == 1
    assert full_crawl.stats["tp-www.granada.no"]["review_watch/pages"] == 1
    assert [h.path for h in server.hits_for("/review/www.granada.no")] == ["/review/www.granada.no?languages=all"]


def test_empty_results_end_paging_without_failure(full_crawl: CrawlResult, server: FixtureServer) -> None:
    for name, empty_page in [("as-web", "/v1/catalog/us/apps/333903271/reviews?offset=20"),
                             ("md-public", "/api/v1/timelines/public?max_id=117020574694606796"),
                             ("bs-search", "/xrpc/app.bsky.feed.searchPosts?q=redistricting&cursor=25")]:
        assert server.hits_for(empty_page), f"{name} did not follow its next link"
        stats = full_crawl.stats[name]
        assert stats["review_watch/pages"] == 2
        assert "review_watch/parse_failures" not in stats and "review_watch/fetch_failures" not in stats


def test_removed_and_deleted_reddit_comments(full_crawl: CrawlResult) -> None:
    items = unique_by_id(full_crawl.of("reddit-removed"))
    listing = json.loads(expected.fixture("reddit/r_askreddit_comments_2016-07.json"))["data"]["children"]
    removed = {listing[0]["data"]["name"], listing[1]["data"]["name"]}
    assert len(items) == 98 and not removed & set(items)
    assert full_crawl.stats["reddit-removed"]["review_watch/skipped"] == 2
    kept = items[listing[2]["data"]["name"]]
    assert kept["author"] is None and kept["text"] == expected.norm(listing[2]["data"]["body"])


def test_reviews_without_text_keep_their_rating(full_crawl: CrawlResult) -> None:
    # keytomylime and polishfoodies: one review each has a reviewBody, the others only a rating.
    for source, count, with_text in [("so-1", 100, 1), ("so-3", 59, 1)]:
        items = full_crawl.of(source)
        assert len(items) == count
        assert sum(1 for item in items if item["text"]) == with_text
        assert all(item["rating"] is not None and item["rating_max"] == 5.0 for item in items)


def test_legacy_encoding_feed(full_crawl: CrawlResult) -> None:
    items = full_crawl.of("rss-0")
    assert len(items) == 15
    text = " ".join(f"{i['title']} {i['text']}" for i in items)
    assert "ç" in text and "ã" in text and "\ufffd" not in text and "Ã" not in text
    assert all(parsed(i["published_at"]).year == 2018 for i in items)


def test_pagination_follows_each_platforms_next_link(full_crawl: CrawlResult, server: FixtureServer) -> None:
    assert server.hits_for("/review/djmania.es?languages=all&page=2")
    assert not server.hits_for("/review/djmania.es?languages=all&page=3")  # page 2 brought nothing new
    assert server.hits_for("/review/www.burgerking.fr?languages=all&page=3")  # page 2 was another page
    assert server.hits_for("/us/rss/customerreviews/page=2/id=811377230/sortby=mostrecent/json")
    assert server.hits_for("/r/askreddit/new.json?limit=100&after=t3_48f6io")
    assert server.hits_for("/api/v1/search_by_date?query=apple&tags=comment&hitsPerPage=1&page=1")
    cursor = json.loads(expected.fixture("bluesky/app.bsky.feed.getAuthorFeed_2025-05.json"))["cursor"]
    assert any(cursor in h.path.replace("%3A", ":") for h in server.hits_for("/xrpc/app.bsky.feed.getAuthorFeed"))
    posts = server.hits_for("/_/PlayStoreUi/data/batchexecute")
    assert [h.method for h in posts] == ["POST", "POST"]
    token = json.loads(json.loads(expected.fixture(
        "google_play/batchexecute_UsvDTd_reviews_com.twitter.android_most-relevant_en_2021-01.txt"
    ).decode().removeprefix(")]}'"))[0][2])[1][1]
    assert token not in posts[0].form["f.req"][0] and token in posts[1].form["f.req"][0]
    assert "com.twitter.android" in posts[0].form["f.req"][0]


def test_broken_sources_are_counted_and_named(full_crawl: CrawlResult) -> None:
    stats = full_crawl.stats
    for name, key, reason in [
        ("bad-truncated", "review_watch/parse_failures", "truncated page"),
        ("bad-json", "review_watch/parse_failures", "invalid JSON"),
        ("bad-403", "review_watch/fetch_failures", "HTTP 403"),
        ("bad-timeout", "review_watch/fetch_failures", "took longer than"),
        ("bad-robots", "review_watch/fetch_failures", "robots.txt"),
    ]:
        assert stats[name][key] == 1, name
        assert reason in stats[name]["review_watch/failure_reason"], name
        assert "http://127.0.0.1" in stats[name]["review_watch/failure_reason"], "names the URL"
        assert not full_crawl.of(name)
    for source in good_sources():
        assert "review_watch/parse_failures" not in stats[source.name], source.name
        assert "review_watch/fetch_failures" not in stats[source.name], source.name
        assert stats[source.name]["review_watch/items"] == len(full_crawl.of(source.name))
    assert "Traceback" not in full_crawl.log


def test_one_broken_record_loses_only_itself(full_crawl: CrawlResult) -> None:
    statuses = json.loads(expected.fixture("mastodon/api_v1_timelines_public_mastodon-4.6.4_localhost_2026-08.json"))
    items = full_crawl.of("bad-one-record")
    assert [i["external_id"] for i in items] == [statuses[n]["id"] for n in (0, 1, 2, 4, 5, 6, 7)]
    stats = full_crawl.stats["bad-one-record"]
    assert stats["review_watch/parse_failures"] == 1
    assert stats["review_watch/failure_reason"].startswith("cannot parse a record on http://127.0.0.1")
    assert "KeyError" in stats["review_watch/failure_reason"]


def test_every_source_is_accounted(full_crawl: CrawlResult) -> None:
    assert set(full_crawl.stats) == {s.name for s in good_sources() + fallback_sources() + bad_sources()}
    assert all(parsed(i["published_at"]) < datetime(2027, 1, 1, tzinfo=UTC) for i in full_crawl.items)


@pytest.mark.parametrize("source", fallback_sources(), ids=[s.name for s in fallback_sources()])
def test_trustpilot_fallbacks_give_the_same_reviews(full_crawl: CrawlResult, source: Source) -> None:
    """Without __NEXT_DATA__ the JSON-LD gives the reviews; without both, the HTML cards do."""
    want = {rec["external_id"]: rec for rec in expected.trustpilot(source.fixtures[0])}
    updated = {rec["external_id"]: rec["updated_at"] for rec in expected.trustpilot(source.fixtures[0])}
    got = unique_by_id(full_crawl.of(source.name))
    assert set(got) == set(want)
    for external_id, rec in want.items():
        item = got[external_id]
        for name in ("author", "rating", "url"):
            assert item[name] == rec[name], (external_id, name)
        # A card shows an edited review's date of update.
        assert parsed(item["published_at"]) in (rec["published_at"], updated[external_id]), external_id
        # The JSON-LD drops line breaks ("187€.Pregunté"): the words must be the same all the same.
        assert "".join(item["text"].split()) == "".join(rec["text"].split()), external_id
        assert expected.norm(item["title"]) == rec["title"], external_id
    assert "review_watch/parse_failures" not in full_crawl.stats[source.name]
