"""Google reviews of a business location (Google Business Profile API v4): the owner's reply to a review.

`PUT /v4/{review name}/reply` creates or replaces the one reply (at most 4,096 bytes of UTF-8, counted before
sending); `DELETE` on the same URL removes it; the review's current reply is `reviewReply` in
`GET /v4/{review name}`. A reply Google's moderation has not passed (a `reviewReplyState` other than published,
or a `policyViolation`) is shown as "held". Authentication as for Google Play: a service account's JSON key,
exchanged by google-auth for an access token (scope business.manage) and renewed when it runs out; the two API
calls themselves are plain HTTP, since Google ships no current client for this API.

Settings (`[sources.reply]`): `key_file` (or `key_file_env`); `api_url` and `token_url` for tests. The source's
url is the location's reviews list (`.../v4/accounts/A/locations/L/reviews`), as the `googlebusiness` spider
reads it."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import datetime
from typing import Any

import google_auth_httplib2
import httplib2
from google.auth.exceptions import GoogleAuthError
from google.oauth2 import service_account

from replies.http import Answer, call, one_line, refused
from replies.registry import ReplySettings
from review_watch.domain.replies import (
    PostedReply,
    PublicationState,
    RefusalKind,
    ReplyLimits,
    ReplyRefused,
    ReplyTarget,
)

PLATFORM = "googlebusiness"
API_URL = "https://mybusiness.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/business.manage"
MAX_REPLY_BYTES = 4096
PUBLISHED_STATES = frozenset({"PUBLISHED", "APPROVED", "REVIEW_REPLY_STATE_UNSPECIFIED"})
_LOCATION = re.compile(r"accounts/[^/?#]+/locations/[^/?#]+")

log = logging.getLogger(__name__)


def location_of(url: str) -> str | None:
    """`accounts/A/locations/L` from a URL or resource name that contains it."""
    found = _LOCATION.search(url)
    return found.group(0) if found else None


class GoogleBusinessConnector:
    platform = PLATFORM
    limits = ReplyLimits(max_length=MAX_REPLY_BYTES, unit="bytes", can_edit=True, can_delete=True)

    def __init__(self, credentials: service_account.Credentials, location: str, api_url: str = API_URL,
                 timeout: float = 30.0, account: str | None = None) -> None:
        self._credentials = credentials
        self.location = location
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.account = account or credentials.service_account_email
        self._refreshing = asyncio.Lock()

    async def _token(self, renew: bool = False) -> str:
        async with self._refreshing:
            if renew or not self._credentials.valid:
                await asyncio.to_thread(self._refresh)
            return str(self._credentials.token)

    def _refresh(self) -> None:
        request = google_auth_httplib2.Request(httplib2.Http(timeout=self.timeout))
        try:
            self._credentials.refresh(request)
        except GoogleAuthError as exc:
            raise ReplyRefused("auth", f"{PLATFORM}: the service account {self.account} was refused a token: "
                                       f"{one_line(str(exc.args[0] if exc.args else exc), 200)}") from None
        except (OSError, httplib2.HttpLib2Error) as exc:
            raise ReplyRefused("unavailable", f"{PLATFORM}: cannot reach the token endpoint: "
                                              f"{type(exc).__name__}") from None

    async def _call(self, method: str, name: str, body: Any = None, query: str = "") -> Answer:
        """One call on a resource name; a 401 gets one more try with a renewed token."""
        for attempt in range(2):
            token = await self._token(renew=attempt > 0)
            answer = await call(PLATFORM, method, f"{self.api_url}/v4/{name}{query}", timeout=self.timeout,
                                headers={"Authorization": f"Bearer {token}"}, json_body=body)
            if answer.status != 401 or attempt:
                return answer
        raise AssertionError("unreachable")

    def review_name(self, target: ReplyTarget) -> str:
        """accounts/A/locations/L/reviews/R: the crawled id where it is the name, else built from the location."""
        if target.external_id.startswith("accounts/"):
            return target.external_id
        recorded = target.record.get("name")
        if isinstance(recorded, str) and recorded.startswith("accounts/"):
            return recorded
        location = target.parent_ids.get("location") or self.location
        return f"{location}/reviews/{target.external_id}"

    async def check(self) -> str:
        answer = await self._call("GET", f"{self.location}/reviews", query="?pageSize=1")
        if not answer.ok:
            raise _refused(answer, f"reading the reviews of {self.location}")
        return f"{self.account} for {self.location}"

    async def current_reply(self, target: ReplyTarget, idempotency_key: str = "") -> PostedReply | None:
        name = self.review_name(target)
        answer = await self._call("GET", name)
        if not answer.ok:
            raise _refused(answer, f"reading review {name}")
        reply = answer.data.get("reviewReply") if isinstance(answer.data, dict) else None
        return _posted(name, reply) if isinstance(reply, dict) and reply.get("comment") else None

    async def post(self, target: ReplyTarget, text: str, idempotency_key: str = "") -> PostedReply:
        size = len(text.encode("utf-8"))
        if size > MAX_REPLY_BYTES:
            raise ReplyRefused("too_long", f"{PLATFORM}: a reply is at most {MAX_REPLY_BYTES} bytes of UTF-8; "
                                           f"this one has {size}")
        current = await self.current_reply(target, idempotency_key)
        if current is not None and current.text == text:
            log.info("%s: %s already has this reply: not sent again", PLATFORM, self.review_name(target))
            return current
        name = self.review_name(target)
        answer = await self._call("PUT", f"{name}/reply", body={"comment": text})
        if not answer.ok or not isinstance(answer.data, dict):
            raise _refused(answer, f"replying to {name}", size)
        posted = _posted(name, answer.data)
        log.info("%s: reply to %s accepted (%s)", PLATFORM, name, posted.state)
        return posted

    async def edit(self, target: ReplyTarget, reply: PostedReply, text: str) -> PostedReply:
        """The PUT replaces the one reply."""
        return await self.post(target, text)

    async def delete(self, target: ReplyTarget, reply: PostedReply) -> None:
        name = self.review_name(target)
        answer = await self._call("DELETE", f"{name}/reply")
        if answer.status == 404:
            log.info("%s: %s or its reply was already gone", PLATFORM, name)
            return
        if not answer.ok:
            raise _refused(answer, f"deleting the reply to {name}")
        log.info("%s: reply to %s deleted", PLATFORM, name)


def _posted(name: str, reply: dict[str, Any]) -> PostedReply:
    state: PublicationState = "published"
    if reply.get("policyViolation") or str(reply.get("reviewReplyState") or "PUBLISHED") not in PUBLISHED_STATES:
        state = "held"
    updated = reply.get("updateTime")
    try:
        posted_at = datetime.fromisoformat(updated) if isinstance(updated, str) else None
    except ValueError:
        posted_at = None
    return PostedReply(reply_id=name, text=str(reply.get("comment") or ""), state=state, posted_at=posted_at)


def _refused(answer: Answer, what: str, size: int | None = None) -> ReplyRefused:
    error = answer.data.get("error") if isinstance(answer.data, dict) else None
    error = error if isinstance(error, dict) else {}
    words = " ".join(str(error[k]) for k in ("status", "message") if error.get(k))
    kind: RefusalKind | None = None
    if answer.status == 400 and size is not None and re.search(r"\b(long|bytes|length)\b", words, re.I):
        kind, words = "too_long", f"{words} ({size} bytes)"
    return refused(PLATFORM, answer, what, words, kind=kind)


def build(settings: ReplySettings) -> GoogleBusinessConnector:
    raw = settings.read_file("key")
    try:
        credentials = service_account.Credentials.from_service_account_info(json.loads(raw), scopes=[SCOPE])
    except (ValueError, KeyError, TypeError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else "not a service-account JSON key"
        raise settings.invalid("key_file", f"{settings.file_path('key')}: {detail}") from None
    if settings.token_url:
        credentials = credentials.with_token_uri(settings.token_url)
    location = settings.options.get("location") or location_of(settings.source_url)
    if not location:
        raise settings.invalid("location", "required when the source url names no accounts/A/locations/L")
    return GoogleBusinessConnector(credentials, location, settings.api_url or API_URL, settings.timeout,
                                   account=settings.account)
