"""Mastodon: a reply is a status with `in_reply_to_id`, posted through Mastodon.py as the configured account.

Mastodon.py is synchronous (requests), so every call runs in a worker thread, one at a time per connector (its
rate-limit bookkeeping is not thread-safe). It is built with `ratelimit_method="throw"`, so a 429 comes back to
the sender instead of being slept through, and it retries nothing by itself.

Posting twice is prevented twice over. The status is posted with an `Idempotency-Key` header (the key the reply
flow gives), and Mastodon answers a repeated key within about an hour with the first status instead of posting
again. A retry later than that (a bot down for longer) is covered by `current_reply`, which the reply flow asks
before any retry: our account's newest reply to the post, found among the post's replies
(`GET /api/v1/statuses/{id}/context`, its descendants by our account's id, from
`GET /api/v1/accounts/verify_credentials`, whose `in_reply_to_id` is the post), with the text as it was typed
(`GET /api/v1/statuses/{id}/source`; the status's `content` is HTML, links shortened).

The post answered is found on the replying account's own instance: a status crawled from another server is
resolved first with `GET /api/v2/search?q=<url>&resolve=true`. The instance's length limit comes from
`GET /api/v2/instance` (`configuration.statuses.max_characters`); Mastodon counts a link as 23 characters.

`[sources.reply]` keys: `api_url` (the replying account's instance, e.g. "https://mastodon.social"), `account`
(e.g. "@acme@mastodon.social"), `access_token_env` (a token with the scopes `write:statuses`, `read:statuses`,
`read:accounts` and `read:search`), and the
optional `visibility` ("public", "unlisted"; default "public") and `max_characters` (the instance's limit as shown
before its first answer; default 500: the instance's own figure replaces it at the first call).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import regex
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from replies.registry import ReplySettings
from review_watch.domain.replies import PostedReply, ReplyLimits, ReplyRefused, ReplyTarget

DEFAULT_MAX_CHARACTERS = 500
URL_LENGTH = 23  # every link counts as this many characters, whatever its length
VISIBILITIES = ("public", "unlisted", "private", "direct")
_URL = regex.compile(r"https?://\S+")
_T = TypeVar("_T")


def countable_length(text: str) -> int:
    """The length Mastodon checks against its limit: graphemes, with each link counted as 23."""
    links = _URL.findall(text)
    rest = _URL.sub("", text)
    return len(regex.findall(r"\X", rest)) + URL_LENGTH * len(links)


def mention_id(target: ReplyTarget) -> str:
    """The crawled status id, without the "#brand=..." suffix a post naming two brands is stored under."""
    return target.external_id.split("#", 1)[0]


class MastodonConnector:
    platform = "mastodon"

    def __init__(self, api_url: str, access_token: str, account: str, *, source_url: str = "",
                 visibility: str = "public", max_characters: int = DEFAULT_MAX_CHARACTERS,
                 timeout: float = 30.0) -> None:
        self._instance_host = urlsplit(api_url).netloc
        self._source_host = urlsplit(source_url).netloc
        self._account = account
        self._visibility = visibility
        self._api = Mastodon(access_token=access_token, api_base_url=api_url.rstrip("/"), ratelimit_method="throw",
                             request_timeout=timeout, mastodon_version="4.0.0", version_check_mode="created",
                             user_agent="review-watch")
        self._lock = asyncio.Lock()
        self._account_id: str | None = None  # the token's own account, once asked
        self._limits_known = False
        self.limits = ReplyLimits(max_length=max_characters, unit="characters")  # until the instance says

    async def _call(self, action: str, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        async with self._lock:
            try:
                return await asyncio.to_thread(functools.partial(function, *args, **kwargs))
            except MastodonError as exc:
                raise self._refusal(action, exc) from None

    def _refusal(self, action: str, exc: MastodonError) -> ReplyRefused:
        where = f"Mastodon ({self._instance_host})"
        if isinstance(exc, MastodonRatelimitError):
            reset = self._api.ratelimit_reset
            wait = max(0.0, reset - time.time()) if reset else None
            return ReplyRefused("rate_limited", f"{where}: too many requests, {action} waits", retry_after=wait)
        if isinstance(exc, MastodonNetworkError):
            return ReplyRefused("unavailable", f"{where} did not answer the {action} in time or could not be reached")
        if isinstance(exc, MastodonServerError):
            return ReplyRefused("unavailable", f"{where} failed the {action} (HTTP {_status(exc)})")
        if isinstance(exc, MastodonUnauthorizedError):
            return ReplyRefused("auth", f"{where} refused the access token of {self._account} ({_detail(exc)})")
        if isinstance(exc, MastodonNotFoundError) or _status(exc) == 410:
            return ReplyRefused("gone", f"{where}: the post is gone ({_detail(exc)})")
        if _status(exc) == 403:
            return ReplyRefused("forbidden", f"{where}: {self._account} may not do this ({_detail(exc)})")
        if _status(exc) == 422 and "character limit" in _detail(exc).lower():
            return ReplyRefused("too_long", f"{where}: {_detail(exc)}")
        if isinstance(exc, MastodonAPIError):
            return ReplyRefused("invalid", f"{where} refused the {action} (HTTP {_status(exc)}: {_detail(exc)})")
        return ReplyRefused("invalid", f"{where}: {exc}")

    async def _load_limits(self) -> None:
        if self._limits_known:
            return
        instance = await self._call("instance look-up", self._api.instance_v2)
        statuses = (instance.get("configuration") or {}).get("statuses") or {}
        maximum = statuses.get("max_characters")
        self.limits = ReplyLimits(max_length=int(maximum) if maximum else DEFAULT_MAX_CHARACTERS, unit="characters")
        self._limits_known = True

    def _check_length(self, text: str) -> None:
        length, maximum = countable_length(text), self.limits.max_length
        if maximum is not None and length > maximum:
            raise ReplyRefused("too_long", f"the reply is {length} characters; {self._instance_host} allows "
                                           f"{maximum} (a link counts as {URL_LENGTH})")

    async def _status_to_answer(self, target: ReplyTarget) -> str:
        """The target's id on our instance: as crawled when crawled from it, else resolved by its URL."""
        if target.url is None or (self._source_host and self._source_host == self._instance_host):
            return mention_id(target)
        found = await self._call("look-up of the post", self._api.search_v2, target.url, resolve=True,
                                 result_type="statuses")
        statuses = found.get("statuses") or []
        if not statuses:
            raise ReplyRefused("gone", f"Mastodon ({self._instance_host}) cannot find the post {target.url}")
        return str(statuses[0]["id"])

    async def _our_account_id(self) -> str:
        """The id of the account the token belongs to; refused when it is not the configured account."""
        if self._account_id is None:
            me = await self._call("credentials check", self._api.account_verify_credentials)
            configured = self._account.removeprefix("@").split("@", 1)[0]
            if str(me["username"]).lower() != configured.lower():
                raise ReplyRefused("auth", f"Mastodon ({self._instance_host}): the access token is "
                                           f"@{me['username']}'s, not {self._account}'s")
            self._account_id = str(me["id"])
        return self._account_id

    async def check(self) -> str:
        await self._load_limits()
        await self._our_account_id()
        await self._call("credentials check", self._api.search_v2, self._account, resolve=False,
                         result_type="accounts")
        return f"{self._account} on {self._instance_host}"

    async def current_reply(self, target: ReplyTarget, idempotency_key: str) -> PostedReply | None:
        """Our newest reply to the post on our instance, whatever the Idempotency-Key's window says."""
        answered = await self._status_to_answer(target)
        ours = await self._our_account_id()
        context = await self._call("look-up of our reply", self._api.status_context, answered)
        replies = [status for status in context.get("descendants") or []
                   if str(status["account"]["id"]) == ours and str(status.get("in_reply_to_id")) == answered]
        if not replies:
            return None
        newest = max(replies, key=lambda status: (len(str(status["id"])), str(status["id"])))  # ids grow
        source = await self._call("look-up of our reply's text", self._api.status_source, newest["id"])
        return _posted(newest, str(source["text"]))

    async def post(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        await self._load_limits()
        self._check_length(text)
        in_reply_to = await self._status_to_answer(target)
        status = await self._call("reply", self._api.status_post, text, in_reply_to_id=in_reply_to,
                                  visibility=self._visibility, idempotency_key=idempotency_key)
        return _posted(status, text)

    async def edit(self, target: ReplyTarget, reply: PostedReply, text: str) -> PostedReply:
        await self._load_limits()
        self._check_length(text)
        status = await self._call("edit", self._api.status_update, reply.reply_id, text)
        return _posted(status, text)

    async def delete(self, target: ReplyTarget, reply: PostedReply) -> None:
        try:
            await self._call("deletion", self._api.status_delete, reply.reply_id)
        except ReplyRefused as refusal:
            if refusal.kind != "gone":  # already deleted: what was asked holds
                raise


def _status(exc: MastodonError) -> int | None:
    status = exc.args[1] if len(exc.args) > 1 else None
    return status if isinstance(status, int) else None


def _detail(exc: MastodonError) -> str:
    detail = exc.args[3] if len(exc.args) > 3 else None
    return str(detail or (exc.args[2] if len(exc.args) > 2 else exc))


def _posted(status: Any, text: str) -> PostedReply:
    created = status.get("edited_at") or status.get("created_at")
    return PostedReply(reply_id=str(status["id"]), text=text,
                       posted_at=created if isinstance(created, datetime) else None)


def build(settings: ReplySettings) -> MastodonConnector:
    if not settings.api_url:
        raise settings.invalid("api_url", "required: the replying account's instance, e.g. https://mastodon.social")
    visibility = settings.options.get("visibility", "public")
    if visibility not in VISIBILITIES:
        raise settings.invalid("visibility", f"one of {', '.join(VISIBILITIES)}, not {visibility!r}")
    if not settings.account:
        raise settings.invalid("account", "required: who replies, e.g. @acme@mastodon.social")
    maximum = settings.options.get("max_characters", str(DEFAULT_MAX_CHARACTERS))
    if not maximum.isdigit() or int(maximum) < 1:
        raise settings.invalid("max_characters", f"a positive whole number, not {maximum!r}")
    return MastodonConnector(settings.api_url, settings.secret("access_token"), settings.account,
                             source_url=settings.source_url, visibility=visibility, max_characters=int(maximum),
                             timeout=settings.timeout)
