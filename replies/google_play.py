"""Google Play: replies through the Android Publisher API (`reviews.reply`, `reviews.get`, `reviews.list`).

The client is google-api-python-client built from the discovery document bundled in its wheel (no discovery
fetch), authorised as a service account by google-auth (a JWT exchanged for an access token, renewed when it
runs out). The client library is synchronous: each call runs in a worker thread, one at a time per connector.

A review has at most one developer reply, and `reviews.reply` writes or overwrites it, so a reply's id is the
review's id, editing is posting again, and there is no delete. Replies over 350 characters are refused here,
before sending.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import google_auth_httplib2
import httplib2
from google.auth.exceptions import GoogleAuthError, RefreshError
from google.oauth2 import service_account
from googleapiclient.discovery import build as build_service
from googleapiclient.errors import HttpError

from replies.registry import ReplySettings
from review_watch.domain.replies import PostedReply, RefusalKind, ReplyLimits, ReplyRefused, ReplyTarget

SCOPE = "https://www.googleapis.com/auth/androidpublisher"
MAX_REPLY_LENGTH = 350
NAME = "Google Play"
_T = TypeVar("_T")


def build(settings: ReplySettings) -> GooglePlayConnector:
    """Reads `key_file` (or `key_file_env`): the service account's JSON key; `package_name` defaults to the
    source url's `id=`; `api_url` and `token_url` replace Google's for tests."""
    raw = settings.read_file("key")
    try:
        info = json.loads(raw)
        credentials = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
    except (ValueError, KeyError, TypeError) as exc:
        where = settings.file_path("key")
        detail = f"missing {exc}" if isinstance(exc, KeyError) else "not a service-account JSON key"
        raise settings.invalid("key_file", f"{where}: {detail}") from None
    if settings.token_url:
        credentials = credentials.with_token_uri(settings.token_url)
    package = settings.options.get("package_name") or _package_of(settings.source_url)
    if not package:
        raise settings.invalid("package_name", "required when the source url has no ?id=PACKAGE")
    return GooglePlayConnector(credentials, package, settings.api_url, settings.timeout,
                               account=settings.account or credentials.service_account_email)


def _package_of(url: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get("id")
    return values[0] if values else None


class GooglePlayConnector:
    platform = "googleplay"
    limits = ReplyLimits(max_length=MAX_REPLY_LENGTH, unit="characters", can_edit=True, can_delete=False)

    def __init__(self, credentials: service_account.Credentials, package: str, api_url: str | None,
                 timeout: float, account: str) -> None:
        self._credentials = credentials
        self.package = package
        self.account = account
        self._timeout = timeout
        self._api_url = api_url.rstrip("/") + "/" if api_url else None
        self._lock = threading.Lock()  # httplib2 and the credentials' refresh are not thread-safe

    # The port --------------------------------------------------------------------------------------------

    async def check(self) -> str:
        await self._call(lambda reviews: reviews.list(packageName=self.package, maxResults=1))
        return f"{self.account} for {self.package}"

    async def current_reply(self, target: ReplyTarget, idempotency_key: str) -> PostedReply | None:
        review = await self._call(lambda reviews: reviews.get(packageName=self.package, reviewId=target.external_id))
        for comment in review.get("comments", []):
            developer = comment.get("developerComment")
            if developer:
                return PostedReply(reply_id=target.external_id, text=developer.get("text", ""),
                                   posted_at=_timestamp(developer.get("lastModified")))
        return None

    async def post(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        self._check_length(text)
        answer = await self._call(lambda reviews: reviews.reply(
            packageName=self.package, reviewId=target.external_id, body={"replyText": text}))
        result = answer.get("result", {})
        return PostedReply(reply_id=target.external_id, text=result.get("replyText", text),
                           posted_at=_timestamp(result.get("lastEdited")))

    async def edit(self, target: ReplyTarget, reply: PostedReply, text: str) -> PostedReply:
        return await self.post(target, text, idempotency_key=reply.reply_id)

    async def delete(self, target: ReplyTarget, reply: PostedReply) -> None:
        raise ReplyRefused("unsupported", f"{NAME} does not let an app delete its reply; edit it instead")

    # Calls -----------------------------------------------------------------------------------------------

    def _check_length(self, text: str) -> None:
        if len(text) > MAX_REPLY_LENGTH:
            raise ReplyRefused("too_long", f"{NAME} takes at most {MAX_REPLY_LENGTH} characters; "
                                           f"this reply has {len(text)}")

    async def _call(self, request: Callable[[Any], Any]) -> dict[str, Any]:
        return await asyncio.to_thread(self._execute, request)

    def _execute(self, request: Callable[[Any], Any]) -> dict[str, Any]:
        with self._lock:
            http = google_auth_httplib2.AuthorizedHttp(self._credentials, http=httplib2.Http(timeout=self._timeout))
            options = {"api_endpoint": self._api_url} if self._api_url else None
            try:
                service = build_service("androidpublisher", "v3", http=http, static_discovery=True,
                                        client_options=options, cache_discovery=False)
                answer: dict[str, Any] = request(service.reviews()).execute(num_retries=0)
                return answer
            except HttpError as exc:
                raise _refusal(exc) from None
            except RefreshError as exc:
                raise ReplyRefused("auth", f"{NAME}: the service account's token was refused: "
                                           f"{_first_line(exc.args[0] if exc.args else exc)}") from None
            except GoogleAuthError as exc:
                raise ReplyRefused("auth", f"{NAME}: cannot authenticate: {_first_line(exc)}") from None
            except TimeoutError:
                raise ReplyRefused("unavailable", f"{NAME} did not answer within {self._timeout:g} s") from None
            except (OSError, httplib2.HttpLib2Error) as exc:
                raise ReplyRefused("unavailable", f"{NAME} cannot be reached: {_first_line(exc)}") from None


def _refusal(error: HttpError) -> ReplyRefused:
    status = int(error.resp.status)
    message = _error_message(error)
    kind: RefusalKind
    if status == 429:
        kind = "rate_limited"
    elif status >= 500:
        kind = "unavailable"
    elif status == 401:
        kind = "auth"
    elif status == 403:
        kind = "forbidden"
    elif status in (404, 410):
        kind = "gone"
    elif "too long" in message.lower():
        kind = "too_long"
    else:
        kind = "invalid"
    wording = {
        "auth": f"{NAME} refused the credentials (token expired or revoked): {message}",
        "forbidden": f"{NAME}: the service account may not reply to this app's reviews: {message}",
        "gone": f"{NAME}: the review is gone (deleted, or not on the production track): {message}",
    }.get(kind, f"{NAME} answered {status}: {message}")
    retry_after = error.resp.get("retry-after")
    return ReplyRefused(kind, wording, retry_after=float(retry_after) if retry_after else None)


def _error_message(error: HttpError) -> str:
    try:
        body = json.loads(error.content)
        return _first_line(body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return _first_line(error.reason or error.content.decode("utf-8", "replace")[:200])


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else "no detail"


def _timestamp(value: dict[str, Any] | None) -> datetime | None:
    if not value or "seconds" not in value:
        return None
    return datetime.fromtimestamp(int(value["seconds"]) + int(value.get("nanos", 0)) / 1e9, tz=UTC)
