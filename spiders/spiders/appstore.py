"""Apple App Store reviews: the customer-reviews RSS feed (JSON or Atom XML) and the web reviews JSON."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from scrapy.http import Response

from review_watch.domain.mentions import MentionItem
from spiders.parsing.dates import parse_datetime
from spiders.parsing.feeds import parse_feed
from spiders.parsing.text import tidy_whitespace
from spiders.spiders.base import Page, ParseError, ReviewWatchSpider, as_float, dig, response_json

RATING_MAX = 5.0


class AppStoreSpider(ReviewWatchSpider):
    name = "appstore"

    def parse_page(self, response: Response) -> Page:
        if response.body.lstrip()[:1] == b"<":
            return self._from_atom(response)
        data = response_json(response)
        if isinstance(data, dict) and isinstance(data.get("feed"), dict):
            return self._from_rss_json(response, data["feed"])
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            return self._from_web_json(response, data)
        raise ParseError("neither an RSS feed (feed.entry) nor a reviews list (data[])")

    def _item(self, external_id: str, **fields: Any) -> MentionItem:
        return MentionItem(
            source=self.source_name, source_type=self.source_type, external_id=external_id,
            rating_max=RATING_MAX, language=None, **fields,
        )

    def _from_rss_json(self, response: Response, feed: dict[str, Any]) -> Page:
        entries = feed.get("entry") or []
        if isinstance(entries, dict):  # a feed with one entry has no list
            entries = [entries]
        # Old feeds put the app itself first: an entry without a rating is not a review.
        reviews = [entry for entry in entries if dig(entry, "im:rating") is not None]
        items = self.build_items(response.url, reviews, self._from_rss_entry)
        links = feed.get("link") or []
        next_url = next(
            (dig(link, "attributes", "href") for link in links if dig(link, "attributes", "rel") == "next"),
            None,
        )
        # The feed links its pages in XML form; ask for the same form as this page.
        next_url = re.sub(r"/xml(?=\?|$)", "/json", next_url) if next_url else None
        return Page(items, self._next(response, next_url))

    def _from_rss_entry(self, entry: dict[str, Any]) -> MentionItem:
        return self._item(
            str(entry["id"]["label"]),
            url=dig(entry, "link", "attributes", "href"),
            author=dig(entry, "author", "name", "label"),
            author_id=_author_id(dig(entry, "author", "uri", "label")),
            published_at=parse_datetime(dig(entry, "updated", "label")),
            rating=as_float(dig(entry, "im:rating", "label")),
            title=tidy_whitespace(dig(entry, "title", "label")) or None,
            text=tidy_whitespace(dig(entry, "content", "label")),
            raw=entry,
        )

    def _from_atom(self, response: Response) -> Page:
        feed = parse_feed(response.body)
        items = [
            self._item(
                entry.id or "",
                url=entry.link or entry.fields.get("link"),  # the feed links each review as rel="related"
                author=entry.author,
                author_id=_author_id(entry.fields.get("author")),  # the author element's text ends with its uri
                published_at=parse_datetime(entry.updated or entry.published),
                rating=as_float(entry.fields.get("rating")),
                title=tidy_whitespace(entry.title) or None,
                text=tidy_whitespace(entry.fields.get("content") or entry.content),
                raw={"fields": entry.fields},
            )
            for entry in feed.entries
            if entry.id and "rating" in entry.fields
        ]
        return Page(items, self._next(response, feed.next_url))

    def _from_web_json(self, response: Response, data: dict[str, Any]) -> Page:
        app = re.search(r"/v1/catalog/(\w+)/apps/(\d+)/", response.url)
        app_url = f"https://apps.apple.com/{app[1]}/app/id{app[2]}?see-all=reviews" if app else None

        def build(record: dict[str, Any]) -> MentionItem:
            attributes = record.get("attributes") or {}
            return self._item(
                str(record["id"]),
                url=app_url,  # the store has no page per review
                author=attributes.get("userName"),
                published_at=parse_datetime(attributes.get("date")),
                rating=as_float(attributes.get("rating")),
                title=tidy_whitespace(attributes.get("title")) or None,
                text=tidy_whitespace(attributes.get("review")),
                raw=record,
            )

        return Page(self.build_items(response.url, data["data"], build), self._next(response, data.get("next")))

    def _next(self, response: Response, next_url: str | None) -> Any:
        if not next_url:
            return None
        absolute = urljoin(response.url, next_url)
        return None if absolute == response.url else self.page_request(absolute)


def _author_id(uri: Any) -> str | None:
    found = re.search(r"/id(\d+)", uri) if isinstance(uri, str) else None
    return found.group(1) if found else None
