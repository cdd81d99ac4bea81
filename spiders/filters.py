"""Keeps social and feed items only when they mention a configured brand, and says which brand."""

from __future__ import annotations

import dataclasses
from typing import Any, Self

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from review_watch.domain.brand_matching import BrandMatcher, BrandSpec
from spiders.items import MentionItem
from spiders.registry import SOCIAL_TYPES
from spiders.spiders.base import ReviewWatchSpider

BRANDS_SETTING = "REVIEW_WATCH_BRANDS"
STAT_NO_BRAND = "review_watch/no_brand"


def brand_specs(brands: list[dict[str, Any]]) -> list[BrandSpec]:
    """REVIEW_WATCH_BRANDS entries ({"name", "aliases", "exclude"}) as BrandMatcher input."""
    return [(b["name"], list(b.get("aliases") or []), list(b.get("exclude") or [])) for b in brands]


class BrandMatchPipeline:
    """Social and feed items (reddit, hackernews, mastodon, bluesky, rss) that match no brand are dropped.

    Review-site items belong to their source's configured brand without matching. The brands come from
    the spider's brand_matcher attribute when the runner sets one, else from REVIEW_WATCH_BRANDS.
    Every item leaves with its brand field filled in.
    """

    def __init__(self, matcher: BrandMatcher, crawler: Crawler) -> None:
        self.matcher = matcher
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        brands = crawler.settings.getlist(BRANDS_SETTING)
        return cls(BrandMatcher(brand_specs(brands)), crawler)

    def open_spider(self) -> None:
        """A social spider gets the matcher too, so that it pages on only while a page brings new mentions."""
        spider = self.crawler.spider
        if (isinstance(spider, ReviewWatchSpider) and spider.source_type in SOCIAL_TYPES
                and spider.brand_matcher is None):
            spider.brand_matcher = self.matcher

    def process_item(self, item: MentionItem) -> MentionItem:
        spider = self.crawler.spider
        if item.source_type not in SOCIAL_TYPES:
            return dataclasses.replace(item, brand=item.brand or getattr(spider, "brand", None))
        matcher = self._matcher(spider)
        brand = matcher.match(item.title, item.text)
        if brand is None:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(STAT_NO_BRAND)
            # An unmatched post is the normal case on a social source: not worth a warning.
            raise DropItem(f"{item.source}: {item.external_id} mentions no brand", log_level="DEBUG")
        return dataclasses.replace(item, brand=brand)

    def _matcher(self, spider: Spider | None) -> BrandMatcher:
        matcher = getattr(spider, "brand_matcher", None)
        return matcher if isinstance(matcher, BrandMatcher) else self.matcher
