"""The spider class of each source type, as named in the config."""

from __future__ import annotations

from spiders.source_types import SOCIAL_TYPES
from spiders.spiders.appstore import AppStoreSpider
from spiders.spiders.base import ReviewWatchSpider
from spiders.spiders.bluesky import BlueskySpider
from spiders.spiders.googleplay import GooglePlaySpider
from spiders.spiders.hackernews import HackerNewsSpider
from spiders.spiders.mastodon import MastodonSpider
from spiders.spiders.reddit import RedditSpider
from spiders.spiders.rss import RssSpider
from spiders.spiders.schemaorg import SchemaOrgSpider
from spiders.spiders.trustpilot import TrustpilotSpider

__all__ = ["SOCIAL_TYPES", "SPIDERS"]  # SOCIAL_TYPES: as the filters have always imported it

SPIDERS: dict[str, type[ReviewWatchSpider]] = {
    spider.source_type: spider
    for spider in (
        TrustpilotSpider,
        AppStoreSpider,
        GooglePlaySpider,
        RedditSpider,
        HackerNewsSpider,
        MastodonSpider,
        BlueskySpider,
        RssSpider,
        SchemaOrgSpider,
    )
}
