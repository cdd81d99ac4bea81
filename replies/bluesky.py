"""Bluesky: a reply is an `app.bsky.feed.post` record with `reply` root and parent references, written to our
own repository through the `atproto` SDK's AsyncClient (createSession with an app password; the SDK renews the
session with refreshSession before the access token runs out, and a token the server calls expired anyway is
replaced by a new session once).

Bluesky has no idempotency key, so the record key is chosen before sending: a TID derived from the reply
flow's idempotency key (`record_key`). Before posting, and in `current_reply`, the record at that key is read
with `com.atproto.repo.getRecord`; a reply that was accepted but whose answer was lost is found there instead of
being posted twice, and a second create at the same key could only fail. Posts cannot be edited: `edit` refuses.

The post answered is read first (getRecord on its at-uri): its cid is the parent reference, and its own
`reply.root` the root when it is itself a reply (else it is the root). A post that no longer exists is "gone".

`[sources.reply]` keys: `api_url` (the account's PDS, e.g. "https://bsky.social"), `account` (the handle, e.g.
"acme.bsky.social"), `app_password_env` (an app password, never the account password).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import regex
from atproto_client import AsyncClient, models
from atproto_client.client.session import Session, SessionEvent
from atproto_client.exceptions import (
    AtProtocolError,
    BadRequestError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.request import AsyncRequest

from replies.registry import ReplySettings
from review_watch.clock import Clock, system_clock
from review_watch.domain.replies import PostedReply, ReplyLimits, ReplyRefused, ReplyTarget

POST = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_BYTES = 3000  # the lexicon's maxLength of the text, in UTF-8 bytes
_SORTABLE_BASE32 = "234567abcdefghijklmnopqrstuvwxyz"
# Record keys derived from idempotency keys carry a time between 2015 and 2023: always in the past, so never
# ahead of a real clock, and 58 bits of the key's hash keep them apart.
_TID_EPOCH_MICROSECONDS = 1_420_070_400_000_000  # 2015-01-01T00:00:00Z
_T = TypeVar("_T")


def record_key(idempotency_key: str) -> str:
    """A TID (13 characters of sortable base32: 53 bits of microseconds, 10 of clock id) fixed by the key."""
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:8], "big")
    microseconds = _TID_EPOCH_MICROSECONDS + (digest >> 16) % (1 << 48)
    value = (microseconds << 10) | (digest & 0x3FF)
    return "".join(_SORTABLE_BASE32[(value >> shift) & 31] for shift in range(60, -1, -5))


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def split_at_uri(uri: str) -> tuple[str, str, str]:
    """(repo, collection, rkey) of "at://did/collection/rkey"; a "#brand=..." storage suffix is dropped."""
    parts = uri.split("#", 1)[0].removeprefix("at://").split("/")
    if len(parts) != 3 or not all(parts):
        raise ReplyRefused("invalid", f"Bluesky: {uri!r} is not the at-uri of a post")
    return parts[0], parts[1], parts[2]


class BlueskyConnector:
    platform = "bluesky"
    limits = ReplyLimits(max_length=MAX_GRAPHEMES, unit="graphemes", can_edit=False, can_delete=True)

    def __init__(self, api_url: str, handle: str, app_password: str, *, timeout: float = 30.0,
                 clock: Clock = system_clock) -> None:
        self._api_url = api_url
        self._handle = handle
        self._password = app_password
        self._timeout = timeout
        self._clock = clock
        self._client: AsyncClient | None = None
        self._did = ""

    async def _session(self) -> AsyncClient:
        if self._client is None:
            client = AsyncClient(self._api_url, request=AsyncRequest(timeout=self._timeout))
            client.on_session_change(self._remember_did)
            try:
                await client.login(self._handle, self._password, fetch_bsky_profile=False)
            except AtProtocolError as exc:
                raise self._refusal("sign-in", exc) from None
            self._client = client
        return self._client

    def _remember_did(self, event: SessionEvent, session: Session) -> None:
        self._did = session.did

    async def _call(self, action: str, call: Callable[[AsyncClient], Awaitable[_T]]) -> _T:
        """One XRPC call; a token the server calls expired or invalid gets one new session and one more try."""
        client = await self._session()
        try:
            return await call(client)
        except UnauthorizedError as exc:
            if _error_name(exc) not in ("ExpiredToken", "InvalidToken"):
                raise self._refusal(action, exc) from None
        except AtProtocolError as exc:
            raise self._refusal(action, exc) from None
        self._client = None
        await client.request.close()
        client = await self._session()
        try:
            return await call(client)
        except AtProtocolError as exc:
            raise self._refusal(action, exc) from None

    def _refusal(self, action: str, exc: AtProtocolError) -> ReplyRefused:
        where = f"Bluesky ({self._handle})"
        if isinstance(exc, RateLimitExceededError):
            wait = exc.retry_after
            if wait is None and exc.reset_at is not None:
                wait = max(0.0, (exc.reset_at - datetime.now(UTC)).total_seconds())
            return ReplyRefused("rate_limited", f"{where}: too many requests, the {action} waits", retry_after=wait)
        if not isinstance(exc, RequestErrorBase) or exc.response is None:
            return ReplyRefused("unavailable", f"{where}: no answer to the {action} ({type(exc).__name__})")
        status, name, message = exc.response.status_code, _error_name(exc), _error_message(exc)
        if isinstance(exc, UnauthorizedError) and status == 403:
            return ReplyRefused("forbidden", f"{where} may not do this: {name} {message}".rstrip())
        if isinstance(exc, UnauthorizedError) or name == "AuthenticationRequired":
            return ReplyRefused("auth", f"{where}: the app password or session was refused ({name})")
        if name == "RecordNotFound":
            return ReplyRefused("gone", f"{where}: the post is gone")
        if isinstance(exc, BadRequestError) and "longer than" in message:
            return ReplyRefused("too_long", f"{where}: {message}")
        if isinstance(exc, NetworkError) or status >= 500:
            return ReplyRefused("unavailable", f"{where}: the {action} failed (HTTP {status})")
        return ReplyRefused("invalid", f"{where} refused the {action}: {name} {message}".rstrip())

    async def _read(self, action: str, repo: str, collection: str, rkey: str) -> Any | None:
        """The record (uri, cid, value) at that place, or None where there is none."""
        params = models.ComAtprotoRepoGetRecord.Params(repo=repo, collection=collection, rkey=rkey)
        try:
            return await self._call(action, lambda client: client.com.atproto.repo.get_record(params))
        except ReplyRefused as refusal:
            if refusal.kind == "gone":
                return None
            raise

    async def check(self) -> str:
        await self._session()
        return f"@{self._handle} ({self._did})"

    async def current_reply(self, target: ReplyTarget, idempotency_key: str) -> PostedReply | None:
        await self._session()
        found = await self._read("look-up of our reply", self._did, POST, record_key(idempotency_key))
        if found is None:
            return None
        return PostedReply(reply_id=found.uri, text=found.value.text, posted_at=_parse_time(found.value.created_at))

    async def post(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        count, size = graphemes(text), len(text.encode())
        if count > MAX_GRAPHEMES or size > MAX_BYTES:
            raise ReplyRefused("too_long", f"the reply is {count} graphemes ({size} bytes); Bluesky allows "
                                           f"{MAX_GRAPHEMES} ({MAX_BYTES} bytes)")
        existing = await self.current_reply(target, idempotency_key)
        if existing is not None:
            return existing
        repo, collection, rkey = split_at_uri(target.external_id)
        parent = await self._read("look-up of the post", repo, collection, rkey)
        if parent is None:
            raise ReplyRefused("gone", f"Bluesky: the post {target.url or target.external_id} is gone")
        parent_ref = models.ComAtprotoRepoStrongRef.Main(uri=parent.uri, cid=parent.cid)
        its_reply = getattr(parent.value, "reply", None)
        root_ref = models.ComAtprotoRepoStrongRef.Main(uri=its_reply.root.uri, cid=its_reply.root.cid) \
            if its_reply is not None else parent_ref
        now = self._clock()
        record = models.AppBskyFeedPost.Record(
            text=text, created_at=now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            reply=models.AppBskyFeedPost.ReplyRef(root=root_ref, parent=parent_ref))
        data = models.ComAtprotoRepoCreateRecord.Data(repo=self._did, collection=POST,
                                                      rkey=record_key(idempotency_key), record=record)
        created = await self._call("reply", lambda client: client.com.atproto.repo.create_record(data))
        return PostedReply(reply_id=created.uri, text=text, posted_at=now)

    async def edit(self, target: ReplyTarget, reply: PostedReply, text: str) -> PostedReply:
        raise ReplyRefused("unsupported", "Bluesky posts cannot be edited: delete the reply and post a new one")

    async def delete(self, target: ReplyTarget, reply: PostedReply) -> None:
        repo, collection, rkey = split_at_uri(reply.reply_id)
        data = models.ComAtprotoRepoDeleteRecord.Data(repo=repo, collection=collection, rkey=rkey)
        await self._call("deletion", lambda client: client.com.atproto.repo.delete_record(data))


def _error_name(exc: AtProtocolError) -> str:
    content = exc.response.content if isinstance(exc, RequestErrorBase) and exc.response else None
    return str(getattr(content, "error", "") or "")


def _error_message(exc: AtProtocolError) -> str:
    content = exc.response.content if isinstance(exc, RequestErrorBase) and exc.response else None
    return str(getattr(content, "message", "") or "")


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def build(settings: ReplySettings) -> BlueskyConnector:
    if not settings.api_url:
        raise settings.invalid("api_url", "required: the account's PDS, e.g. https://bsky.social")
    if not settings.account:
        raise settings.invalid("account", "required: the handle that replies, e.g. acme.bsky.social")
    return BlueskyConnector(settings.api_url, settings.account.removeprefix("@"), settings.secret("app_password"),
                            timeout=settings.timeout)
