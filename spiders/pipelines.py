"""The item pipeline that stores what the spiders found, one transaction per item."""

from __future__ import annotations

import logging
from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.statscollectors import StatsCollector
from scrapy.utils.misc import load_object
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from review_watch.clock import Clock
from review_watch.domain.mentions import MentionItem
from review_watch.services.ingest import store_mention
from review_watch.storage.database import make_engine, session_factory
from review_watch.storage.unit_of_work import UnitOfWork
from spiders.spiders.base import STAT_FAILURE_REASON

DATABASE_SETTING = "REVIEW_WATCH_DATABASE_URL"
CLOCK_SETTING = "REVIEW_WATCH_CLOCK"  # dotted path of a Clock
STAT_STORE_FAILURES = "review_watch/store_failures"
logger = logging.getLogger(__name__)


class StorePipeline:
    """Stores each item as soon as it is scraped, so a killed crawl loses nothing it had fetched."""

    def __init__(self, engine: Engine, clock: Clock, stats: StatsCollector) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self.clock = clock
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        url = crawler.settings.get(DATABASE_SETTING)
        if not url:
            raise NotConfigured(f"{DATABASE_SETTING} is not set")
        clock = load_object(crawler.settings.get(CLOCK_SETTING, "review_watch.clock.system_clock"))
        assert crawler.stats is not None
        return cls(make_engine(url), clock, crawler.stats)

    def close_spider(self) -> None:
        """The engine is this crawler's own: its connections go when the spider closes."""
        self.engine.dispose()

    def process_item(self, item: MentionItem) -> MentionItem:
        try:
            with UnitOfWork(self.sessions) as uow:
                outcome = store_mention(uow, item, item.brand, self.clock).outcome
        except SQLAlchemyError as exc:
            reason = f"cannot store {item.external_id}: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            self.stats.inc_value(STAT_STORE_FAILURES)
            self.stats.set_value(STAT_FAILURE_REASON, reason)
            logger.error("%s: %s", item.source, reason)
            raise DropItem(reason, log_level="DEBUG") from None
        self.stats.inc_value(f"review_watch/{outcome.value}")
        return item
