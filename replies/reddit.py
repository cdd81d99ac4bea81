"""Reddit: a reply is a comment (`POST /api/comment`) on the post's or comment's fullname (t3_... or t1_...),
made by a "script" app as the configured account.

Plain aiohttp rather than asyncpraw: asyncprawcore repeats a request by itself after a 5xx answer, a dropped
connection or a timeout, POSTs included, and Reddit has no idempotency key, so `/api/comment` could be sent
twice with no look-up in between. Here every call is made once; before posting (and in `current_reply`) our
account's newest comments (`GET /user/{name}/comments`, one page of 100) are searched for one whose parent is
the thing answered: a reply that was accepted but whose answer was lost is found there (the same text on the
same thing) and not posted again.
That page is used rather than the thread itself, whose replies can run to thousands behind "more" stubs.

The token comes from the password grant (`POST https://www.reddit.com/api/v1/access_token`, Basic client id and
secret) and lasts an hour; it is renewed a minute before that, or once when the API answers 401. Reddit puts
refusals of a well-formed request in `json.errors` with HTTP 200: TOO_OLD (archived) and DELETED_* are "gone",
TOO_LONG "too_long", RATELIMIT "rate_limited" (its wait read from the message), THREAD_LOCKED "forbidden".

`[sources.reply]` keys: `account` (the username), `client_id`, `client_secret_env`, `password_env`; optional
`api_url` (default https://oauth.reddit.com), `token_url` (default https://www.reddit.com/api/v1/access_token)
and `user_agent` (Reddit asks for a descriptive one; default "review-watch/0.1 (by /u/NAME)").
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from multidict import CIMultiDict

from replies.registry import ReplySettings
from review_watch.clock import Clock, system_clock
from review_watch.domain.replies import PostedReply, RefusalKind, ReplyLimits, ReplyRefused, ReplyTarget

API_URL = "https://oauth.reddit.com"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
MAX_LENGTH = 10_000
RENEW_BEFORE = timedelta(seconds=60)
DEFAULT_RETRY_AFTER = 60.0
_FULLNAME = re.compile(r"t[13]_[a-z0-9]+")
_WAIT = re.compile(r"(\d+)\s*(second|minute|hour)", re.IGNORECASE)
_ERROR_KINDS: dict[str, RefusalKind] = {
    "TOO_OLD": "gone", "DELETED_LINK": "gone", "DELETED_COMMENT": "gone", "NO_LINK": "gone",
    "TOO_LONG": "too_long", "RATELIMIT": "rate_limited", "THREAD_LOCKED": "forbidden",
    "USER_REQUIRED": "auth", "SUBREDDIT_NOTALLOWED": "forbidden", "BANNED_FROM_SUBREDDIT": "forbidden",
}


def fullname(target: ReplyTarget) -> str:
    """The thing's fullname, without the "#brand=..." suffix a post naming two brands is stored under."""
    name = target.external_id.split("#", 1)[0]
    if not _FULLNAME.fullmatch(name):
        raise ReplyRefused("invalid", f"Reddit: {name!r} is not the fullname of a post (t3_) or comment (t1_)")
    return name


class RedditConnector:
    platform = "reddit"
    limits = ReplyLimits(max_length=MAX_LENGTH, unit="characters", can_edit=True, can_delete=True)

    def __init__(self, username: str, client_id: str, client_secret: str, password: str, *,
                 api_url: str = API_URL, token_url: str = TOKEN_URL, user_agent: str | None = None,
                 timeout: float = 30.0, clock: Clock = system_clock) -> None:
        self._username = username
        self._client_auth = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._password = password
        self._api_url = api_url.rstrip("/")
        self._token_url = token_url
        self._user_agent = user_agent or f"review-watch/0.1 (by /u/{username})"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._token: str | None = None
        self._token_expires = datetime.min.replace(tzinfo=UTC)

    # HTTP -------------------------------------------------------------------------------------------------

    async def _request(self, action: str, method: str, url: str, *, headers: Mapping[str, str],
                       form: Mapping[str, str] | None = None,
                       params: Mapping[str, str] | None = None) -> tuple[int, Any, Mapping[str, str]]:
        """One request, made once; no header, form or body ever goes into a message."""
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as session, \
                    session.request(method, url, headers={"User-Agent": self._user_agent, **headers},
                                    data=form, params=params) as response:
                try:
                    data = await response.json(content_type=None)
                except ValueError:
                    data = None
                return response.status, data, CIMultiDict(response.headers)
        except TimeoutError:
            raise ReplyRefused("unavailable", f"Reddit did not answer the {action} in time") from None
        except aiohttp.ClientError as exc:
            raise ReplyRefused("unavailable", f"Reddit cannot be reached for the {action} "
                                              f"({type(exc).__name__})") from None

    async def _access_token(self) -> str:
        now = self._clock()
        if self._token is not None and now < self._token_expires - RENEW_BEFORE:
            return self._token
        status, data, _ = await self._request(
            "sign-in", "POST", self._token_url, headers={"Authorization": self._client_auth},
            form={"grant_type": "password", "username": self._username, "password": self._password})
        if status == 401:
            raise ReplyRefused("auth", "Reddit refused the app's client id or secret")
        if status == 429:
            raise ReplyRefused("rate_limited", "Reddit: too many sign-ins, waiting", retry_after=DEFAULT_RETRY_AFTER)
        if status >= 500:
            raise ReplyRefused("unavailable", f"Reddit's sign-in failed (HTTP {status})")
        if not isinstance(data, dict) or "access_token" not in data:
            error = data.get("error") if isinstance(data, dict) else f"HTTP {status}"
            raise ReplyRefused("auth", f"Reddit refused the sign-in of u/{self._username} ({error})")
        self._token = str(data["access_token"])
        self._token_expires = now + timedelta(seconds=float(data.get("expires_in", 3600)))
        return self._token

    async def _api(self, action: str, method: str, path: str, *, form: Mapping[str, str] | None = None,
                   params: Mapping[str, str] | None = None) -> Any:
        async def send() -> tuple[int, Any, Mapping[str, str]]:
            token = await self._access_token()
            return await self._request(action, method, f"{self._api_url}{path}",
                                       headers={"Authorization": f"bearer {token}"}, form=form, params=params)

        status, data, headers = await send()
        if status == 401:  # expired or revoked early: one new token, one more try
            self._token = None
            status, data, headers = await send()
        if status >= 400:
            raise self._refusal(action, status, headers)
        self._raise_json_errors(action, data)
        return data

    def _refusal(self, action: str, status: int, headers: Mapping[str, str]) -> ReplyRefused:
        if status == 401:
            return ReplyRefused("auth", f"Reddit refused the token of u/{self._username}")
        if status == 403:
            return ReplyRefused("forbidden", f"Reddit: u/{self._username} may not do the {action}")
        if status in (404, 410):
            return ReplyRefused("gone", f"Reddit: the post or comment is gone ({action})")
        if status == 429:
            return ReplyRefused("rate_limited", f"Reddit: too many requests, the {action} waits",
                                retry_after=_seconds(headers.get("X-Ratelimit-Reset")) or DEFAULT_RETRY_AFTER)
        if status >= 500:
            return ReplyRefused("unavailable", f"Reddit failed the {action} (HTTP {status})")
        return ReplyRefused("invalid", f"Reddit refused the {action} (HTTP {status})")

    @staticmethod
    def _raise_json_errors(action: str, data: Any) -> None:
        body = data.get("json") if isinstance(data, dict) else None
        errors = body.get("errors") if isinstance(body, dict) else None
        if not errors or not isinstance(body, dict):
            return
        code, message = str(errors[0][0]), str(errors[0][1]) if len(errors[0]) > 1 else ""
        kind = _ERROR_KINDS.get(code, "invalid")
        wait = None
        if kind == "rate_limited":
            wait = float(body["ratelimit"]) if isinstance(body.get("ratelimit"), int | float) else _wait(message)
        raise ReplyRefused(kind, f"Reddit refused the {action}: {code} ({message})".replace("\n", " "),
                           retry_after=wait)

    # The port ---------------------------------------------------------------------------------------------

    async def check(self) -> str:
        me = await self._api("credentials check", "GET", "/api/v1/me")
        return f"u/{me.get('name', self._username) if isinstance(me, dict) else self._username}"

    async def current_reply(self, target: ReplyTarget, idempotency_key: str) -> PostedReply | None:
        parent = fullname(target)
        listing = await self._api("look-up of our reply", "GET", f"/user/{self._username}/comments",
                                  params={"limit": "100", "sort": "new", "raw_json": "1"})
        for child in ((listing or {}).get("data") or {}).get("children") or []:
            comment = child.get("data") or {}
            if comment.get("parent_id") == parent and comment.get("body") not in ("[deleted]", "[removed]"):
                return _posted(comment)
        return None

    async def post(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        self._check_length(text)
        existing = await self.current_reply(target, idempotency_key)
        if existing is not None and " ".join(existing.text.split()) == " ".join(text.split()):
            return existing  # accepted before, its answer lost
        data = await self._api("reply", "POST", "/api/comment",
                               form={"api_type": "json", "thing_id": fullname(target), "text": text})
        return _posted(_thing(data))

    async def edit(self, target: ReplyTarget, reply: PostedReply, text: str) -> PostedReply:
        self._check_length(text)
        data = await self._api("edit", "POST", "/api/editusertext",
                               form={"api_type": "json", "thing_id": reply.reply_id, "text": text})
        return _posted(_thing(data))

    async def delete(self, target: ReplyTarget, reply: PostedReply) -> None:
        await self._api("deletion", "POST", "/api/del", form={"id": reply.reply_id})

    def _check_length(self, text: str) -> None:
        if len(text) > MAX_LENGTH:
            raise ReplyRefused("too_long", f"the reply is {len(text)} characters; Reddit allows {MAX_LENGTH}")


def _thing(data: Any) -> dict[str, Any]:
    things = (((data or {}).get("json") or {}).get("data") or {}).get("things") or []
    if not things or not isinstance(things[0].get("data"), dict):
        raise ReplyRefused("invalid", "Reddit accepted the request but returned no comment")
    thing: dict[str, Any] = things[0]["data"]
    return thing


def _posted(comment: Mapping[str, Any]) -> PostedReply:
    created = comment.get("edited") or comment.get("created_utc")
    return PostedReply(reply_id=str(comment["name"]), text=str(comment.get("body", "")),
                       posted_at=datetime.fromtimestamp(created, UTC) if isinstance(created, int | float)
                       and not isinstance(created, bool) else None)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _wait(message: str) -> float:
    found = _WAIT.search(message)
    if found is None:
        return DEFAULT_RETRY_AFTER
    return float(found.group(1)) * {"second": 1, "minute": 60, "hour": 3600}[found.group(2).lower()]


def build(settings: ReplySettings) -> RedditConnector:
    if not settings.account:
        raise settings.invalid("account", "required: the Reddit username that replies")
    return RedditConnector(settings.account.removeprefix("/u/").removeprefix("u/"), settings.option("client_id"),
                           settings.secret("client_secret"), settings.secret("password"),
                           api_url=settings.api_url or API_URL, token_url=settings.token_url or TOKEN_URL,
                           user_agent=settings.options.get("user_agent"), timeout=settings.timeout)
