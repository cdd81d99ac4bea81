"""App Store Connect as the reply connector meets it: customer reviews, their one response each, and the bearer
JWT every call carries (ES256 with the team's key: header alg, kid, typ; claims iss, iat, exp at most 20 minutes
after iat, aud "appstoreconnect-v1"). Requests and answers are checked against Apple's OpenAPI 3.0.1 file in
../shared/platform-apis/app-store-connect/. A response is PENDING_PUBLISH until `publish` makes it PUBLISHED.
`GET /v1/apps` (the connector's harmless read) is not in that file: only its token is checked."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec

from tests.platform_standins.checks import Faults, SpecChecker
from tests.platform_standins.runner import StandInThread, platform_spec

SPEC = ("app-store-connect", "app-store-connect-3.7.0.reply-subset.json")
MAX_RESPONSE_CHARACTERS = 5970
MAX_TOKEN_LIFETIME = 20 * 60
AUDIENCE = "appstoreconnect-v1"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, code: str, title: str, detail: str) -> web.Response:
    return web.json_response({"errors": [{"id": f"e{status}", "status": str(status), "code": code, "title": title,
                                          "detail": detail}]}, status=status)


def not_authorized(detail: str) -> web.Response:
    return _error(401, "NOT_AUTHORIZED", "Authentication credentials are missing or invalid.", detail)


def not_found(kind: str, identifier: str) -> web.Response:
    return _error(404, "NOT_FOUND", "The specified resource does not exist",
                  f"There is no resource of type '{kind}' with id '{identifier}'")


@dataclass
class Response:
    id: str
    review_id: str
    body: str
    state: str = "PENDING_PUBLISH"
    modified: str = ""


@dataclass
class AppStoreStandIn:
    key_id: str
    issuer_id: str
    public_key: ec.EllipticCurvePublicKey
    clock: Callable[[], float] = time.time
    hang_seconds: float = 2.0  # how long an accepted request's answer is held back (timeout_after_accept)
    reviews: dict[str, dict[str, Any]] = field(default_factory=dict)
    responses: dict[str, Response] = field(default_factory=dict)  # by response id
    accepted: list[Response] = field(default_factory=list)  # every response created, replacements included
    rejections: list[str] = field(default_factory=list)  # what the platform would refuse, and why
    tokens: set[str] = field(default_factory=set)  # distinct bearer tokens accepted
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        self.spec = SpecChecker(platform_spec(*SPEC))
        self._ids = itertools.count(1)
        self._thread: StandInThread | None = None
        self.url = ""

    def start(self) -> str:
        self._thread = StandInThread(self.app())
        self.url = self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()

    # What a test sets up and reads ------------------------------------------------------------------------
    def add_review(self, review_id: str, body: str = "It crashes on start.", rating: int = 1) -> None:
        self.reviews[review_id] = {"rating": rating, "title": "Broken", "body": body, "reviewerNickname": "sam",
                                   "createdDate": "2026-12-01T10:00:00Z", "territory": "USA"}

    def response_to(self, review_id: str) -> Response | None:
        return next((r for r in self.responses.values() if r.review_id == review_id), None)

    def publish(self, review_id: str) -> None:
        response = self.response_to(review_id)
        assert response is not None, f"review {review_id} has no response to publish"
        response.state = "PUBLISHED"

    def accepted_for(self, review_id: str) -> int:
        return sum(1 for r in self.accepted if r.review_id == review_id)

    # The application ---------------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/v1/apps", self._apps)
        app.router.add_post("/v1/customerReviewResponses", self._create)
        app.router.add_get("/v1/customerReviewResponses/{id}", self._get_response)
        app.router.add_delete("/v1/customerReviewResponses/{id}", self._delete)
        app.router.add_get("/v1/customerReviews/{id}", self._get_review)
        app.router.add_get("/v1/customerReviews/{id}/response", self._review_response)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        problem = self._token_problem(request.headers.get("Authorization", ""))
        if problem:
            self.rejections.append(f"{request.method} {request.path}: {problem}")
            return not_authorized("Provide a properly configured and signed bearer token, and make sure that it "
                                  "has not expired.")
        spec_request = self.spec.request(request, body) if request.path != "/v1/apps" else None
        if spec_request is not None and (refusal := self.spec.request_problem(spec_request)):
            self.rejections.append(f"{request.method} {request.path}: {refusal}")
            return _error(400, "PARAMETER_ERROR.INVALID", "A parameter has an invalid value", refusal[:300])
        fault = self.faults.take(request.method)
        if fault == "rate_limited":
            response = _error(429, "RATE_LIMIT_EXCEEDED", "The request rate limit has been reached.",
                              "We've received too many requests for this API. Please wait and try again.")
            response.headers["X-Rate-Limit"] = "user-hour-lim:3500;user-hour-rem:0;"
            return response
        if fault == "expired_token":
            return not_authorized("Provide a properly configured and signed bearer token, and make sure that it "
                                  "has not expired.")
        if fault == "too_long":
            return _error(422, "ENTITY_UNPROCESSABLE", "The request entity is not valid",
                          "The response body is too long.")
        if fault == "gone":
            self.reviews.pop(self._review_in(request, body), None)
        answer = await handler(request)
        if spec_request is not None and isinstance(answer, web.Response) and \
                (wrong := self.spec.response_problem(spec_request, answer)):
            raise AssertionError(f"the App Store stand-in answered outside the spec: {wrong}")
        if fault == "timeout_after_accept":
            await asyncio.sleep(self.hang_seconds)
        return answer

    def _review_in(self, request: web.Request, body: bytes) -> str:
        """The review a request is about."""
        if request.method == "POST":
            return str(json.loads(body)["data"]["relationships"]["review"]["data"]["id"])
        identifier = request.match_info.get("id", "")
        if request.path.startswith("/v1/customerReviewResponses/"):
            response = self.responses.get(identifier)
            return response.review_id if response else ""
        return identifier

    def _token_problem(self, authorization: str) -> str | None:
        if not authorization.startswith("Bearer "):
            return "no bearer token"
        token = authorization.removeprefix("Bearer ")
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "ES256" or header.get("typ") != "JWT" or header.get("kid") != self.key_id:
                return f"token header {header} is not alg ES256, typ JWT, kid {self.key_id}"
            claims = jwt.decode(token, self.public_key, algorithms=["ES256"], audience=AUDIENCE,
                                issuer=self.issuer_id, options={"verify_exp": False, "verify_iat": False,
                                                                "require": ["iss", "iat", "exp", "aud"]})
        except jwt.PyJWTError as exc:
            return f"token refused: {type(exc).__name__}: {exc}"
        now = self.clock()
        if claims["exp"] - claims["iat"] > MAX_TOKEN_LIFETIME:
            return "token lives longer than 20 minutes"
        if claims["exp"] <= now:
            return "token expired"
        if claims["iat"] > now + 60:
            return "token issued in the future"
        self.tokens.add(token)
        return None

    def _document(self, response: Response) -> dict[str, Any]:
        return {"type": "customerReviewResponses", "id": response.id,
                "attributes": {"responseBody": response.body, "lastModifiedDate": response.modified,
                               "state": response.state},
                "relationships": {"review": {"data": {"type": "customerReviews", "id": response.review_id}}},
                "links": {"self": f"/v1/customerReviewResponses/{response.id}"}}

    def _single(self, response: Response, status: int = 200) -> web.Response:
        return web.json_response({"data": self._document(response),
                                  "links": {"self": f"/v1/customerReviewResponses/{response.id}"}}, status=status)

    async def _apps(self, request: web.Request) -> web.Response:
        return web.json_response({"data": [{"type": "apps", "id": "1"}], "links": {"self": "/v1/apps"}})

    async def _create(self, request: web.Request) -> web.Response:
        data = json.loads(await request.read())["data"]
        review_id = data["relationships"]["review"]["data"]["id"]
        text = data["attributes"]["responseBody"]
        if review_id not in self.reviews:
            return not_found("customerReviews", review_id)
        if not text.strip():
            return _error(422, "ENTITY_UNPROCESSABLE", "The request entity is not valid", "The response is empty.")
        if len(text) > MAX_RESPONSE_CHARACTERS:
            return _error(422, "ENTITY_UNPROCESSABLE", "The request entity is not valid",
                          f"The response body is too long: at most {MAX_RESPONSE_CHARACTERS} characters.")
        previous = self.response_to(review_id)
        if previous is not None:  # one response per review: the new one replaces it
            del self.responses[previous.id]
        response = Response(id=f"resp-{next(self._ids)}", review_id=review_id, body=text,
                            modified=datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="seconds"))
        self.responses[response.id] = response
        self.accepted.append(response)
        return self._single(response, status=201)

    async def _get_response(self, request: web.Request) -> web.Response:
        response = self.responses.get(request.match_info["id"])
        if response is None:
            return not_found("customerReviewResponses", request.match_info["id"])
        return self._single(response)

    async def _delete(self, request: web.Request) -> web.Response:
        if self.responses.pop(request.match_info["id"], None) is None:
            return not_found("customerReviewResponses", request.match_info["id"])
        return web.Response(status=204)

    async def _get_review(self, request: web.Request) -> web.Response:
        review_id = request.match_info["id"]
        if review_id not in self.reviews:
            return not_found("customerReviews", review_id)
        document = {"type": "customerReviews", "id": review_id, "attributes": self.reviews[review_id],
                    "links": {"self": f"/v1/customerReviews/{review_id}"}}
        return web.json_response({"data": document, "links": {"self": f"/v1/customerReviews/{review_id}"}})

    async def _review_response(self, request: web.Request) -> web.Response:
        review_id = request.match_info["id"]
        if review_id not in self.reviews:
            return not_found("customerReviews", review_id)
        response = self.response_to(review_id)
        if response is None:
            return not_found("customerReviewResponses", f"of review {review_id}")
        return self._single(response)
