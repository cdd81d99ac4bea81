"""Google Play reviews through the site's own batchexecute endpoint (rpc UsvDTd), newest first."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlsplit

from scrapy.http import FormRequest, Request, Response

from review_watch.domain.mentions import MentionItem
from spiders.parsing.dates import parse_datetime
from spiders.parsing.text import tidy_whitespace
from spiders.spiders.base import Page, ParseError, ReviewWatchSpider, as_float, dig, query_value

RPC_ID = "UsvDTd"
XSSI_PREFIX = b")]}'"
SORT_NEWEST = 2
PAGE_SIZE = 40
RATING_MAX = 5.0
REVIEW_URL = "https://play.google.com/store/apps/details?id={app}&reviewId={review}"


class GooglePlaySpider(ReviewWatchSpider):
    """start_url is the app's details page, e.g. https://play.google.com/store/apps/details?id=com.x&hl=en."""

    name = "googleplay"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        app_id = query_value(self.start_url, "id")
        if not app_id:
            raise ValueError(f"googleplay source {self.source_name}: url must carry ?id=<package name>")
        self.app_id = app_id
        parts = urlsplit(self.start_url)
        language = query_value(self.start_url, "hl") or "en"
        country = query_value(self.start_url, "gl") or "us"
        self.endpoint = (
            f"{parts.scheme}://{parts.netloc}/_/PlayStoreUi/data/batchexecute"
            f"?rpcids={RPC_ID}&source-path=%2Fstore%2Fapps%2Fdetails&hl={quote(language)}&gl={quote(country)}"
        )

    def first_request(self) -> Request:
        return self._reviews_request(None)

    def _reviews_request(self, token: str | None) -> Request:
        paging = [PAGE_SIZE, None, token] if token else [PAGE_SIZE, None, None]
        arguments = [None, None, [2, SORT_NEWEST, paging, None, []], [self.app_id, 7]]
        envelope = [[[RPC_ID, json.dumps(arguments, separators=(",", ":")), None, "generic"]]]
        return FormRequest(
            self.endpoint,
            formdata={"f.req": json.dumps(envelope, separators=(",", ":"))},
            callback=self.parse,
            errback=self.on_fetch_error,
        )

    def parse_page(self, response: Response) -> Page:
        inner = _rpc_payload(response.body)
        reviews = dig(inner, 0) or []
        items = self.build_items(response.url, reviews, self._item)
        token = dig(inner, 1, 1)
        return Page(items, self._reviews_request(token) if isinstance(token, str) and token else None)

    def _item(self, review: list[Any]) -> MentionItem:
        review_id = str(review[0])
        return MentionItem(
            source=self.source_name,
            source_type=self.source_type,
            external_id=review_id,
            url=REVIEW_URL.format(app=quote(self.app_id), review=quote(review_id, safe=":")),
            author=dig(review, 1, 0),
            published_at=parse_datetime(dig(review, 5, 0)),
            rating=as_float(dig(review, 2)),
            rating_max=RATING_MAX,
            title=None,
            text=tidy_whitespace(dig(review, 4)),
            raw={"review": review},
        )


def _rpc_payload(body: bytes) -> Any:
    """The decoded UsvDTd payload of a batchexecute answer, plain or length-prefixed (rt=c)."""
    text = body.decode("utf-8", errors="replace")
    if text.startswith(XSSI_PREFIX.decode()):
        text = text[len(XSSI_PREFIX):]
    decoder = json.JSONDecoder()
    position = 0
    envelopes: list[Any] = []
    while position < len(text):
        while position < len(text) and (text[position].isspace() or text[position].isdigit()):
            position += 1  # whitespace and the chunk lengths of the rt=c form
        if position >= len(text):
            break
        try:
            chunk, position = decoder.raw_decode(text, position)
        except ValueError as exc:
            raise ParseError(f"invalid batchexecute JSON: {exc}") from exc
        envelopes.append(chunk)
    for envelope in envelopes:
        for row in envelope if isinstance(envelope, list) else []:
            if isinstance(row, list) and len(row) > 2 and row[:2] == ["wrb.fr", RPC_ID]:
                if row[2] is None:
                    raise ParseError(f"{RPC_ID} answered with an error: {row}")
                return json.loads(row[2])
    raise ParseError(f"no {RPC_ID} row in the batchexecute answer")
