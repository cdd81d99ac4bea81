"""The Scrapy project's settings (scrapy.cfg names this module), for `review-watch crawl` and `scrapy crawl` alike.

In-process runs use crawler_settings() and override what a run needs; what a Review Watch config implies
(database, brands, crawl limits) is spiders.from_config.config_settings.
"""

from __future__ import annotations

from typing import Any

BOT_NAME = "review_watch"
SPIDER_MODULES = ["spiders.spiders"]  # one spider per source type, named after it
NEWSPIDER_MODULE = "spiders.spiders"
USER_AGENT = "ReviewWatch/0.1 (+https://github.com/review-watch)"
ROBOTSTXT_OBEY = True
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"

# Politeness: AutoThrottle adapts the delay to the server's latency, never going below DOWNLOAD_DELAY.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_DELAY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_TIMEOUT = 30

# Retries on timeouts, 5xx and 429, waiting between tries (Retry-After honoured); see spiders.middlewares.
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry, doubling each time
RETRY_BACKOFF_MAX = 60.0
RETRY_AFTER_MAX = 300.0  # longest Retry-After honoured
RETRY_GIVE_UP_LOG_LEVEL = "INFO"  # the spider's errback names the failure, with its source, in one line
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.middlewares.BackoffRetryMiddleware": 550,
}

ITEM_PIPELINES = {
    "spiders.filters.BrandMatchPipeline": 100,
    "spiders.pipelines.StorePipeline": 300,  # skipped unless REVIEW_WATCH_DATABASE_URL is set
}

EXTENSIONS = {
    "spiders.run_record.SourceRunRecorder": 500,  # only in a Scrapyd job (REVIEW_WATCH_RUN set)
}

# Review Watch's own settings.
REVIEW_WATCH_CONFIG = None  # `scrapy crawl TYPE -a source=NAME`: the config file (else $REVIEW_WATCH_CONFIG)
REVIEW_WATCH_MAX_PAGES = 100  # per source and run, a bound even when every page is new
REVIEW_WATCH_BRANDS: list[dict[str, Any]] = []  # [{"name": ..., "aliases": [...], "exclude": [...]}]
REVIEW_WATCH_RUN = None  # a Scrapyd job's id, under which the job records its source's run

FEED_EXPORT_ENCODING = "utf-8"


def crawler_settings(**overrides: Any) -> dict[str, Any]:
    """Every setting above as a dict, with overrides applied (e.g. DOWNLOAD_DELAY=0 in tests)."""
    settings = {name: value for name, value in globals().items() if name.isupper()}
    settings.update(overrides)
    return settings
