"""The source types a config may name and what kind each is; the spider of each is named after it (spiders.registry).

Apart from the registry so that reading a config does not import Scrapy.
"""

from __future__ import annotations

from typing import Literal, get_args

SourceType = Literal["trustpilot", "appstore", "googleplay", "reddit", "hackernews", "mastodon", "bluesky", "rss",
                     "schemaorg"]
SOURCE_TYPES: tuple[str, ...] = get_args(SourceType)
# Review sites: every item is about the source's configured brand.
REVIEW_SITE_TYPES = frozenset({"trustpilot", "appstore", "googleplay", "schemaorg"})
# Social networks and feeds: an item is kept only when it mentions a configured brand.
SOCIAL_TYPES = frozenset(SOURCE_TYPES) - REVIEW_SITE_TYPES
