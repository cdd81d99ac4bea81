"""Runs the configured sources' spiders in this process (one Scrapy CrawlerProcess for all of them), then
triages what they stored."""

from __future__ import annotations

import logging
import shutil
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from urllib.parse import urlsplit

from scrapy import Spider, signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.downloadermiddlewares import robotstxt
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.http import Request
from scrapy.settings import Settings
from sqlalchemy.orm import Session, sessionmaker

from review_watch.clock import Clock
from review_watch.config import Config, ConfigError, SourceConfig
from review_watch.entrypoints.bootstrap import App
from review_watch.entrypoints.triage_worker import triage_backlog
from review_watch.services.health import check_source_health
from review_watch.services.ingest import (
    SourceRunFigures,
    StoreOutcome,
    record_source_run,
    start_source_run,
)
from review_watch.services.satisfaction import check_satisfaction
from review_watch.services.triage import TriageFigures
from review_watch.storage.coordination import Coordination
from review_watch.storage.unit_of_work import UnitOfWork
from spiders import settings as spider_settings
from spiders.from_config import config_settings, spider_arguments
from spiders.run_record import run_figures
from spiders.spiders.base import failure_reason

log = logging.getLogger(__name__)


LOCKED_REASON = "another crawl of this source is running"


@dataclass(frozen=True)
class SourceSummary:
    name: str
    figures: SourceRunFigures
    skipped_reason: str | None = None

    def line(self) -> str:
        f = self.figures
        if self.skipped_reason:
            return f"{self.name}: skipped ({self.skipped_reason})"
        status = f"FAILED: {f.failure_reason}" if f.failed else "ok"
        return (f"{self.name}: {f.new} new, {f.duplicates} duplicate, {f.updated} updated, "
                f"{f.parse_failures + f.fetch_failures} failed, {f.pages} pages — {status}")


def crawl_then_triage(app: App, source_names: Sequence[str] = (), settings_overrides: dict[str, Any] | None = None,
                      ) -> tuple[list[SourceSummary], TriageFigures]:
    """Crawl the sources (all enabled ones when none are named), then judge what is new, open cases and queue
    their alerts: `review-watch crawl`, the crawls of `run` and the demo."""
    summaries = run_crawl(app.config, app.sessions, app.clock, source_names, settings_overrides,
                          locks=app.coordination)
    figures = triage_backlog(app, lambda: app.classifier, app.coordination)
    with app.unit_of_work() as uow:
        check_satisfaction(uow, app.config, app.clock())  # one warning per fall, not one per crawl
    return summaries, figures


def _crawler_settings(config: Config, overrides: dict[str, Any] | None) -> Settings:
    settings = Settings()
    settings.setmodule(spider_settings, priority="project")
    settings.setdict({**config_settings(config), "LOG_INSTALL_ROOT_HANDLER": False}, priority="cmdline")
    if overrides:
        settings.setdict(overrides, priority="cmdline")
    return settings


def run_crawl(config: Config, sessions: sessionmaker[Session], clock: Clock, source_names: Sequence[str] = (),
              settings_overrides: dict[str, Any] | None = None, *, locks: Coordination) -> list[SourceSummary]:
    """Crawl the named sources (all enabled ones when none), store what they find, record their health. A
    source another run is crawling (`locks`: on PostgreSQL, on any machine) is skipped."""
    sources: list[SourceConfig] = (
        [config.source(n) for n in source_names] if source_names else [s for s in config.sources if s.enabled])
    if not sources:
        raise ConfigError("no sources to crawl: add a [[sources]] table to the config")
    summaries: list[SourceSummary] = []
    with locks.source_locks([s.name for s in sources]) as (locked, busy):
        summaries += [SourceSummary(n, SourceRunFigures(), LOCKED_REASON) for n in busy]
        for name in busy:
            log.warning("%s: skipped: %s", name, LOCKED_REASON)
        if not locked:
            return summaries
        process = CrawlerProcess(_crawler_settings(config, settings_overrides))
        started_at = clock()
        crawlers: list[tuple[SourceConfig, Crawler]] = []
        for source in (s for s in sources if s.name in locked):
            with UnitOfWork(sessions) as uow:
                known = start_source_run(uow, source.name)
            crawler = process.create_crawler(source.type)  # the spider named so, found by Scrapy's loader
            process.crawl(crawler, **spider_arguments(source), known_ids=known)
            crawlers.append((source, crawler))
        progress = CrawlProgress([(source.name, crawler) for source, crawler in crawlers], sys.stderr)
        process.start()
        progress.finish()
        summaries += _record_runs(config, sessions, clock, crawlers, started_at)
    return summaries


def _record_runs(config: Config, sessions: sessionmaker[Session], clock: Clock,
                 crawlers: list[tuple[SourceConfig, Crawler]], started_at: datetime) -> list[SourceSummary]:
    summaries = []
    with UnitOfWork(sessions) as uow:
        for source, crawler in crawlers:
            figures = run_figures(crawler.stats.get_stats() if crawler.stats else {}, config.crawl.time_budget)
            record_source_run(uow, source.name, started_at, figures, clock)
            summaries.append(SourceSummary(source.name, figures))
        check_source_health(uow, config, clock)
    return summaries


class CrawlProgress:
    """How each source is getting on: a status line redrawn in place on a terminal, plain log lines otherwise.

    Driven by the crawlers' signals (a page fetched, an item stored, a source done); it reads their stats.
    """

    def __init__(self, crawlers: Sequence[tuple[str, Crawler]], stream: IO[str], interactive: bool | None = None,
                 redraw_every: float = 0.2) -> None:
        self.crawlers = dict(crawlers)
        self.stream = stream
        self.interactive = stream.isatty() if interactive is None else interactive
        self.redraw_every = redraw_every
        self.done: set[str] = set()
        self._drawn_at = 0.0
        self._shown = False
        for crawler in self.crawlers.values():
            crawler.signals.connect(self._changed, signal=signals.response_received)
            crawler.signals.connect(self._changed, signal=signals.item_scraped)
            crawler.signals.connect(self._source_done, signal=signals.spider_closed)
        if self.interactive:
            for handler in logging.getLogger().handlers:
                handler.addFilter(self._clear_before_log)
        log.info("crawling %d sources: %s", len(self.crawlers), ", ".join(self.crawlers))

    def _counts(self, name: str) -> tuple[int, int, int]:
        stats = self.crawlers[name].stats
        values = stats.get_stats() if stats else {}
        return (int(values.get("review_watch/pages", 0)), int(values.get("review_watch/items", 0)),
                int(values.get(f"review_watch/{StoreOutcome.NEW.value}", 0)))

    def _changed(self) -> None:
        if self.interactive and time.monotonic() - self._drawn_at >= self.redraw_every:
            self._draw()

    def _source_done(self, spider: Spider, reason: str) -> None:
        name = source_of(spider) or spider.name
        self.done.add(name)
        pages, items, new = self._counts(name)
        how = "" if reason == "finished" else f" ({reason})"
        if self.interactive:
            self._clear()
            self.stream.write(f"{name}: done{how}, {pages} pages, {items} items, {new} new\n")
            self._draw()
        else:
            log.info("%s: done%s, %d pages, %d items, %d new", name, how, pages, items, new)

    def _draw(self) -> None:
        counts = {name: self._counts(name) for name in self.crawlers}
        running = [f"{name} {counts[name][0]}p/{counts[name][1]}i" for name in self.crawlers if name not in self.done]
        line = (f"[{len(self.done)}/{len(self.crawlers)} sources] {sum(c[0] for c in counts.values())} pages, "
                f"{sum(c[1] for c in counts.values())} items, {sum(c[2] for c in counts.values())} new"
                + (f" | running: {', '.join(running)}" if running else ""))
        width = shutil.get_terminal_size().columns - 1
        self.stream.write("\r\x1b[K" + (line if len(line) <= width else line[: width - 1] + "…"))
        self.stream.flush()
        self._drawn_at = time.monotonic()
        self._shown = True

    def _clear(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False

    def _clear_before_log(self, record: logging.LogRecord) -> bool:
        self._clear()
        return True

    def finish(self) -> None:
        self._clear()
        if self.interactive:
            for handler in logging.getLogger().handlers:
                handler.removeFilter(self._clear_before_log)


def source_of(spider: object) -> str | None:
    """The source a spider crawls (its name is its source type)."""
    return getattr(spider, "source_name", None) or getattr(spider, "name", None)


class _QuietLibraries(logging.Filter):
    """Libraries speak at WARNING and above; Review Watch's own lines at INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.startswith("review_watch") or record.levelno >= logging.WARNING


class _RobotsTxtFailures(logging.Filter):
    """Scrapy's line for a robots.txt it could not fetch names the page that waited for it: name the source,
    the robots.txt and the reason instead. Scrapy then crawls the site as if robots.txt allowed everything."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (isinstance(args, dict) and isinstance(args.get("request"), Request)
                and isinstance(args.get("f_exception"), BaseException)):
            page = urlsplit(args["request"].url)
            record.msg = "%s: cannot fetch %s: %s; crawling it as if robots.txt allowed everything"
            record.args = (source_of(getattr(record, "spider", None)) or "?",
                           f"{page.scheme}://{page.netloc}/robots.txt", failure_reason(args["f_exception"]))
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class _OneLine(logging.Formatter):
    """Each record on one line, naming its source: an exception as its reason, never a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = record.getMessage().split("Traceback (most recent call last)", 1)[0]
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and failure_reason(error) not in line:
            line = f"{line.rstrip().rstrip(':')}: {failure_reason(error)}"
        source = source_of(getattr(record, "spider", None))
        if source and not line.startswith(f"{source}:"):
            line = f"{source}: {line}"
        return super().format(logging.makeLogRecord({
            **record.__dict__, "msg": " ".join(line.split()), "args": None, "exc_info": None, "exc_text": None,
            "stack_info": None}))


def configure_crawl_logging(verbose: bool) -> None:
    """Plain log lines on standard error, one per event; Scrapy's own lines and tracebacks only when asked
    (`--verbose`)."""
    handler = logging.StreamHandler(sys.stderr)
    layout = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(logging.Formatter(layout) if verbose else _OneLine(layout))
    if not verbose:
        handler.addFilter(_QuietLibraries())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger(robotstxt.__name__).addFilter(_RobotsTxtFailures())
    warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning)
