"""Google Business Profile (v4 reviews) and Google's OAuth token endpoint, as a stand-in.

`PUT`/`DELETE /v4/{name}/reply` are checked against the OpenAPI 3.0.0 file in
../shared/platform-apis/google-business-profile/ with openapi-core, and so are the stand-in's answers to them
(the file writes `{name}` as one path segment: the review's name is percent-encoded for the check, as its
SOURCE.txt says). `reviews.list` and `reviews.get` are not in that file; they follow Google's reference:
`pageSize` 1-50, `pageToken`, `orderBy` one of "rating", "rating desc", "updateTime desc"; each review with
`name`, `reviewId`, `reviewer`, `starRating` (ONE..FIVE), `comment`, `createTime`, `updateTime`, `reviewReply`.
A reply is at most 4,096 bytes; replies naming a word in `held_words` are held by moderation
(`reviewReplyState` PENDING). The token endpoint takes only a service-account JWT grant (RS256, signed by a
registered account's key, scope business.manage, at most an hour); an account may act only on its locations.

Faults (`faults.add`, on the API's calls): see tests.platform_standins.checks."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.platform_standins.checks import Faults, SpecChecker
from tests.platform_standins.google_play import make_service_account
from tests.platform_standins.runner import StandInThread, platform_spec

SPEC = ("google-business-profile", "mybusiness-v4.reviews-reply-subset.openapi.yaml")
SCOPE = "https://www.googleapis.com/auth/business.manage"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
AUDIENCE = "https://oauth2.googleapis.com/token"
TOKEN_LIFETIME = 3600
MAX_REPLY_BYTES = 4096
STARS = ("ONE", "TWO", "THREE", "FOUR", "FIVE")
ORDERS = frozenset({"rating", "rating desc", "updateTime desc"})
REVIEW_PATH = "/v4/accounts/{account}/locations/{location}/reviews"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def google_error(status: int, reason: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": status, "message": message, "status": reason}}, status=status)


def _spec_path(path: str) -> str:
    """/v4/accounts/A/locations/L/reviews/R/reply as the file's /v4/{name}/reply, the name percent-encoded."""
    name = path.removeprefix("/v4/").removesuffix("/reply")
    return f"/v4/{quote(name, safe='')}/reply"


@dataclass
class Review:
    review_id: str
    stars: int  # 1..5; 0: no rating
    comment: str | None
    reviewer: str = "Sam Doe"
    anonymous: bool = False
    create_time: str = "2026-12-01T10:00:00Z"
    update_time: str | None = None
    reply: dict[str, Any] | None = None


@dataclass
class Account:
    email: str
    public_key: rsa.RSAPublicKey
    locations: set[str]


@dataclass
class GoogleBusinessStandIn:
    hang_seconds: float = 2.0
    page_limit: int = 50
    held_words: tuple[str, ...] = ()
    reviews: dict[str, dict[str, Review]] = field(default_factory=dict)  # location name -> review id -> review
    accounts: dict[str, Account] = field(default_factory=dict)
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # access token -> (email, expiry)
    accepted: list[tuple[str, str]] = field(default_factory=list)  # (review name, comment) of every accepted PUT
    rejections: list[str] = field(default_factory=list)
    list_requests: list[dict[str, str]] = field(default_factory=list)  # the query of each reviews.list
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        self.spec = SpecChecker(platform_spec(*SPEC), path_for_spec=_spec_path)
        self._thread: StandInThread | None = None
        self.url = ""

    def start(self) -> str:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/token", self._token)
        app.router.add_get(REVIEW_PATH, self._list)
        app.router.add_get(REVIEW_PATH + "/{review}", self._get)
        app.router.add_put(REVIEW_PATH + "/{review}/reply", self._put_reply)
        app.router.add_delete(REVIEW_PATH + "/{review}/reply", self._delete_reply)
        self._thread = StandInThread(app)
        self.url = self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def add_account(self, email: str, locations: set[str]) -> dict[str, str]:
        """A service account allowed on `locations`; returns its JSON key file's content (a key made now)."""
        info, account = make_service_account(email, self.token_url, set())
        self.accounts[email] = Account(email, account.public_key, locations)
        return info

    def add_review(self, location: str, review: Review) -> str:
        self.reviews.setdefault(location, {})[review.review_id] = review
        return f"{location}/reviews/{review.review_id}"

    def reply_to(self, name: str) -> dict[str, Any] | None:
        location, _, review_id = name.rpartition("/reviews/")
        review = self.reviews.get(location, {}).get(review_id)
        return review.reply if review else None

    def accepted_for(self, name: str) -> int:
        return sum(1 for accepted, _ in self.accepted if accepted == name)

    # -------------------------------------------------------------------------------------------------------
    def _reject(self, request: web.Request, why: str, answer: web.Response) -> web.Response:
        self.rejections.append(f"{request.method} {request.path}: {why}")
        return answer

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v4/"):
            return await handler(request)  # the token endpoint, and 404 for anything else (robots.txt)
        body = await request.read()
        spec_request = self.spec.request(request, body) if request.path.endswith("/reply") else None
        if spec_request is not None and (problem := self.spec.request_problem(spec_request)):
            return self._reject(request, problem, google_error(400, "INVALID_ARGUMENT",
                                                               f"Invalid JSON payload received. {problem[:200]}"))
        caller = self._caller(request)
        if caller is None:
            return self._reject(request, "no valid access token", google_error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential."))
        location = f"accounts/{request.match_info['account']}/locations/{request.match_info['location']}"
        if location not in caller.locations:
            return google_error(403, "PERMISSION_DENIED", "The caller does not have permission")
        fault = self.faults.take(request.method)
        if fault == "rate_limited":
            return google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Requests'.")
        if fault == "expired_token":
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if fault == "too_long":
            return google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument: comment is too "
                                                         "long.")
        if fault == "gone":
            self.reviews.get(location, {}).pop(request.match_info.get("review", ""), None)
        answer = await handler(request)
        if spec_request is not None and isinstance(answer, web.Response) and answer.status == 200 and \
                (wrong := self.spec.response_problem(spec_request, answer)):
            raise AssertionError(f"the Google Business Profile stand-in answered outside the spec: {wrong}")
        if fault == "timeout_after_accept":
            await asyncio.sleep(self.hang_seconds)
        return answer

    def _caller(self, request: web.Request) -> Account | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        email, expiry = self.tokens.get(token, ("", 0.0))
        return self.accounts.get(email) if expiry > time.time() else None

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != JWT_GRANT:
            return self._oauth_error(request, "unsupported_grant_type", "Invalid grant_type.")
        assertion = str(form.get("assertion", ""))
        try:
            email = jwt.decode(assertion, options={"verify_signature": False}).get("iss", "")
            account = self.accounts.get(email)
            if account is None:
                return self._oauth_error(request, "invalid_grant", "Invalid grant: account not found")
            claims = jwt.decode(assertion, account.public_key, algorithms=["RS256"], audience=AUDIENCE,
                                options={"require": ["iss", "aud", "iat", "exp", "scope"]})
        except jwt.PyJWTError as exc:
            return self._oauth_error(request, "invalid_grant", f"Invalid JWT: {exc}")
        if SCOPE not in str(claims["scope"]).split():
            return self._oauth_error(request, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        if claims["exp"] - claims["iat"] > TOKEN_LIFETIME:
            return self._oauth_error(request, "invalid_grant", "Invalid JWT: Token must be a short-lived token.")
        token = "ya29.standin-" + secrets.token_urlsafe(24)
        self.tokens[token] = (email, time.time() + TOKEN_LIFETIME)
        return web.json_response({"access_token": token, "expires_in": TOKEN_LIFETIME - 1, "token_type": "Bearer"})

    def _oauth_error(self, request: web.Request, error: str, description: str) -> web.Response:
        return self._reject(request, f"{error}: {description}",
                            web.json_response({"error": error, "error_description": description}, status=400))

    def _review_json(self, location: str, review: Review) -> dict[str, Any]:
        record: dict[str, Any] = {
            "name": f"{location}/reviews/{review.review_id}", "reviewId": review.review_id,
            "reviewer": {"displayName": review.reviewer, "isAnonymous": review.anonymous}
            if not review.anonymous else {"isAnonymous": True},
            "starRating": STARS[review.stars - 1] if review.stars else "STAR_RATING_UNSPECIFIED",
            "createTime": review.create_time, "updateTime": review.update_time or review.create_time}
        if review.comment is not None:
            record["comment"] = review.comment
        if review.reply is not None:
            record["reviewReply"] = review.reply
        return record

    async def _list(self, request: web.Request) -> web.Response:
        location = f"accounts/{request.match_info['account']}/locations/{request.match_info['location']}"
        self.list_requests.append(dict(request.query))
        unknown = set(request.query) - {"pageSize", "pageToken", "orderBy"}
        size = request.query.get("pageSize", "50")
        if unknown or not size.isdigit() or not 1 <= int(size) <= 50 or \
                request.query.get("orderBy", "updateTime desc") not in ORDERS:
            return self._reject(request, f"bad query {dict(request.query)}",
                                google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."))
        if location not in self.reviews:
            return google_error(404, "NOT_FOUND", "Requested entity was not found.")
        ordered = sorted(self.reviews[location].values(), key=lambda r: r.update_time or r.create_time,
                         reverse=True)
        start = int(request.query.get("pageToken") or 0)
        page = ordered[start:start + min(int(size), self.page_limit)]
        answer: dict[str, Any] = {"reviews": [self._review_json(location, r) for r in page],
                                  "averageRating": round(sum(r.stars for r in ordered) / len(ordered), 1),
                                  "totalReviewCount": len(ordered)}
        if start + len(page) < len(ordered):
            answer["nextPageToken"] = str(start + len(page))
        return web.json_response(answer)

    def _review(self, request: web.Request) -> tuple[str, Review | None]:
        location = f"accounts/{request.match_info['account']}/locations/{request.match_info['location']}"
        return location, self.reviews.get(location, {}).get(request.match_info["review"])

    async def _get(self, request: web.Request) -> web.Response:
        location, review = self._review(request)
        if review is None:
            return google_error(404, "NOT_FOUND", "Requested entity was not found.")
        return web.json_response(self._review_json(location, review))

    async def _put_reply(self, request: web.Request) -> web.Response:
        location, review = self._review(request)
        if review is None:
            return google_error(404, "NOT_FOUND", "Requested entity was not found.")
        comment = (await request.json()).get("comment", "")
        if not comment.strip():
            return google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument: comment is empty.")
        if len(comment.encode("utf-8")) > MAX_REPLY_BYTES:
            return google_error(400, "INVALID_ARGUMENT", f"Request contains an invalid argument: comment is longer "
                                                         f"than {MAX_REPLY_BYTES} bytes.")
        held = any(word.lower() in comment.lower() for word in self.held_words)
        review.reply = {"comment": comment, "updateTime": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
        if held:
            review.reply["reviewReplyState"] = "PENDING"
        self.accepted.append((f"{location}/reviews/{review.review_id}", comment))
        return web.json_response(review.reply)

    async def _delete_reply(self, request: web.Request) -> web.Response:
        _, review = self._review(request)
        if review is None or review.reply is None:
            return google_error(404, "NOT_FOUND", "Requested entity was not found.")
        review.reply = None
        return web.json_response({})
