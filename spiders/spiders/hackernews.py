"""Hacker News through the Algolia API: search hits (stories, comments) and item trees."""

from __future__ import annotations

from typing import Any

from scrapy.http import Response

from review_watch.domain.mentions import MentionItem
from spiders.parsing.dates import parse_datetime
from spiders.parsing.text import html_to_text, plain_text
from spiders.spiders.base import Page, ParseError, ReviewWatchSpider, response_json, with_query

ITEM_URL = "https://news.ycombinator.com/item?id={}"


class HackerNewsSpider(ReviewWatchSpider):
    name = "hackernews"

    def parse_page(self, response: Response) -> Page:
        data = response_json(response)
        if isinstance(data, dict) and isinstance(data.get("hits"), list):
            items = self.build_items(response.url, data["hits"], self._from_hit)
            page, pages = data.get("page"), data.get("nbPages")
            next_request = None
            if isinstance(page, int) and isinstance(pages, int) and page + 1 < pages:
                next_request = self.page_request(with_query(response.url, page=page + 1))
            return Page(items, next_request)
        if isinstance(data, dict) and "id" in data and "children" in data:
            return Page(self.build_items(response.url, _walk(data), self._from_item))
        raise ParseError("neither search hits nor an item tree")

    def _from_hit(self, hit: dict[str, Any]) -> MentionItem:
        object_id = str(hit["objectID"])
        return self._item(
            object_id,
            author=hit.get("author"),
            published=hit.get("created_at_i") or hit.get("created_at"),
            title=hit.get("title") or hit.get("story_title"),
            html=hit.get("comment_text") or hit.get("story_text"),
            raw=hit,
        )

    def _from_item(self, node: dict[str, Any]) -> MentionItem:
        fields = {key: value for key, value in node.items() if key != "children"}
        return self._item(
            str(node["id"]),
            author=node.get("author"),
            published=node.get("created_at_i") or node.get("created_at"),
            title=node.get("title"),
            html=node.get("text"),
            raw=fields,
        )

    def _item(self, object_id: str, *, author: Any, published: Any, title: Any, html: Any,
              raw: dict[str, Any]) -> MentionItem:
        return MentionItem(
            source=self.source_name,
            source_type=self.source_type,
            external_id=object_id,
            url=ITEM_URL.format(object_id),
            author=author,
            published_at=parse_datetime(published),
            rating=None,
            rating_max=None,
            title=plain_text(title) or None,
            text=html_to_text(html),
            language=None,
            raw=raw,
        )


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [node]
    for child in node.get("children") or []:
        if isinstance(child, dict):
            nodes += _walk(child)
    return nodes
