"""Bluesky: app.bsky.feed.searchPosts (and getAuthorFeed), paged with cursor."""

from __future__ import annotations

from typing import Any

from scrapy.http import Response

from review_watch.domain.mentions import MentionItem
from spiders.parsing.dates import parse_datetime
from spiders.parsing.text import tidy_whitespace
from spiders.spiders.base import (
    Page,
    ParseError,
    ReviewWatchSpider,
    dig,
    language_code,
    response_json,
    with_query,
)

POST_URL = "https://bsky.app/profile/{handle}/post/{rkey}"


class BlueskySpider(ReviewWatchSpider):
    name = "bluesky"

    def parse_page(self, response: Response) -> Page:
        data = response_json(response)
        if isinstance(data, dict) and isinstance(data.get("posts"), list):
            posts = data["posts"]
        elif isinstance(data, dict) and isinstance(data.get("feed"), list):
            posts = [entry["post"] for entry in data["feed"] if isinstance(entry, dict) and "post" in entry]
        else:
            raise ParseError("neither searchPosts (posts[]) nor a feed (feed[].post)")
        unique: dict[str, dict[str, Any]] = {}
        for post in posts:
            unique.setdefault(str(post.get("uri")), post)  # a feed repeats a post it also shows as a repost
        items = self.build_items(response.url, unique.values(), self._item)
        cursor = data.get("cursor")
        has_next = isinstance(cursor, str) and cursor and posts
        return Page(items, self.page_request(with_query(response.url, cursor=cursor)) if has_next else None)

    def _item(self, post: dict[str, Any]) -> MentionItem:
        uri = str(post["uri"])
        handle = dig(post, "author", "handle") or dig(post, "author", "did")
        record = post.get("record") or {}
        langs = record.get("langs") or []
        return MentionItem(
            source=self.source_name,
            source_type=self.source_type,
            external_id=uri,
            url=POST_URL.format(handle=handle, rkey=uri.rsplit("/", 1)[-1]) if handle else None,
            author=handle,
            author_id=dig(post, "author", "did"),
            published_at=parse_datetime(record.get("createdAt") or post.get("indexedAt")),
            rating=None,
            rating_max=None,
            title=None,
            text=tidy_whitespace(record.get("text")),
            language=language_code(langs[0]) if langs else None,
            raw=post,
        )
