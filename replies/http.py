"""Plain HTTP for the connectors whose platform has no maintained client library, or whose library would be
heavier than the two calls we make (App Store Connect, Trustpilot, Google Business Profile): one request on
aiohttp, its answer as status and JSON, and the status turned into a `ReplyRefused` of the right kind.

No header, body or URL query is ever put into a message or a log line: tokens and keys travel in them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from review_watch.domain.replies import RefusalKind, ReplyRefused

DEFAULT_RETRY_AFTER = 60.0  # seconds, where a 429 says nothing about when to come back


@dataclass(frozen=True)
class Answer:
    status: int
    data: Any  # the decoded JSON body; None when empty or not JSON
    headers: Mapping[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


async def call(platform: str, method: str, url: str, *, timeout: float, headers: Mapping[str, str] | None = None,
               json_body: Any = None, form: Mapping[str, str] | None = None) -> Answer:
    """One request. A timeout or a connection failure is ReplyRefused("unavailable"): the platform may or may
    not have acted, so the caller looks up the current reply before trying again."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session, \
                session.request(method, url, headers=headers, json=json_body, data=form) as response:
            body = await response.read()
            return Answer(response.status, _json(body), dict(response.headers))
    except TimeoutError:
        raise ReplyRefused("unavailable", f"{platform}: no answer within {timeout:g} s "
                                          f"({method} {_path(url)})") from None
    except aiohttp.ClientError as exc:
        raise ReplyRefused("unavailable", f"{platform}: cannot reach {_path(url)}: "
                                          f"{type(exc).__name__}") from None


def _json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _path(url: str) -> str:
    """The URL without its query (which may carry a key)."""
    return url.split("?", 1)[0]


def refusal_kind(status: int) -> RefusalKind:
    if status == 401:
        return "auth"
    if status == 403:
        return "forbidden"
    if status in (404, 410):
        return "gone"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "unavailable"
    return "invalid"


def retry_after(headers: Mapping[str, str], default: float | None = DEFAULT_RETRY_AFTER) -> float | None:
    """Seconds from a Retry-After header (in seconds), else the default."""
    try:
        return max(0.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return default


def refused(platform: str, answer: Answer, what: str, detail: str, kind: RefusalKind | None = None) -> ReplyRefused:
    """The refusal an error answer means, in one line: platform, what was tried, status and the platform's
    own words."""
    kind = kind or refusal_kind(answer.status)
    words = one_line(detail) or f"HTTP {answer.status}"
    wait = retry_after(answer.headers) if kind == "rate_limited" else retry_after(answer.headers, None)
    return ReplyRefused(kind, f"{platform}: {what}: {answer.status} {words}", retry_after=wait)


def one_line(text: str, limit: int = 300) -> str:
    return re.sub(r"\s+", " ", text).strip()[:limit]
