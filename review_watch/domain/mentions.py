"""What a crawl finds: the one normalised mention every spider yields, whatever the platform, and the source
types a config may name. Core types: the spiders build them, the services store them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

SourceType = Literal["trustpilot", "appstore", "googleplay", "googlebusiness", "reddit", "hackernews", "mastodon",
                     "bluesky", "rss", "schemaorg"]
SOURCE_TYPES: tuple[str, ...] = get_args(SourceType)
# Review sites: every item is about the source's configured brand.
REVIEW_SITE_TYPES = frozenset({"trustpilot", "appstore", "googleplay", "googlebusiness", "schemaorg"})
# Social networks and feeds: an item is kept only when it mentions a configured brand.
SOCIAL_TYPES = frozenset(SOURCE_TYPES) - REVIEW_SITE_TYPES


@dataclass
class MentionItem:
    source: str  # the source's name in the config
    source_type: str
    external_id: str  # the platform's own id, as the platform writes it
    url: str | None  # permalink, built where the platform has one and the data lacks it
    author: str | None
    published_at: datetime | None  # timezone-aware, UTC
    rating: float | None
    rating_max: float | None
    title: str | None
    text: str  # plain text: HTML stripped, entities decoded, whitespace tidied
    language: str | None = None  # ISO 639-1 where the platform says
    author_id: str | None = None  # the platform's id of the author, when it has one
    brand: str | None = None  # the configured brand of a review site, or the brand matched in the text
    raw: dict[str, Any] = field(default_factory=dict)  # the platform's record, for re-parsing
