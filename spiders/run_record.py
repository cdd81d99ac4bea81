"""A source's run as figures, from its crawler's stats; recorded by the crawl runner, or, when Scrapyd runs the
spider as a job, by the `SourceRunRecorder` extension under the job's id."""

from __future__ import annotations

from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import load_object
from sqlalchemy import Engine

from review_watch.services.ingest import SourceRunFigures, StoreOutcome, record_source_run, start_source_run
from review_watch.storage.database import make_engine, session_factory
from review_watch.storage.unit_of_work import UnitOfWork
from spiders.pipelines import CLOCK_SETTING, DATABASE_SETTING
from spiders.spiders.base import STAT_FAILURE_REASON

RUN_SETTING = "REVIEW_WATCH_RUN"  # the Scrapyd job's id: set, the job records its run under it


def run_figures(stats: dict[str, Any], budget: float, finish_reason: str | None = None) -> SourceRunFigures:
    """What one source's crawl did and whether it failed, from its stats (`finish_reason` as Scrapy gave it)."""
    finish_reason = finish_reason or stats.get("finish_reason")
    figures = SourceRunFigures(
        pages=int(stats.get("review_watch/pages", 0)), items=int(stats.get("review_watch/items", 0)),
        new=int(stats.get(f"review_watch/{StoreOutcome.NEW.value}", 0)),
        duplicates=int(stats.get(f"review_watch/{StoreOutcome.DUPLICATE.value}", 0)),
        updated=int(stats.get(f"review_watch/{StoreOutcome.UPDATED.value}", 0)),
        parse_failures=int(stats.get("review_watch/parse_failures", 0)),
        fetch_failures=int(stats.get("review_watch/fetch_failures", 0)),
        reached_the_end=finish_reason == "finished",
    )
    reason = stats.get(STAT_FAILURE_REASON)
    # Not log_count/ERROR: Scrapy counts every crawler's log lines in each crawler's stats.
    if finish_reason == "closespider_timeout":
        reason = f"stopped at the crawl's time budget ({budget:g} s){'; ' + reason if reason else ''}"
    elif finish_reason == "shutdown":
        reason = reason or "interrupted"
    elif stats.get("spider_exceptions/count"):
        reason = reason or "errors while crawling (see the log)"
    if reason is None and (figures.parse_failures or figures.fetch_failures):
        reason = f"{figures.parse_failures} unparsable pages, {figures.fetch_failures} failed fetches"
    figures.failure_reason = reason
    return figures


class SourceRunRecorder:
    """For a spider that Scrapyd runs (`REVIEW_WATCH_RUN` set to the job's id): starts the source's run as the
    crawl runner does (the ids already stored, so paging stops at known ones) and records its figures when the
    spider closes, where `review-watch crawl --scrapyd` reads them."""

    def __init__(self, crawler: Crawler, job: str) -> None:
        self.crawler = crawler
        self.job = job
        self.clock = load_object(crawler.settings.get(CLOCK_SETTING, "review_watch.clock.system_clock"))
        self.started_at = self.clock()
        self.engine: Engine | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        job = crawler.settings.get(RUN_SETTING)
        if not job:
            raise NotConfigured(f"{RUN_SETTING} is not set")
        recorder = cls(crawler, str(job))
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        self.started_at = self.clock()
        self.engine = make_engine(self.crawler.settings[DATABASE_SETTING])
        with UnitOfWork(session_factory(self.engine)) as uow:
            spider.known_ids = start_source_run(uow, spider.source_name)  # type: ignore[attr-defined]

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.engine is None:
            return
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        budget = float(self.crawler.settings.getfloat("CLOSESPIDER_TIMEOUT"))
        try:
            with UnitOfWork(session_factory(self.engine)) as uow:
                record_source_run(uow, spider.source_name, self.started_at,  # type: ignore[attr-defined]
                                  run_figures(stats, budget, reason), self.clock, job=self.job)
        finally:
            self.engine.dispose()
