"""The item pipeline that stores what the spiders found, one transaction per item."""

from __future__ import annotations

from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector
from scrapy.utils.misc import load_object
from sqlalchemy.orm import Session, sessionmaker

from review_watch.clock import Clock
from review_watch.services.ingest import store_mention
from review_watch.storage.database import make_engine, session_factory
from review_watch.storage.unit_of_work import UnitOfWork
from spiders.items import MentionItem

DATABASE_SETTING = "REVIEW_WATCH_DATABASE_URL"
CLOCK_SETTING = "REVIEW_WATCH_CLOCK"  # dotted path of a Clock


class StorePipeline:
    """Stores each item as soon as it is scraped, so a killed crawl loses nothing it had fetched."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, stats: StatsCollector) -> None:
        self.sessions = sessions
        self.clock = clock
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        url = crawler.settings.get(DATABASE_SETTING)
        if not url:
            raise NotConfigured(f"{DATABASE_SETTING} is not set")
        clock = load_object(crawler.settings.get(CLOCK_SETTING, "review_watch.clock.system_clock"))
        assert crawler.stats is not None
        return cls(session_factory(make_engine(url)), clock, crawler.stats)

    def process_item(self, item: MentionItem) -> MentionItem:
        with UnitOfWork(self.sessions) as uow:
            outcome = store_mention(uow, item, item.brand, self.clock).outcome
        self.stats.inc_value(f"review_watch/{outcome.value}")
        return item
