"""Trustpilot's Business API as the reply connector meets it. Trustpilot publishes no machine-readable spec, so
requests are checked against its documented rules (../shared/platform-apis/README.md):

- the token endpoints take `Authorization: Basic base64(API_KEY:API_SECRET)` and a form body: the password grant
  (`grant_type=password`, `username`, `password`) at `.../accesstoken`, the refresh grant (`grant_type=
  refresh_token`, `refresh_token`) at `.../refresh`; answers carry lifetimes as strings of seconds, access tokens
  last 100 hours, refresh tokens 30 days, a refresh token is used once;
- `GET /v1/reviews/{id}` needs the API key (`apikey` header or query) and shows `companyReply {text, createdAt}`;
- `POST /v1/private/reviews/{id}/reply` needs a live business-user token and a JSON body with exactly
  `authorBusinessUserId` (that token's user) and a non-empty `message`; `DELETE` on it removes the reply.

Faults (`faults.add`, on the API's calls, not the token endpoints): see tests.platform_standins.checks."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.platform_standins.checks import Faults
from tests.platform_standins.runner import StandInThread

TOKEN_PATH = "/v1/oauth/oauth-business-users-for-applications/accesstoken"
REFRESH_PATH = "/v1/oauth/oauth-business-users-for-applications/refresh"
ACCESS_LIFETIME = 100 * 3600
REFRESH_LIFETIME = 30 * 24 * 3600
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _message(status: int, message: str) -> web.Response:
    return web.json_response({"message": message, "errorCode": status}, status=status)


def _fault(status: int, text: str, code: str) -> web.Response:
    """Trustpilot's gateway's own error shape, for tokens."""
    return web.json_response({"fault": {"faultstring": text, "detail": {"errorcode": code}}}, status=status)


@dataclass
class Reply:
    review_id: str
    text: str
    created_at: str


@dataclass
class TrustpilotStandIn:
    api_key: str
    api_secret: str
    username: str
    password: str
    business_user_id: str
    clock: Callable[[], float] = time.time
    hang_seconds: float = 2.0
    reviews: set[str] = field(default_factory=set)
    replies: dict[str, Reply] = field(default_factory=dict)  # by review id: what the review shows now
    accepted: list[Reply] = field(default_factory=list)  # every reply accepted, replacements included
    rejections: list[str] = field(default_factory=list)
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry
    refresh_tokens: dict[str, float] = field(default_factory=dict)
    grants: list[str] = field(default_factory=list)  # "password" or "refresh_token", in order
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        self._thread: StandInThread | None = None
        self.url = ""

    def start(self) -> str:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post(TOKEN_PATH, self._password_grant)
        app.router.add_post(REFRESH_PATH, self._refresh_grant)
        app.router.add_get("/v1/reviews/{id}", self._review)
        app.router.add_post("/v1/private/reviews/{id}/reply", self._reply)
        app.router.add_delete("/v1/private/reviews/{id}/reply", self._delete)
        self._thread = StandInThread(app)
        self.url = self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    def accepted_for(self, review_id: str) -> int:
        return sum(1 for reply in self.accepted if reply.review_id == review_id)

    def secrets_in_play(self) -> list[str]:
        return [self.api_secret, self.password, *self.access_tokens, *self.refresh_tokens]

    # -------------------------------------------------------------------------------------------------------
    def _reject(self, request: web.Request, why: str, answer: web.Response) -> web.Response:
        self.rejections.append(f"{request.method} {request.path}: {why}")
        return answer

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in (TOKEN_PATH, REFRESH_PATH):
            return await handler(request)  # faults are for the API's calls
        fault = self.faults.take(request.method)
        if fault == "rate_limited":
            return _message(429, "Too Many Requests")
        if fault == "expired_token":
            return _fault(401, "Access Token expired", "keymanagement.service.access_token_expired")
        if fault == "too_long":
            return _message(400, "The reply message is too long")
        if fault == "gone":
            self.reviews.discard(request.match_info.get("id", ""))
        answer = await handler(request)
        if fault == "timeout_after_accept":
            await asyncio.sleep(self.hang_seconds)
        return answer

    def _client_problem(self, request: web.Request) -> str | None:
        expected = "Basic " + base64.b64encode(f"{self.api_key}:{self.api_secret}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return "the Basic API_KEY:API_SECRET header is missing or wrong"
        if request.content_type != "application/x-www-form-urlencoded":
            return f"a token request is a form, not {request.content_type}"
        return None

    def _issue(self, grant: str) -> web.Response:
        now = self.clock()
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access_tokens[access] = now + ACCESS_LIFETIME
        self.refresh_tokens[refresh] = now + REFRESH_LIFETIME
        self.grants.append(grant)
        return web.json_response({"access_token": access, "refresh_token": refresh, "token_type": "BearerToken",
                                  "expires_in": str(ACCESS_LIFETIME - 1),
                                  "refresh_token_expires_in": str(REFRESH_LIFETIME - 1),
                                  "issued_at": str(int(now * 1000)), "status": "approved"})

    async def _password_grant(self, request: web.Request) -> web.Response:
        if problem := self._client_problem(request):
            return self._reject(request, problem, _fault(401, "Invalid client credentials",
                                                         "oauth.v2.InvalidClientIdentifier"))
        form = await request.post()
        if form.get("grant_type") != "password":
            return self._reject(request, "grant_type is not password", _message(400, "Unsupported grant type"))
        if form.get("username") != self.username or form.get("password") != self.password:
            return _message(401, "Invalid username or password")
        return self._issue("password")

    async def _refresh_grant(self, request: web.Request) -> web.Response:
        if problem := self._client_problem(request):
            return self._reject(request, problem, _fault(401, "Invalid client credentials",
                                                         "oauth.v2.InvalidClientIdentifier"))
        form = await request.post()
        if form.get("grant_type") != "refresh_token":
            return self._reject(request, "grant_type is not refresh_token", _message(400, "Unsupported grant type"))
        expiry = self.refresh_tokens.pop(str(form.get("refresh_token", "")), None)
        if expiry is None or expiry <= self.clock():
            return _message(401, "Invalid refresh token")
        return self._issue("refresh_token")

    def _token_problem(self, request: web.Request) -> web.Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        expiry = self.access_tokens.get(token)
        if expiry is None:
            return self._reject(request, "no known business-user token",
                                _fault(401, "Invalid access token", "oauth.v2.InvalidAccessToken"))
        if expiry <= self.clock():
            return _fault(401, "Access Token expired", "keymanagement.service.access_token_expired")
        return None

    async def _review(self, request: web.Request) -> web.Response:
        if self.api_key not in (request.headers.get("apikey"), request.query.get("apikey")):
            return self._reject(request, "no API key", _fault(401, "Invalid ApiKey", "oauth.v2.InvalidApiKey"))
        review_id = request.match_info["id"]
        if review_id not in self.reviews:
            return _message(404, "Review not found")
        reply = self.replies.get(review_id)
        return web.json_response({
            "id": review_id, "stars": 1, "title": "Never again", "text": "Late and broken.",
            "consumer": {"displayName": "Sam"}, "createdAt": "2026-12-01T10:00:00Z",
            "companyReply": {"text": reply.text, "createdAt": reply.created_at} if reply else None})

    async def _reply(self, request: web.Request) -> web.Response:
        if refusal := self._token_problem(request):
            return refusal
        if request.content_type != "application/json":
            return self._reject(request, f"body is {request.content_type}, not JSON", _message(400, "Bad request"))
        try:
            body: Any = json.loads(await request.read())
        except ValueError:
            return self._reject(request, "body is not JSON", _message(400, "Bad request"))
        if not isinstance(body, dict) or set(body) != {"authorBusinessUserId", "message"}:
            return self._reject(request, f"body fields {sorted(body) if isinstance(body, dict) else body!r}",
                                _message(400, "Bad request"))
        if body["authorBusinessUserId"] != self.business_user_id:
            return self._reject(request, "authorBusinessUserId is not the token's user", _message(403, "Forbidden"))
        if not isinstance(body["message"], str) or not body["message"].strip():
            return self._reject(request, "empty message", _message(400, "Message must not be empty"))
        review_id = request.match_info["id"]
        if review_id not in self.reviews:
            return _message(404, "Review not found")
        reply = Reply(review_id, body["message"], datetime.fromtimestamp(self.clock(), UTC).isoformat())
        self.replies[review_id] = reply
        self.accepted.append(reply)
        return web.Response(status=201)

    async def _delete(self, request: web.Request) -> web.Response:
        if refusal := self._token_problem(request):
            return refusal
        review_id = request.match_info["id"]
        if review_id not in self.reviews or self.replies.pop(review_id, None) is None:
            return _message(404, "Review not found")
        return web.Response(status=204)
