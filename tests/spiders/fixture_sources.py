"""The recorded fixtures as sources and loopback routes: which URL serves which file, and what each
source must yield. Used by the spider tests and by bench/bench_crawl.py."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from tests.conftest import shared_dir
from tests.spiders.fixture_server import FixtureServer, Reply

FIXTURES = shared_dir() / "fixtures"
HTML = "text/html; charset=utf-8"

# Settings that make a loopback crawl quick; retries and timeouts stay on, only shorter.
FAST = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOAD_TIMEOUT": 3,
    "RETRY_TIMES": 1,
    "RETRY_BACKOFF_BASE": 0.1,
    "LOG_LEVEL": "INFO",
}


def fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def hosted(path: str) -> bytes:
    """An App Store feed whose paging links (not its review links) point at the loopback server."""
    feed = json.loads(fixture(path))
    for link in feed["feed"]["link"]:
        link["attributes"]["href"] = link["attributes"]["href"].replace("https://itunes.apple.com", "{base}")
    return json.dumps(feed).encode()


def mastodon_reply(name: str) -> Reply:
    sidecar = json.loads(fixture(f"mastodon/{name}.headers.json"))
    link = sidecar["headers"]["link"][0].replace("http://localhost:3000", "{base}")
    return Reply(fixture(f"mastodon/{name}.json"), headers={"Link": link})


@dataclass(frozen=True)
class Source:
    name: str
    type: str
    path: str  # start URL path on the server
    fixtures: tuple[str, ...]  # the fixture files whose items this source must yield
    brand: str | None = "Acme"


TRUSTPILOT = {
    "www.burgerking.fr": "review_www.burgerking.fr_fr_2024-06.html",
    "djmania.es": "review_djmania.es_es_2024-06.html",
    "www.granada.no": "review_www.granada.no_no_single-review_2024.html",
    "beautytheshop.com": "review_beautytheshop.com_de-en-es-it-nl_2024-06.html",
    "www.burgerking.dk": "review_www.burgerking.dk_da-en-no-sv_2024-06.html",
    "twenix.es": "review_twenix.es_en_2025-05.html",
}
TRUSTPILOT_SUMERIA = "review_sumeria.eu_en_2025-05.html"
APPSTORE_RSS = {
    "/us/rss/customerreviews/id=284815942/sortBy=mostHelpful/json":
        "rss_customerreviews_us_id284815942_mosthelpful_2022-06.json",
    "/us/rss/customerreviews/id=811377230/json": "rss_customerreviews_us_podcast811377230_2022-04.json",
}
APPSTORE_NEXT = {
    "/us/rss/customerreviews/page=2/id=284815942/sortby=mosthelpful/json":
        "rss_customerreviews_us_id284815942_mosthelpful_2022-06.json",
    "/us/rss/customerreviews/page=2/id=811377230/sortby=mostrecent/json":
        "rss_customerreviews_us_podcast811377230_2022-04.json",
}
AMP_API = "amp-api_v1_catalog_us_apps_333903271_reviews_offset10_2021-02.json"
GOOGLEPLAY = "batchexecute_UsvDTd_reviews_com.twitter.android_most-relevant_en_2021-01.txt"
REDDIT_JSON = {
    "/r/askreddit/new.json?limit=100": "r_askreddit_new_2016-03.json",
    "/r/askreddit/comments.json?limit=100": "r_askreddit_comments_2016-07.json",
    "/domain/youtube.com/new.json?limit=100": "domain_youtube.com_new_2016-11.json",
    "/r/popular/hot.json?limit=100": "r_popular_hot_2026-04.json",
    "/r/all/search.json?q=praw+oauth+search": "search_all_q-praw-oauth-search_2016-07.json",
}
HN = {
    "/api/v1/search_by_date?query=apple&tags=comment&hitsPerPage=1":
        "algolia_search_by_date_q-apple_tags-comment_hpp1_2014-06.json",
    "/api/v1/search_by_date?query=apple&tags=story&hitsPerPage=1":
        "algolia_search_by_date_q-apple_tags-story_hpp1_2014-06.json",
    "/api/v1/search?query=apple&tags=story,poll&hitsPerPage=1":
        "algolia_search_q-apple_tags-story-poll_hpp1_2014-06.json",
    "/api/v1/items/17": "algolia_items_17_2014-06.json",
}
SCHEMAORG = [
    "recipe_delishkitchen.tv_jsonld-10-reviews_ja.html",
    "recipe_keytomylime.com_jsonld-100-reviews_en.html",
    "recipe_madamecuisine.de_jsonld-13-reviews_de.html",
    "recipe_polishfoodies.com_jsonld-59-reviews_en.html",
    "recipe_williams-sonoma.com_microdata-8-reviews_en.html",
]
RSS = {
    "/uol/ultnot.xml": "uol-noticias_rss2_pt-BR_iso-8859-1_2018.xml",
    "/guardian/rss": "guardian_rss2_en-gb_2018-01.xml",
    "/heise/news-atom.xml": "heise-developer_atom_de_2016-02.xml",
}


def good_sources() -> list[Source]:
    sources = [
        Source(f"tp-{domain}", "trustpilot", f"/review/{domain}?languages=all", (f"trustpilot/{name}",))
        for domain, name in TRUSTPILOT.items()
    ]
    # burgerking.fr's page 2 is served as another recorded page (the 2025 build), page 3 as page 1 again.
    sources[0] = Source("tp-www.burgerking.fr", "trustpilot", "/review/www.burgerking.fr?languages=all",
                        (f"trustpilot/{TRUSTPILOT['www.burgerking.fr']}", f"trustpilot/{TRUSTPILOT_SUMERIA}"))
    sources += [Source(f"as-{i}", "appstore", path, (f"app_store/{name}",))
                for i, (path, name) in enumerate(APPSTORE_RSS.items())]
    sources.append(Source("as-web", "appstore", "/v1/catalog/us/apps/333903271/reviews?offset=10",
                          (f"app_store/{AMP_API}",)))
    sources.append(Source("gp-twitter", "googleplay", "/store/apps/details?id=com.twitter.android&hl=en&gl=us",
                          (f"google_play/{GOOGLEPLAY}",)))
    sources += [Source(f"reddit-{i}", "reddit", path, (f"reddit/{name}",), None)
                for i, (path, name) in enumerate(REDDIT_JSON.items())]
    sources += [
        Source("reddit-atom", "reddit", "/.rss", ("reddit/rss_frontpage_atom_2016-01.xml",), None),
        Source("reddit-rss2", "reddit", "/legacy/.rss", ("reddit/rss_frontpage_rss2_2015-11.xml",), None),
        Source("reddit-removed", "reddit", "/r/derived/removed.json", (), None),
    ]
    sources += [Source(f"hn-{i}", "hackernews", path, (f"hackernews/{name}",), None)
                for i, (path, name) in enumerate(HN.items())]
    sources += [
        Source("md-public", "mastodon", "/api/v1/timelines/public",
               ("mastodon/api_v1_timelines_public_mastodon-4.6.4_localhost_2026-08.json",), None),
        Source("md-hoot", "mastodon", "/api/v1/timelines/tag/hoot",
               ("mastodon/api_v1_timelines_tag_hoot_mastodon-4.6.4_localhost_2026-08.json",), None),
        Source("bs-search", "bluesky", "/xrpc/app.bsky.feed.searchPosts?q=redistricting",
               ("bluesky/app.bsky.feed.searchPosts_q-redistricting_2025-05.json",), None),
        Source("bs-author", "bluesky", "/xrpc/app.bsky.feed.getAuthorFeed?actor=chriskenny.bsky.social",
               ("bluesky/app.bsky.feed.getAuthorFeed_2025-05.json",), None),
    ]
    sources += [Source(f"rss-{i}", "rss", path, (f"rss/{name}",), None) for i, (path, name) in enumerate(RSS.items())]
    sources += [Source(f"so-{i}", "schemaorg", f"/recipes/{i}.html", (f"schema_org/{name}",))
                for i, name in enumerate(SCHEMAORG)]
    return sources


def fallback_sources() -> list[Source]:
    return [
        Source(f"tp-{kind}-{domain}", "trustpilot", f"/{kind}/review/{domain}", (f"trustpilot/{TRUSTPILOT[domain]}",))
        for kind in ("jsonld", "cards") for domain in ("djmania.es", "twenix.es")
    ]


def bad_sources() -> list[Source]:
    return [
        Source("bad-truncated", "trustpilot", "/review/truncated.example?languages=all", ()),
        Source("bad-json", "hackernews", "/api/v1/search?query=broken", (), None),
        Source("bad-403", "appstore", "/us/rss/customerreviews/id=1/json", ()),
        Source("bad-timeout", "bluesky", "/xrpc/app.bsky.feed.searchPosts?q=slow", (), None),
        Source("bad-robots", "rss", "/private/feed.xml", (), None),
        Source("bad-one-record", "mastodon", "/api/v1/timelines/tag/broken", (), None),
    ]


def timeline_with_a_broken_status() -> bytes:
    """The public timeline with its fourth status missing its id."""
    statuses = json.loads(fixture("mastodon/api_v1_timelines_public_mastodon-4.6.4_localhost_2026-08.json"))
    del statuses[3]["id"]
    return json.dumps(statuses).encode()


def removed_listing() -> bytes:
    """The askreddit comments listing with three comments removed or deleted, as reddit shows them."""
    listing = json.loads(fixture(f"reddit/{REDDIT_JSON['/r/askreddit/comments.json?limit=100']}"))
    children = listing["data"]["children"]
    children[0]["data"].update(body="[removed]", author="[deleted]")
    children[1]["data"].update(body="[deleted]", author="[deleted]")
    children[2]["data"]["author"] = "[deleted]"  # an account deleted, the comment kept
    listing["data"]["after"] = None
    return json.dumps(listing).encode()


def install_routes(server: FixtureServer) -> None:
    routes = server.routes
    routes["/robots.txt"] = Reply(b"User-agent: *\nDisallow: /private/\n", "text/plain")
    for domain, name in TRUSTPILOT.items():
        page = Reply(fixture(f"trustpilot/{name}"), HTML)
        routes[f"/review/{domain}"] = page  # any page number other than those below
    routes["/review/www.burgerking.fr?languages=all&page=2"] = Reply(fixture(f"trustpilot/{TRUSTPILOT_SUMERIA}"), HTML)
    truncated = fixture(f"trustpilot/{TRUSTPILOT['djmania.es']}")
    routes["/review/truncated.example"] = Reply(truncated[: len(truncated) // 2], HTML)

    for path, name in APPSTORE_RSS.items():
        routes[path] = Reply(hosted(f"app_store/{name}"))
    # The feeds' own next links (rewritten to /json): page 2 is served as page 1 again.
    for path, name in APPSTORE_NEXT.items():
        routes[path] = Reply(hosted(f"app_store/{name}"))
    routes["/v1/catalog/us/apps/333903271/reviews?offset=10"] = Reply(fixture(f"app_store/{AMP_API}"))
    routes["/v1/catalog/us/apps/333903271/reviews?offset=20"] = Reply(b'{"data": []}')  # the end
    routes["/us/rss/customerreviews/id=1/json"] = Reply(b"forbidden", "text/plain", 403)

    routes["/_/PlayStoreUi/data/batchexecute"] = Reply(fixture(f"google_play/{GOOGLEPLAY}"))

    for path, name in REDDIT_JSON.items():
        routes[path] = Reply(fixture(f"reddit/{name}"))
        routes[urlpath(path)] = Reply(fixture(f"reddit/{name}"))  # with ?after=: page 1 again
    routes["/.rss"] = Reply(fixture("reddit/rss_frontpage_atom_2016-01.xml"), "application/atom+xml; charset=UTF-8")
    routes["/legacy/.rss"] = Reply(fixture("reddit/rss_frontpage_rss2_2015-11.xml"), "application/rss+xml")
    routes["/r/derived/removed.json"] = Reply(removed_listing())

    for path, name in HN.items():
        routes[path] = Reply(fixture(f"hackernews/{name}"))
        routes[path + "&page=1"] = Reply(fixture(f"hackernews/{name}"))  # page 0 again
    routes["/api/v1/search?query=broken"] = Reply(fixture(f"hackernews/{HN['/api/v1/items/17']}")[:300])

    routes["/api/v1/timelines/public"] = mastodon_reply("api_v1_timelines_public_mastodon-4.6.4_localhost_2026-08")
    routes["/api/v1/timelines/public?max_id=117020574694606796"] = Reply(b"[]")  # an empty timeline page
    routes["/api/v1/timelines/tag/broken"] = Reply(timeline_with_a_broken_status())
    routes["/api/v1/timelines/tag/hoot"] = mastodon_reply("api_v1_timelines_tag_hoot_mastodon-4.6.4_localhost_2026-08")

    routes["/xrpc/app.bsky.feed.searchPosts?q=redistricting"] = Reply(
        fixture("bluesky/app.bsky.feed.searchPosts_q-redistricting_2025-05.json"))
    routes["/xrpc/app.bsky.feed.searchPosts?q=redistricting&cursor=25"] = Reply(b'{"posts": []}')
    routes["/xrpc/app.bsky.feed.getAuthorFeed"] = Reply(fixture("bluesky/app.bsky.feed.getAuthorFeed_2025-05.json"))
    routes["/xrpc/app.bsky.feed.searchPosts?q=slow"] = Reply(b'{"posts": []}', delay=5)

    # UOL sends ISO-8859-1 bytes with neither an XML declaration nor a charset in Content-Type.
    routes["/uol/ultnot.xml"] = Reply(fixture(f"rss/{RSS['/uol/ultnot.xml']}"), "text/xml")
    routes["/guardian/rss"] = Reply(fixture(f"rss/{RSS['/guardian/rss']}"), "application/rss+xml; charset=UTF-8")
    routes["/heise/news-atom.xml"] = Reply(fixture(f"rss/{RSS['/heise/news-atom.xml']}"), "application/atom+xml")
    routes["/private/feed.xml"] = Reply(fixture(f"rss/{RSS['/guardian/rss']}"), "application/rss+xml")

    for i, name in enumerate(SCHEMAORG):
        routes[f"/recipes/{i}.html"] = Reply(fixture(f"schema_org/{name}"), HTML)

    # Trustpilot pages as a layout change would leave them: without __NEXT_DATA__, then without JSON-LD too.
    for domain in ("djmania.es", "twenix.es"):
        html = fixture(f"trustpilot/{TRUSTPILOT[domain]}").decode("utf-8")
        without_next = re.sub(r'<script id="__NEXT_DATA__".*?</script>', "", html, flags=re.S)
        cards_only = re.sub(r'<script type="application/ld\+json".*?</script>', "", without_next, flags=re.S)
        routes[f"/jsonld/review/{domain}"] = Reply(without_next.encode(), HTML)
        routes[f"/cards/review/{domain}"] = Reply(cards_only.encode(), HTML)

    # Rate limited once, with Retry-After, then answered.
    story_hits = json.loads(fixture(f"hackernews/{HN['/api/v1/search_by_date?query=apple&tags=story&hitsPerPage=1']}"))
    story = json.dumps({**story_hits, "nbPages": 1}).encode()
    routes["/api/v1/search?query=limited"] = lambda hit: (
        Reply(b"slow down", "text/plain", 429, {"Retry-After": "1"})
        if len(server.hits_for("/api/v1/search?query=limited")) == 1 else Reply(story))


def urlpath(path: str) -> str:
    return path.split("?", 1)[0]


