"""Google reviews of a business location through the Google Business Profile API (v4 `reviews.list`), newest
first, paged by `nextPageToken`. No public page serves them; the API needs the location's service account.

The source's url is the list itself, `https://mybusiness.googleapis.com/v4/accounts/A/locations/L/reviews`.
Spider arguments beyond the usual: key_file (the service account's JSON key, as for the source's replies) and
token_url (Google's token endpoint unless given; tests point it at loopback). The spider signs the service
account's JWT grant with google-auth and exchanges it through Scrapy like any other request."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from google.auth import crypt
from google.auth import jwt as google_jwt
from scrapy.http import FormRequest, Request, Response

from review_watch.domain.mentions import MentionItem
from spiders.parsing.dates import parse_datetime
from spiders.parsing.text import tidy_whitespace
from spiders.spiders.base import (
    STAT_FAILURE_REASON,
    STAT_FETCH_FAILURES,
    Page,
    ParseError,
    ReviewWatchSpider,
    dig,
    response_json,
    with_query,
)

SCOPE = "https://www.googleapis.com/auth/business.manage"
TOKEN_URL = "https://oauth2.googleapis.com/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PAGE_SIZE = 50  # the most reviews.list gives per page
ORDER = "updateTime desc"
STARS = {"ONE": 1.0, "TWO": 2.0, "THREE": 3.0, "FOUR": 4.0, "FIVE": 5.0}
RATING_MAX = 5.0
_LOCATION = re.compile(r"accounts/[^/]+/locations/[^/]+")


class GoogleBusinessSpider(ReviewWatchSpider):
    name = "googlebusiness"

    def __init__(self, *args: Any, key_file: str | None = None, token_url: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        location = _LOCATION.search(self.start_url.split("?")[0])
        if location is None or not self.start_url.split("?")[0].endswith("/reviews"):
            raise ValueError(f"googlebusiness source {self.source_name}: url must be a location's reviews list, "
                             ".../v4/accounts/A/locations/L/reviews")
        self.location = location.group(0)  # accounts/A/locations/L
        self.key_file = key_file or ""
        self.token_url = token_url
        self.access_token: str | None = None

    async def start(self) -> AsyncIterator[Request]:
        try:
            if not self.key_file:
                raise FileNotFoundError("no key file: give reply.key_file (or reply.key_file_env) in the config, "
                                        "or -a key_file=PATH")
            request = self._token_request()
        except (OSError, ValueError, KeyError) as exc:  # the key file: missing, not JSON, not a key
            self._key_failure(exc)
            return
        yield request

    def _key_failure(self, exc: BaseException) -> None:
        stats = self.crawler.stats
        assert stats is not None
        reason = (f"cannot read the service account key {self.key_file}: {type(exc).__name__}: "
                  f"{' '.join(str(exc).split())[:200]}")
        stats.inc_value(STAT_FETCH_FAILURES)
        stats.set_value(STAT_FAILURE_REASON, reason)
        self.logger.error("%s: %s", self.source_name, reason)

    def _token_request(self) -> Request:
        info = json.loads(Path(self.key_file).read_text(encoding="utf-8"))
        signer = crypt.RSASigner.from_service_account_info(info)
        now = int(time.time())
        claims = {"iss": info["client_email"], "scope": SCOPE, "aud": TOKEN_URL, "iat": now, "exp": now + 3600}
        assertion = google_jwt.encode(signer, claims).decode("ascii")
        return FormRequest(self.token_url or info.get("token_uri") or TOKEN_URL,
                           formdata={"grant_type": JWT_GRANT, "assertion": assertion},
                           callback=self._got_token, errback=self.on_fetch_error,
                           meta={"dont_obey_robotstxt": True}, dont_filter=True)

    def _got_token(self, response: Response) -> Any:
        token = dig(response_json(response), "access_token") if response.status == 200 else None
        if not isinstance(token, str):
            self.record_parse_failure(response.url, ParseError("the token endpoint gave no access_token"))
            return
        self.access_token = token
        yield self.first_request()

    def first_request(self) -> Request:
        return self._page(None)

    def _page(self, page_token: str | None) -> Request:
        url = with_query(self.start_url, pageSize=PAGE_SIZE, orderBy=ORDER, pageToken=page_token)
        return self.page_request(url, headers={"Authorization": f"Bearer {self.access_token}"})

    def parse_page(self, response: Response) -> Page:
        data = response_json(response)
        if not isinstance(data, dict):
            raise ParseError("a reviews list is a JSON object")
        reviews = data.get("reviews") or []
        if not isinstance(reviews, list):
            raise ParseError("reviews is not a list")
        items = self.build_items(response.url, reviews, self._item)
        token = data.get("nextPageToken")
        return Page(items, self._page(token) if isinstance(token, str) and token and reviews else None)

    def _item(self, review: dict[str, Any]) -> MentionItem:
        name = review.get("name") or f"{self.location}/reviews/{review['reviewId']}"
        rating = STARS.get(str(review.get("starRating")))  # STAR_RATING_UNSPECIFIED: none
        reviewer = review.get("reviewer") or {}
        return MentionItem(
            source=self.source_name,
            source_type=self.source_type,
            external_id=str(name),
            url=None,  # Google serves no page per review
            author=None if reviewer.get("isAnonymous") else reviewer.get("displayName"),
            published_at=parse_datetime(review.get("updateTime") or review.get("createTime")),
            rating=rating,
            rating_max=RATING_MAX if rating is not None else None,
            title=None,
            text=tidy_whitespace(review.get("comment")),
            raw=review,
        )
