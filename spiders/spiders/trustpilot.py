"""Trustpilot company review pages: __NEXT_DATA__ first, JSON-LD and the HTML cards as fallbacks."""

from __future__ import annotations

import json
import re
from typing import Any

from parsel import Selector
from scrapy.http import Response

from review_watch.domain.mentions import MentionItem
from spiders.parsing.dates import parse_datetime
from spiders.parsing.text import html_to_text, tidy_whitespace
from spiders.spiders.base import (
    Page,
    ParseError,
    ReviewWatchSpider,
    as_float,
    dig,
    language_code,
    query_value,
    require_complete_html,
    response_text,
    with_query,
)

PERMALINK = "https://www.trustpilot.com/reviews/{}"
RATING_MAX = 5.0


class TrustpilotSpider(ReviewWatchSpider):
    name = "trustpilot"

    def parse_page(self, response: Response) -> Page:
        html = response_text(response)
        require_complete_html(html)
        selector = Selector(text=html)
        page_number = int(query_value(response.url, "page") or 1)
        next_data = selector.css("script#__NEXT_DATA__::text").get()
        if next_data:
            props = dig(json.loads(next_data), "props", "pageProps")
            reviews = dig(props, "reviews")
            if not isinstance(reviews, list):
                raise ParseError("__NEXT_DATA__ has no props.pageProps.reviews list")
            items = self.build_items(response.url, reviews, self._from_next_data)
            total_pages = dig(props, "filters", "pagination", "totalPages")
            has_next = isinstance(total_pages, int) and page_number < total_pages
        else:
            self.logger.warning("%s: no __NEXT_DATA__ at %s, using fallbacks", self.source_name, response.url)
            items = self._from_json_ld(selector) or self._from_cards(selector)
            if not items:
                raise ParseError("no reviews in __NEXT_DATA__, JSON-LD or review cards")
            has_next = bool(selector.css('a[name="pagination-button-next"][href], link[rel="next"]'))
        next_request = self.page_request(with_query(response.url, page=page_number + 1)) if has_next else None
        return Page(items, next_request)

    def _item(self, review_id: str, **fields: Any) -> MentionItem:
        return MentionItem(
            source=self.source_name,
            source_type=self.source_type,
            external_id=review_id,
            url=PERMALINK.format(review_id),
            rating_max=RATING_MAX,
            **fields,
        )

    def _from_next_data(self, review: dict[str, Any]) -> MentionItem:
        return self._item(
            str(review["id"]),
            author=dig(review, "consumer", "displayName"),
            author_id=dig(review, "consumer", "id"),
            published_at=parse_datetime(dig(review, "dates", "publishedDate")),
            rating=as_float(review.get("rating")),
            title=tidy_whitespace(review.get("title")) or None,
            text=tidy_whitespace(review.get("text")),
            language=language_code(review.get("language")),
            raw=review,
        )

    def _from_json_ld(self, selector: Selector) -> list[MentionItem]:
        items = []
        for block in selector.css('script[type="application/ld+json"]::text').getall():
            try:
                data = json.loads(block)
            except ValueError:
                continue
            graph = data.get("@graph", [data]) if isinstance(data, dict) else data
            for node in graph if isinstance(graph, list) else []:
                if not isinstance(node, dict) or node.get("@type") != "Review" or not node.get("@id"):
                    continue
                author = node.get("author")
                items.append(
                    self._item(
                        str(node["@id"]).rstrip("/").rsplit("/", 1)[-1],
                        author=author.get("name") if isinstance(author, dict) else author,
                        published_at=parse_datetime(node.get("datePublished")),
                        rating=as_float(dig(node, "reviewRating", "ratingValue")),
                        title=tidy_whitespace(node.get("headline")) or None,
                        text=tidy_whitespace(node.get("reviewBody")),
                        language=language_code(node.get("inLanguage")),
                        raw=node,
                    )
                )
        return items

    def _from_cards(self, selector: Selector) -> list[MentionItem]:
        items = []
        for card in selector.css("article[data-service-review-card-paper]"):
            link = card.css('a[href*="/reviews/"]::attr(href)').get()
            if not link:
                continue  # the 2025 build's "relevant reviews" cards carry no id
            rating = card.css("[data-service-review-rating]::attr(data-service-review-rating)").get()
            if rating is None:
                alt = card.css('img[alt^="Rated"]::attr(alt)').get() or ""
                found = re.search(r"\d+(\.\d+)?", alt)
                rating = found.group(0) if found else None
            text_html = card.css("[data-service-review-text-typography]").get()
            items.append(
                self._item(
                    link.split("?")[0].rstrip("/").rsplit("/", 1)[-1],
                    author=tidy_whitespace(card.css("[data-consumer-name-typography] ::text").get()) or None,
                    published_at=parse_datetime(card.css("time::attr(datetime)").get()),
                    rating=as_float(rating),
                    title=html_to_text(card.css("[data-service-review-title-typography]").get()) or None,
                    text=html_to_text(text_html),
                    language=language_code(card.css("[data-review-content]::attr(lang)").get()),
                    raw={"html": card.get()},
                )
            )
        return items
