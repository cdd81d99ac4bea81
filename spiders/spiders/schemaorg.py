"""Any page carrying schema.org Review objects, in JSON-LD or microdata, with the parent's aggregateRating."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import lxml.html
from lxml import etree
from scrapy.http import Response

from review_watch.domain.mentions import MentionItem
from spiders.parsing.dates import parse_datetime
from spiders.parsing.text import html_to_text
from spiders.spiders.base import (
    Page,
    ReviewWatchSpider,
    as_float,
    dig,
    language_code,
    require_complete_html,
    response_text,
)

DEFAULT_RATING_MAX = 5.0


class SchemaOrgSpider(ReviewWatchSpider):
    name = "schemaorg"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The id each review got earlier on this crawl, by its own id and by its content.
        self.ids_by_own: dict[str, str] = {}
        self.ids_by_content: dict[tuple[Any, ...], str] = {}

    def parse_page(self, response: Response) -> Page:
        html = response_text(response)
        require_complete_html(html)
        document = lxml.html.document_fromstring(html)
        page_language = language_code(document.get("lang"))
        records = list(_json_ld_reviews(document)) + list(_microdata_reviews(document))
        items = [self._item(response, review, parent, page_language) for review, parent in records]
        return Page(self._identified(items, [review for review, _ in records]))

    def _identified(self, items: list[MentionItem], reviews: list[dict[str, Any]]) -> list[MentionItem]:
        """Each item with its review's id: one id for a review seen twice on this crawl (in two JSON-LD
        blocks, or in JSON-LD and microdata), known by its own id (@id, identifier, or a url that no other
        review on the page shares) or by the same author, date, text and rating."""
        contents_by_url: dict[str, set[tuple[Any, ...]]] = {}
        for review, item in zip(reviews, items, strict=True):
            if url := _url(review):
                contents_by_url.setdefault(url, set()).add(_content(item))
        own = [_declared_id(review) or (url if (url := _url(review)) and len(contents_by_url[url]) == 1 else None)
               for review in reviews]
        ids = [""] * len(items)
        for n in sorted(range(len(items)), key=lambda n: own[n] is None):  # so that a copy takes the own id
            own_id, content = own[n], _content(items[n])
            ids[n] = ((self.ids_by_own.get(own_id) if own_id else None) or self.ids_by_content.get(content)
                      or own_id or _hashed_id(reviews[n]))
            if own_id:
                self.ids_by_own.setdefault(own_id, ids[n])
            self.ids_by_content.setdefault(content, ids[n])
        return [dataclasses.replace(item, external_id=ids[n]) for n, item in enumerate(items)]

    def _item(self, response: Response, review: dict[str, Any], parent: dict[str, Any],
              page_language: str | None) -> MentionItem:
        aggregate: dict[str, Any] = _as_dict(parent.get("aggregateRating"))
        rating: dict[str, Any] = _as_dict(review.get("reviewRating"))
        rating_value = as_float(rating.get("ratingValue"))
        rating_max = as_float(rating.get("bestRating")) or as_float(dig(aggregate, "bestRating"))
        return MentionItem(
            source=self.source_name,
            source_type=self.source_type,
            external_id="",  # set by _identified
            url=review.get("url") if isinstance(review.get("url"), str) else response.url,
            author=_name(review.get("author")),
            published_at=parse_datetime(review.get("datePublished") or review.get("dateCreated")),
            rating=rating_value,
            rating_max=(rating_max or DEFAULT_RATING_MAX) if rating_value is not None else None,
            title=html_to_text(_text(review.get("name") or review.get("headline"))) or None,
            text=html_to_text(_text(review.get("reviewBody") or review.get("description"))),
            language=language_code(review.get("inLanguage")) or page_language,
            raw={
                "review": review,
                "itemReviewed": {
                    "@type": parent.get("@type"),
                    "name": parent.get("name"),
                    "aggregateRating": aggregate or None,
                },
            },
        )


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _declared_id(review: dict[str, Any]) -> str | None:
    for key in ("@id", "identifier"):
        if isinstance(review.get(key), str) and review[key]:
            return str(review[key])
    return None


def _url(review: dict[str, Any]) -> str | None:
    return review["url"] if isinstance(review.get("url"), str) and review["url"] else None


def _content(item: MentionItem) -> tuple[Any, ...]:
    """What tells reviews apart when they carry no id."""
    return (item.author, item.published_at, item.text, item.rating)


def _hashed_id(review: dict[str, Any]) -> str:
    basis = json.dumps(
        [_name(review.get("author")), review.get("datePublished") or review.get("dateCreated"),
         _text(review.get("reviewBody") or review.get("description")),
         dig(review, "reviewRating", "ratingValue")],
        ensure_ascii=False, default=str,
    )
    return "sha1:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()


def _name(author: Any) -> str | None:
    if isinstance(author, list):
        author = author[0] if author else None
    if isinstance(author, dict):
        author = author.get("name")
    return html_to_text(author) or None if isinstance(author, str) else None


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def _is_review(node: dict[str, Any]) -> bool:
    kind = node.get("@type")
    return kind == "Review" or (isinstance(kind, list) and "Review" in kind)


def _json_ld_reviews(document: etree._Element) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for script in document.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue  # a broken block next to good ones is common; the others still count
        yield from _walk(data, {})


def _walk(node: Any, parent: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    if isinstance(node, list):
        for child in node:
            yield from _walk(child, parent)
    elif isinstance(node, dict):
        if _is_review(node):
            yield node, parent
            return
        for key, child in node.items():
            yield from _walk(child, node if key in ("review", "reviews") else parent)


def _microdata_reviews(document: etree._Element) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    aggregates = document.xpath('//*[@itemprop="aggregateRating"][@itemscope]')
    parent: dict[str, Any] = {}
    if aggregates:
        parent = {"aggregateRating": _microdata_properties(aggregates[0])}
    for element in document.xpath('//*[@itemscope][contains(@itemtype, "schema.org/Review")]'):
        if not str(element.get("itemtype", "")).rstrip("/").endswith("/Review"):
            continue
        review = _microdata_properties(element)
        review_id = element.get("data-reviewid") or element.get("itemid")
        if review_id:
            review["identifier"] = review_id
        yield review, parent


def _microdata_properties(scope: etree._Element) -> dict[str, Any]:
    """The itemprops of one itemscope; nested itemscopes become nested dicts."""
    found: dict[str, Any] = {}
    for element in scope.iterdescendants():
        if not isinstance(element.tag, str) or element.get("itemprop") is None:
            continue
        if _owner_scope(element) is not scope:
            continue
        nested = element.get("itemscope") is not None
        value: Any = _microdata_properties(element) if nested else _microdata_value(element)
        for name in str(element.get("itemprop")).split():
            found.setdefault(name, value)
    return found


def _owner_scope(element: etree._Element) -> etree._Element | None:
    parent = element.getparent()
    while parent is not None and parent.get("itemscope") is None:
        parent = parent.getparent()
    return parent


def _microdata_value(element: etree._Element) -> str:
    for attribute in ("content", "datetime", "href", "src", "value"):
        if element.get(attribute) is not None:
            return str(element.get(attribute))
    return html_to_text(etree.tostring(element, method="html", encoding="unicode", with_tail=False))
