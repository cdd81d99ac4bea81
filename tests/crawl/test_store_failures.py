"""A mention that cannot be stored is counted and names the source's failure, without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler
from sqlalchemy import Engine, event

from review_watch.clock import system_clock
from review_watch.storage.database import make_engine
from spiders.items import MentionItem
from spiders.pipelines import DATABASE_SETTING, STAT_STORE_FAILURES, StorePipeline
from spiders.spiders.base import STAT_FAILURE_REASON


def test_a_database_error_drops_the_item_and_records_why(tmp_path: Path) -> None:
    # A database with no tables: every query fails as a real outage or a schema mismatch would.
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    stats = MemoryStatsCollector(get_crawler())
    pipeline = StorePipeline(engine, system_clock, stats)
    item = MentionItem(source="acme-tp", source_type="trustpilot", external_id="r-1", url=None, author=None,
                       published_at=None, rating=5.0, rating_max=5.0, title=None, text="Fine.")
    with pytest.raises(DropItem):
        pipeline.process_item(item)
    assert stats.get_value(STAT_STORE_FAILURES) == 1
    reason = stats.get_value(STAT_FAILURE_REASON)
    assert reason.startswith("cannot store r-1: OperationalError") and "no such table" in reason
    assert "\n" not in reason


def test_the_pipeline_disposes_of_the_engine_it_opened(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={DATABASE_SETTING: f"sqlite:///{tmp_path / 'db.sqlite'}"})
    crawler.stats = MemoryStatsCollector(crawler)
    pipeline = StorePipeline.from_crawler(crawler)
    disposed: list[Engine] = []
    event.listen(pipeline.engine, "engine_disposed", disposed.append)
    pipeline.close_spider()
    assert disposed == [pipeline.engine]
