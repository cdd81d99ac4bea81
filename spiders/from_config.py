"""What a Review Watch config means to Scrapy: its settings, and a source's spider arguments.

`review-watch crawl` applies these itself. `scrapy crawl TYPE -a source=NAME` (no `-a url`) looks the source
up in the config named by the REVIEW_WATCH_CONFIG setting, else the REVIEW_WATCH_CONFIG environment variable,
else ./review-watch.toml (as `review-watch` finds it), and prepares the database as `review-watch` does, so
that the items are stored through the same pipeline.
"""

from __future__ import annotations

import os
from typing import Any

from scrapy.crawler import Crawler

from review_watch.config import Config, ConfigError, SourceConfig, load_config, resolve_config_path
from review_watch.services.ingest import sync_config
from review_watch.storage.database import make_engine, migrate, session_factory
from review_watch.storage.unit_of_work import UnitOfWork
from spiders.filters import BRANDS_SETTING
from spiders.pipelines import DATABASE_SETTING

CONFIG_SETTING = "REVIEW_WATCH_CONFIG"


def config_settings(config: Config) -> dict[str, Any]:
    """The Scrapy settings a config implies: the database, the brands and the crawl limits."""
    budget = config.crawl.time_budget
    return {
        # Closing a spider waits for its downloads in flight: none may outlast the budget.
        "DOWNLOAD_TIMEOUT": min(config.crawl.download_timeout, budget),
        DATABASE_SETTING: config.database.url,
        "ROBOTSTXT_OBEY": config.crawl.obey_robots_txt,
        "DOWNLOAD_DELAY": config.crawl.download_delay,
        "RETRY_TIMES": config.crawl.retries,
        "RETRY_BACKOFF_BASE": config.crawl.retry_wait,
        "AUTOTHROTTLE_ENABLED": config.crawl.autothrottle,
        "CLOSESPIDER_TIMEOUT": budget,
        BRANDS_SETTING: [
            {"name": b.name, "aliases": list(b.aliases), "exclude": list(b.exclude)} for b in config.brands],
    }


def spider_arguments(source: SourceConfig) -> dict[str, Any]:
    """A configured source as its spider's arguments (`-a source=... -a url=... -a brand=...`); a googlebusiness
    source also reads with its replies' service account (`key_file`, `token_url`)."""
    arguments: dict[str, Any] = {"source": source.name, "url": source.url, "brand": source.brand}
    if source.type == "googlebusiness" and source.reply is not None:
        options = source.reply.options
        arguments["key_file"] = options.get("key_file") or os.environ.get(options.get("key_file_env", ""))
        arguments["token_url"] = source.reply.token_url
    return arguments


def prepare_database(config: Config) -> None:
    """Migrate the database and make its brands, sources and staff match the config, as `review-watch` does
    before a crawl."""
    engine = make_engine(config.database.url)
    try:
        migrate(engine)
        with UnitOfWork(session_factory(engine)) as uow:
            sync_config(uow, config)
    finally:
        engine.dispose()


def configure_from_config(crawler: Crawler, source_type: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """For a spider started by name with only its source named: the source's arguments from the config
    (those given on the command line win), and the config's settings applied to the crawler below the
    command line's `-s` (so `-s DOWNLOAD_DELAY=0` still wins). ConfigError names the file and the problem."""
    path = resolve_config_path(crawler.settings.get(CONFIG_SETTING))
    config = load_config(path)
    try:
        source = config.source(str(arguments["source"]))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if source.type != source_type:
        raise ConfigError(f"{path}: source {source.name!r} is a {source.type} source, not {source_type}: "
                          f"scrapy crawl {source.type} -a source={source.name}")
    for name, value in config_settings(config).items():
        crawler.settings.set(name, value, priority="spider")
    prepare_database(config)
    return {**spider_arguments(source), **{k: v for k, v in arguments.items() if v is not None}}
