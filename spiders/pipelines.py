"""The item pipeline that stores what the spiders found, one transaction per item."""

from __future__ import annotations

from typing import Protocol, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from spiders.items import MentionItem

STORE_SETTING = "REVIEW_WATCH_MENTION_STORE"


class MentionStore(Protocol):
    def store(self, item: MentionItem) -> str:
        """Store the item; return "new", "duplicate" or "updated"."""


class StorePipeline:
    """Stores each item as soon as it is scraped, so a killed crawl loses nothing it had fetched."""

    def __init__(self, store: MentionStore, stats: StatsCollector) -> None:
        self.store = store
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        store = crawler.settings.get(STORE_SETTING)
        if store is None:
            raise NotConfigured(f"{STORE_SETTING} is not set")
        assert crawler.stats is not None
        return cls(store, crawler.stats)

    def process_item(self, item: MentionItem) -> MentionItem:
        outcome = self.store.store(item)
        self.stats.inc_value(f"review_watch/{outcome}")
        return item
