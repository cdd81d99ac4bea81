"""Reddit: JSON listings of posts (t3) and comments (t1), and the RSS/Atom feeds."""

from __future__ import annotations

import re
from typing import Any

from scrapy.http import Response

from review_watch.domain.mentions import MentionItem
from spiders.parsing.dates import parse_datetime
from spiders.parsing.feeds import parse_feed
from spiders.parsing.text import html_to_text, plain_text
from spiders.spiders.base import Page, ParseError, ReviewWatchSpider, response_json, with_query

SITE = "https://www.reddit.com"
REMOVED_BODIES = frozenset({"[removed]", "[deleted]"})
_POST_ID = re.compile(r"/comments/([a-z0-9]+)/")
_FULLNAME = re.compile(r"t[1-6]_[a-z0-9]+")


class RedditSpider(ReviewWatchSpider):
    name = "reddit"

    def parse_page(self, response: Response) -> Page:
        if response.body.lstrip()[:1] == b"<":
            return self._from_feed(response)
        listing = response_json(response)
        children = listing.get("data", {}).get("children") if isinstance(listing, dict) else None
        if not isinstance(children, list):
            raise ParseError("not a reddit Listing: no data.children")
        records, skipped = [], 0
        for child in children:
            kind, data = child.get("kind"), child.get("data") or {}
            if kind not in ("t1", "t3"):
                continue  # "more" stubs and anything else that is not a post or comment
            body = data.get("body") if kind == "t1" else data.get("selftext")
            if body in REMOVED_BODIES or data.get("removed_by_category"):
                skipped += 1
                continue
            records.append((kind, data))
        items = self.build_items(response.url, records, lambda record: self._from_listing(*record))
        after = listing["data"].get("after")
        next_request = self.page_request(with_query(response.url, after=after)) if after else None
        return Page(items, next_request, skipped=skipped)

    def _from_listing(self, kind: str, data: dict[str, Any]) -> MentionItem:
        author = data.get("author")
        if kind == "t1":
            permalink = data.get("permalink") or (
                f"/comments/{str(data.get('link_id', ''))[3:]}/_/{data['id']}/"
            )
            title, text = data.get("link_title"), data.get("body")
        else:
            permalink, title, text = data.get("permalink"), data.get("title"), data.get("selftext")
        return MentionItem(
            source=self.source_name,
            source_type=self.source_type,
            external_id=str(data.get("name") or f"{kind}_{data['id']}"),
            url=SITE + permalink if permalink and permalink.startswith("/") else permalink,
            author=None if author in (None, "[deleted]") else author,
            author_id=data.get("author_fullname"),
            published_at=parse_datetime(data.get("created_utc")),
            rating=None,
            rating_max=None,
            title=plain_text(title) or None,
            text=plain_text(text),  # markdown, HTML-escaped unless raw_json=1
            language=None,
            raw=data,
        )

    def _from_feed(self, response: Response) -> Page:
        feed = parse_feed(response.body)
        items = []
        for entry in feed.entries:
            post = _POST_ID.search(entry.link or entry.id or "")
            external_id = entry.id if entry.id and _FULLNAME.fullmatch(entry.id) else None
            if external_id is None and post:
                external_id = f"t3_{post.group(1)}"
            if external_id is None:
                continue
            author = entry.author.removeprefix("/u/") if entry.author else None
            items.append(
                MentionItem(
                    source=self.source_name,
                    source_type=self.source_type,
                    external_id=external_id,
                    url=entry.link,
                    author=author,
                    published_at=parse_datetime(entry.published or entry.updated),
                    rating=None,
                    rating_max=None,
                    title=plain_text(entry.title) or None,
                    text=html_to_text(entry.content),
                    language=None,
                    raw={"fields": entry.fields, "categories": entry.categories},
                )
            )
        return Page(items, self.page_request(feed.next_url) if feed.next_url else None)
