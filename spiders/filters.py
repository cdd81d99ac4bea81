"""Which brand each item is about: a review site's configured brand, or the brands a social post mentions."""

from __future__ import annotations

import dataclasses
from typing import Any, Self

from scrapy.crawler import Crawler

from review_watch.domain.brand_matching import BrandMatcher, BrandSpec
from review_watch.domain.mentions import SOCIAL_TYPES, MentionItem
from spiders.spiders.base import ReviewWatchSpider

BRANDS_SETTING = "REVIEW_WATCH_BRANDS"


def brand_specs(brands: list[dict[str, Any]]) -> list[BrandSpec]:
    """REVIEW_WATCH_BRANDS entries ({"name", "aliases", "exclude"}) as BrandMatcher input."""
    return [(b["name"], list(b.get("aliases") or []), list(b.get("exclude") or [])) for b in brands]


def watched_brands(specs: list[BrandSpec], brand: str | None) -> BrandMatcher:
    """What a social or feed source watches: its own brand when it names one, else every configured brand."""
    return BrandMatcher([spec for spec in specs if brand is None or spec[0] == brand])


class BrandMatchPipeline:
    """Gives each social spider (reddit, hackernews, mastodon, bluesky, rss) the brands its source watches,
    unless the runner gave it a matcher: the spider then yields a post once per watched brand it mentions,
    and none that mentions none. Review-site items belong to their source's configured brand.
    Every item leaves with its brand field filled in."""

    def __init__(self, specs: list[BrandSpec], crawler: Crawler) -> None:
        self.specs = specs
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(brand_specs(crawler.settings.getlist(BRANDS_SETTING)), crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        if (isinstance(spider, ReviewWatchSpider) and spider.source_type in SOCIAL_TYPES
                and spider.brand_matcher is None):
            spider.brand_matcher = watched_brands(self.specs, spider.brand)

    def process_item(self, item: MentionItem) -> MentionItem:
        if item.brand is not None:  # a social post, matched by its spider
            return item
        return dataclasses.replace(item, brand=getattr(self.crawler.spider, "brand", None))
