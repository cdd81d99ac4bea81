"""Mastodon tag and public timelines (/api/v1/timelines/...), paged by the Link header."""

from __future__ import annotations

import re
from typing import Any

from scrapy.http import Response

from review_watch.domain.mentions import MentionItem
from spiders.parsing.dates import parse_datetime
from spiders.parsing.text import html_to_text, tidy_whitespace
from spiders.spiders.base import Page, ParseError, ReviewWatchSpider, language_code, response_json

_LINK = re.compile(r"<([^>]+)>\s*;\s*rel=\"?([^\";]+)\"?")


class MastodonSpider(ReviewWatchSpider):
    name = "mastodon"

    def parse_page(self, response: Response) -> Page:
        statuses = response_json(response)
        if not isinstance(statuses, list):
            raise ParseError("a timeline is a JSON array of statuses")
        items = self.build_items(response.url, statuses, self._item)
        next_url = _link(response, "next")
        return Page(items, self.page_request(next_url) if next_url and statuses else None)

    def _item(self, status: dict[str, Any]) -> MentionItem:
        status = status.get("reblog") or status  # a boost: the boosted post is the mention
        account = status.get("account") or {}
        text = html_to_text(status.get("content"))
        warning = tidy_whitespace(status.get("spoiler_text"))
        return MentionItem(
            source=self.source_name,
            source_type=self.source_type,
            external_id=str(status["id"]),
            url=status.get("url") or status.get("uri"),
            author=account.get("acct") or account.get("username"),
            author_id=str(account["id"]) if account.get("id") is not None else None,
            published_at=parse_datetime(status.get("created_at")),
            rating=None,
            rating_max=None,
            title=warning or None,
            text=text,
            language=language_code(status.get("language")),
            raw=status,
        )


def _link(response: Response, rel: str) -> str | None:
    for header in response.headers.getlist("Link"):
        for url, relation in _LINK.findall(header.decode("latin-1")):
            if rel in relation.split():
                return str(url)
    return None
