"""Trustpilot (Business API, service reviews): the company's reply to a review.

Trustpilot documents no idempotency, so before posting we read the review's current `companyReply`
(`GET /v1/reviews/{id}` with the API key) and do not post the same text again. Posting to a review that has a
reply replaces it; `DELETE` on the same URL removes it. Replies need a business-user token: the password grant
with Basic `API_KEY:API_SECRET` gives an access token (100 hours) and a refresh token (30 days); we refresh
before the access token runs out, and fall back to the password grant when the refresh token is refused.
Trustpilot has no aiohttp-era SDK; this is plain HTTP.

Settings (`[sources.reply]`): `username`, `business_user_id` (the reply's author), `api_key_env`,
`api_secret_env`, `password_env`; `api_url` and `token_url` for tests (the refresh endpoint is the token URL's
sibling `.../refresh`)."""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta
from typing import Any

from replies.http import Answer, call, refused
from replies.registry import ReplySettings
from review_watch.clock import Clock, system_clock
from review_watch.domain.replies import PostedReply, RefusalKind, ReplyLimits, ReplyRefused, ReplyTarget

PLATFORM = "trustpilot"
API_URL = "https://api.trustpilot.com"
TOKEN_URL = f"{API_URL}/v1/oauth/oauth-business-users-for-applications/accesstoken"
RENEW_BEFORE = timedelta(minutes=10)  # an access token with less left is refreshed before use
DEFAULT_ACCESS_LIFETIME = timedelta(hours=100)
DEFAULT_REFRESH_LIFETIME = timedelta(days=30)

log = logging.getLogger(__name__)


class TrustpilotConnector:
    platform = PLATFORM
    limits = ReplyLimits(max_length=None, can_edit=True, can_delete=True)  # no maximum length is documented

    def __init__(self, *, api_key: str, api_secret: str, username: str, password: str, business_user_id: str,
                 api_url: str = API_URL, token_url: str = TOKEN_URL, timeout: float = 30.0,
                 account: str | None = None, clock: Clock = system_clock) -> None:
        self._api_key = api_key
        self._basic = "Basic " + base64.b64encode(f"{api_key}:{api_secret}".encode()).decode("ascii")
        self._username = username
        self._password = password
        self.business_user_id = business_user_id
        self.api_url = api_url.rstrip("/")
        self.token_url = token_url
        self.refresh_url = token_url.rsplit("/", 1)[0] + "/refresh"
        self.timeout = timeout
        self.account = account or f"{username} (business user {business_user_id})"
        self._clock = clock
        self._access: tuple[str, datetime] | None = None  # token, expiry
        self._refresh: tuple[str, datetime] | None = None

    # Tokens -------------------------------------------------------------------------------------------------
    async def access_token(self) -> str:
        now = self._clock()
        if self._access is not None and now < self._access[1] - RENEW_BEFORE:
            return self._access[0]
        if self._refresh is not None and now < self._refresh[1] - RENEW_BEFORE:
            try:
                return await self._grant(self.refresh_url, {"grant_type": "refresh_token",
                                                            "refresh_token": self._refresh[0]}, "refreshing the token")
            except ReplyRefused as refusal:
                if refusal.kind not in ("auth", "invalid"):
                    raise  # 429 from refreshing too often, or the API is down: the caller waits
                log.info("%s: the refresh token was refused; signing in again", PLATFORM)
        return await self._grant(self.token_url, {"grant_type": "password", "username": self._username,
                                                  "password": self._password}, "signing in")

    async def _grant(self, url: str, form: dict[str, str], what: str) -> str:
        self._access = None
        answer = await call(PLATFORM, "POST", url, timeout=self.timeout, form=form,
                            headers={"Authorization": self._basic})
        data = answer.data if isinstance(answer.data, dict) else {}
        if not answer.ok or not data.get("access_token"):
            kind: RefusalKind | None = "auth" if answer.status in (400, 401, 403) else None
            raise refused(PLATFORM, answer, f"{what} as {self._username}", _words(answer), kind=kind)
        now = self._clock()
        self._access = (str(data["access_token"]), now + _seconds(data.get("expires_in"), DEFAULT_ACCESS_LIFETIME))
        if data.get("refresh_token"):
            self._refresh = (str(data["refresh_token"]),
                             now + _seconds(data.get("refresh_token_expires_in"), DEFAULT_REFRESH_LIFETIME))
        return self._access[0]

    async def _private(self, method: str, path: str, body: Any = None) -> Answer:
        """A call as the business user; a 401 gets one more try with a renewed token."""
        for attempt in range(2):
            token = await self.access_token()
            answer = await call(PLATFORM, method, self.api_url + path, timeout=self.timeout, json_body=body,
                                headers={"Authorization": f"Bearer {token}"})
            if answer.status != 401 or attempt:
                return answer
            self._access = None
        raise AssertionError("unreachable")

    # The port -----------------------------------------------------------------------------------------------
    async def check(self) -> str:
        await self.access_token()
        return self.account

    async def current_reply(self, target: ReplyTarget, idempotency_key: str = "") -> PostedReply | None:
        review = target.external_id
        answer = await call(PLATFORM, "GET", f"{self.api_url}/v1/reviews/{review}", timeout=self.timeout,
                            headers={"apikey": self._api_key})
        if not answer.ok:
            raise refused(PLATFORM, answer, f"reading review {review}", _words(answer))
        reply = answer.data.get("companyReply") if isinstance(answer.data, dict) else None
        if not isinstance(reply, dict) or not reply.get("text"):
            return None
        return PostedReply(reply_id=review, text=str(reply["text"]), state="published",
                           posted_at=_when(reply.get("updatedAt") or reply.get("createdAt")))

    async def post(self, target: ReplyTarget, text: str, idempotency_key: str = "") -> PostedReply:
        current = await self.current_reply(target, idempotency_key)
        if current is not None and current.text == text:
            log.info("%s: review %s already has this reply: not posted again", PLATFORM, target.external_id)
            return current
        review = target.external_id
        answer = await self._private("POST", f"/v1/private/reviews/{review}/reply",
                                     {"authorBusinessUserId": self.business_user_id, "message": text})
        if not answer.ok:
            words = _words(answer)
            kind: RefusalKind | None = "too_long" if answer.status == 400 and "long" in words.lower() else None
            raise refused(PLATFORM, answer, f"replying to review {review}", words, kind=kind)
        log.info("%s: reply to review %s accepted%s", PLATFORM, review, " (replacing the previous one)"
                 if current is not None else "")
        return PostedReply(reply_id=review, text=text, state="published", posted_at=self._clock())

    async def edit(self, target: ReplyTarget, reply: PostedReply, text: str) -> PostedReply:
        """A review has one company reply: posting again replaces it."""
        return await self.post(target, text)

    async def delete(self, target: ReplyTarget, reply: PostedReply) -> None:
        review = target.external_id
        answer = await self._private("DELETE", f"/v1/private/reviews/{review}/reply")
        if answer.status == 404:
            log.info("%s: review %s or its reply was already gone", PLATFORM, review)
            return
        if not answer.ok:
            raise refused(PLATFORM, answer, f"deleting the reply to review {review}", _words(answer))
        log.info("%s: reply to review %s deleted", PLATFORM, review)


def _words(answer: Answer) -> str:
    """The platform's own words about an error, wherever this endpoint puts them."""
    data = answer.data if isinstance(answer.data, dict) else {}
    fault = data.get("fault")
    fault = fault if isinstance(fault, dict) else {}
    for value in (data.get("message"), data.get("error_description"), data.get("Error"), fault.get("faultstring"),
                  data.get("error")):
        if isinstance(value, str) and value:
            return value
    return ""


def _seconds(value: Any, default: timedelta) -> timedelta:
    """Trustpilot writes lifetimes as strings of seconds ("359999")."""
    try:
        return timedelta(seconds=float(value))
    except (TypeError, ValueError):
        return default


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def build(settings: ReplySettings) -> TrustpilotConnector:
    return TrustpilotConnector(
        api_key=settings.secret("api_key"), api_secret=settings.secret("api_secret"),
        username=settings.option("username"), password=settings.secret("password"),
        business_user_id=settings.option("business_user_id"), api_url=settings.api_url or API_URL,
        token_url=settings.token_url or TOKEN_URL, timeout=settings.timeout, account=settings.account)
