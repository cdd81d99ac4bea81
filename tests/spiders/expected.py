"""What each fixture file must yield, computed from the fixture with the standard library only
(json, re, xml.etree, html.parser), independently of the spiders' own parsing code."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from tests.spiders.fixture_sources import fixture


def found(pattern: str, text: str, flags: int = re.S) -> str:
    """The first group of pattern in text; the fixture is broken (test error) when it is missing."""
    match = re.search(pattern, text, flags)
    assert match is not None, pattern
    return match.group(1)


def child_text(element: ET.Element, path: str) -> str:
    value = element.findtext(path)
    assert value is not None, path
    return value


def child_href(element: ET.Element, path: str) -> str:
    child = element.find(path)
    assert child is not None, path
    return child.get("href", "")


def norm(text: str | None) -> str:
    return " ".join((text or "").split())


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag.rsplit(":", 1)[-1] in ("p", "br", "div", "li", "td", "tr"):
            self.parts.append(" ")


def html_text(fragment: str | None) -> str:
    parser = _Text()
    parser.feed(fragment or "")
    parser.close()
    return norm("".join(parser.parts))


def utc(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def record(external_id: str, *, text: str, author: str | None, published: datetime | None,
           rating: float | None = None, url: str | None = None, title: str | None = None,
           language: str | None = None) -> dict[str, Any]:
    return {"external_id": external_id, "text": norm(text), "author": author, "published_at": published,
            "rating": rating, "url": url, "title": norm(title) or None, "language": language}


def trustpilot(path: str) -> list[dict[str, Any]]:
    page = fixture(path).decode("utf-8")
    data = json.loads(found(r'<script id="__NEXT_DATA__"[^>]*>(.*?)</script>', page))
    return [
        record(r["id"], text=r["text"], author=r["consumer"]["displayName"],
               published=utc(r["dates"]["publishedDate"]), rating=float(r["rating"]),
               url=f"https://www.trustpilot.com/reviews/{r['id']}", title=r["title"], language=r["language"])
        | {"updated_at": utc(r["dates"]["updatedDate"]) if r["dates"].get("updatedDate") else None}
        for r in data["props"]["pageProps"]["reviews"]
    ]


def appstore(path: str) -> list[dict[str, Any]]:
    data = json.loads(fixture(path))
    if "feed" in data:
        return [
            record(e["id"]["label"], text=e["content"]["label"], author=e["author"]["name"]["label"],
                   published=utc(e["updated"]["label"]), rating=float(e["im:rating"]["label"]),
                   url=e["link"]["attributes"]["href"], title=e["title"]["label"])
            for e in data["feed"]["entry"]
        ]
    return [
        record(r["id"], text=r["attributes"]["review"], author=r["attributes"]["userName"],
               published=utc(r["attributes"]["date"]), rating=float(r["attributes"]["rating"]),
               url="https://apps.apple.com/us/app/id333903271?see-all=reviews", title=r["attributes"]["title"])
        for r in data["data"]
    ]


def googleplay(path: str) -> list[dict[str, Any]]:
    outer = json.loads(fixture(path).decode("utf-8").removeprefix(")]}'"))
    inner = json.loads(next(row for row in outer if row[:2] == ["wrb.fr", "UsvDTd"])[2])
    return [
        record(r[0], text=r[4], author=r[1][0], published=utc(r[5][0]), rating=float(r[2]),
               url=f"https://play.google.com/store/apps/details?id=com.twitter.android&reviewId={r[0]}")
        for r in inner[0]
    ]


def reddit(path: str) -> list[dict[str, Any]]:
    if path.endswith(".xml"):
        return _reddit_feed(path)
    records = []
    for child in json.loads(fixture(path))["data"]["children"]:
        d = child["data"]
        if child["kind"] == "t1":
            permalink = d.get("permalink") or f"/comments/{d['link_id'][3:]}/_/{d['id']}/"
            records.append(record(d["name"], text=html.unescape(d["body"]), author=d["author"],
                                  published=utc(d["created_utc"]), url="https://www.reddit.com" + permalink,
                                  title=d.get("link_title")))
        else:
            records.append(record(d["name"], text=html.unescape(d["selftext"]), author=d["author"],
                                  published=utc(d["created_utc"]), url="https://www.reddit.com" + d["permalink"],
                                  title=html.unescape(d["title"])))
    return records


def _reddit_feed(path: str) -> list[dict[str, Any]]:
    root = ET.fromstring(fixture(path))
    atom = "{http://www.w3.org/2005/Atom}"
    if root.tag == f"{atom}feed":
        return [
            record(child_text(e, f"{atom}id"), text=html_text(_xhtml(e.find(f"{atom}content"))),
                   author=child_text(e, f"{atom}author/{atom}name").removeprefix("/u/"),
                   published=utc(child_text(e, f"{atom}published")), url=child_href(e, f"{atom}link"),
                   title=e.findtext(f"{atom}title"))
            for e in root.iter(f"{atom}entry")
        ]
    return [
        record("t3_" + found(r"/comments/(\w+)/", child_text(i, "link")),
               text=html_text(i.findtext("description")), author=None,
               published=_rfc822(child_text(i, "pubDate")), url=i.findtext("link"), title=i.findtext("title"))
        for i in root.iter("item")
    ]


def _xhtml(element: ET.Element | None) -> str:
    if element is None:
        return ""
    if len(element):
        return "".join(ET.tostring(child, encoding="unicode") for child in element)
    return element.text or ""


def _rfc822(value: str) -> datetime:
    from email.utils import parsedate_to_datetime
    return parsedate_to_datetime(value).astimezone(UTC)


def hackernews(path: str) -> list[dict[str, Any]]:
    data = json.loads(fixture(path))
    if "hits" in data:
        return [
            record(h["objectID"], text=html_text(h["comment_text"] or h["story_text"]), author=h["author"],
                   published=utc(h["created_at_i"]), url=f"https://news.ycombinator.com/item?id={h['objectID']}",
                   title=h["title"] or h["story_title"])
            for h in data["hits"]
        ]
    nodes, stack = [], [data]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.get("children") or [])
    return [
        record(str(n["id"]), text=html_text(n["text"]), author=n["author"], published=utc(n["created_at_i"]),
               url=f"https://news.ycombinator.com/item?id={n['id']}", title=n.get("title"))
        for n in nodes
    ]


def mastodon(path: str) -> list[dict[str, Any]]:
    return [
        record(s["id"], text=html_text(s["content"]), author=s["account"]["acct"], published=utc(s["created_at"]),
               url=s["url"], title=s["spoiler_text"] or None, language=s["language"])
        for s in (status.get("reblog") or status for status in json.loads(fixture(path)))
    ]


def bluesky(path: str) -> list[dict[str, Any]]:
    data = json.loads(fixture(path))
    posts = data.get("posts") or [entry["post"] for entry in data["feed"]]
    unique = {p["uri"]: p for p in reversed(posts)}
    return [
        record(uri, text=p["record"]["text"], author=p["author"]["handle"], published=utc(p["record"]["createdAt"]),
               url=f"https://bsky.app/profile/{p['author']['handle']}/post/{uri.rsplit('/', 1)[1]}",
               language=(p["record"].get("langs") or [None])[0])
        for uri, p in unique.items()
    ]


def rss(path: str) -> list[dict[str, Any]]:
    body = fixture(path)
    # PROVENANCE.md gives this file's encoding, which the file itself does not declare.
    root = ET.fromstring(body.decode("latin-1")) if "iso-8859-1" in path else ET.fromstring(body)
    atom = "{http://www.w3.org/2005/Atom}"
    if root.tag == f"{atom}feed":
        return [
            record(child_text(e, f"{atom}id"), text=html_text(e.findtext(f"{atom}summary")), author=None,
                   published=utc(child_text(e, f"{atom}published")),
                   url=child_href(e, f"{atom}link[@rel='alternate']"), title=e.findtext(f"{atom}title"))
            for e in root.iter(f"{atom}entry")
        ]
    language = (root.findtext("channel/language") or "").split("-")[0] or None
    dc = "{http://purl.org/dc/elements/1.1/}"
    return [
        record(i.findtext("guid") or child_text(i, "link"), text=html_text(i.findtext("description")),
               author=i.findtext(f"{dc}creator") or None, published=_rfc822(_english_date(child_text(i, "pubDate"))),
               url=i.findtext("link"), title=i.findtext("title"), language=language)
        for i in root.iter("item")
    ]


_PORTUGUESE_MONTHS = {"Fev": "Feb", "Abr": "Apr", "Mai": "May", "Ago": "Aug", "Set": "Sep", "Out": "Oct",
                      "Dez": "Dec"}


def _english_date(value: str) -> str:
    """UOL writes "Seg, 24 Set 2018 19:42:40 -0300"."""
    day, month, rest = value.split(", ", 1)[-1].split(" ", 2)
    return f"{day} {_PORTUGUESE_MONTHS.get(month, month)} {rest}"


def schemaorg(path: str) -> list[dict[str, Any]]:
    """JSON-LD Review objects (anywhere in any block), or microdata reviews found by regular expression."""
    page = fixture(path).decode("utf-8")
    reviews: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            if node.get("@type") == "Review":
                reviews.append(node)
                return
            for child in node.values():
                walk(child)

    for block in re.findall(r'<script[^>]*type="application/ld\+json"[^>]*>(.*?)</script>', page, re.S):
        walk(json.loads(block))
    records = [
        record("?", text=html_text(r.get("reviewBody")), author=r["author"]["name"] if isinstance(r.get("author"), dict)
               else r.get("author"), published=utc(r["datePublished"]),
               rating=float(r["reviewRating"]["ratingValue"]) if r.get("reviewRating") else None,
               title=r.get("name"))
        for r in reviews
    ]
    microdata = re.findall(r'itemtype="https://schema.org/Review" data-reviewid="(\d+)">(.*?)'
                           r'<meta itemprop="datePublished" content="([\d-]+)"', page, re.S)
    for review_id, body, date in microdata:
        records.append(record(
            review_id, text=html_text(found(r'itemprop="description">(.*?)</span>', body)),
            author=found(r'itemprop="name">([^<]*)</span></span>', body),
            published=utc(date), rating=float(found(r'itemprop="ratingValue">([\d.]+)<', body)),
            title=html_text(found(r'</span></span> from\s*<span itemprop="name">(.*?)</span>', body))))
    return records
