"""The spider of each source type, found as Scrapy finds them: its SpiderLoader over SPIDER_MODULES
(spiders.settings), each spider named after its source type."""

from __future__ import annotations

from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from spiders import settings as project_settings
from spiders.spiders.base import ReviewWatchSpider


def project_spider_loader() -> SpiderLoader:
    """Scrapy's spider loader with this project's settings, as `scrapy list` and `scrapy crawl` use it."""
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    return SpiderLoader.from_settings(settings)


def _spiders() -> dict[str, type[ReviewWatchSpider]]:
    loader = project_spider_loader()
    found: dict[str, type[ReviewWatchSpider]] = {}
    for name in loader.list():
        spider = loader.load(name)
        assert issubclass(spider, ReviewWatchSpider), spider
        found[name] = spider
    return found


SPIDERS: dict[str, type[ReviewWatchSpider]] = _spiders()
