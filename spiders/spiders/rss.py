"""Any RSS 2.0, RSS 1.0 or Atom feed, whatever its encoding and date language."""

from __future__ import annotations

import hashlib

from scrapy.http import Response

from review_watch.domain.mentions import MentionItem
from spiders.parsing.dates import parse_datetime
from spiders.parsing.feeds import FeedEntry, parse_feed
from spiders.parsing.text import html_to_text
from spiders.spiders.base import Page, ReviewWatchSpider, language_code, response_charset


class RssSpider(ReviewWatchSpider):
    name = "rss"

    def parse_page(self, response: Response) -> Page:
        feed = parse_feed(response.body, response_charset(response))
        items = self.build_items(response.url, feed.entries, self._item)
        return Page(items, self.page_request(response.urljoin(feed.next_url)) if feed.next_url else None)

    def _item(self, entry: FeedEntry) -> MentionItem:
        return MentionItem(
            source=self.source_name,
            source_type=self.source_type,
            external_id=entry.id or entry.link or _fingerprint(entry),
            url=entry.link,
            author=entry.author,
            published_at=parse_datetime(entry.published or entry.updated),
            rating=None,
            rating_max=None,
            title=html_to_text(entry.title) or None,
            text=html_to_text(entry.content),
            language=language_code(entry.language),
            raw={"fields": entry.fields, "categories": entry.categories},
        )


def _fingerprint(entry: FeedEntry) -> str:
    """An id for an entry that has neither guid nor link: stable over crawls of the same entry."""
    basis = "\x1f".join([entry.title or "", entry.published or "", entry.content or ""])
    return "sha1:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()
