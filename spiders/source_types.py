"""The source types a config may name (core types: review_watch.domain.mentions); the spider of each is named
after it (spiders.registry)."""

from __future__ import annotations

from review_watch.domain.mentions import REVIEW_SITE_TYPES, SOCIAL_TYPES, SOURCE_TYPES, SourceType

__all__ = ["REVIEW_SITE_TYPES", "SOCIAL_TYPES", "SOURCE_TYPES", "SourceType"]
