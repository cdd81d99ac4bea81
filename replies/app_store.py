"""App Store Connect: a developer response to a customer review (`customerReviewResponses`).

A review has at most one response: posting again replaces it, so before posting we look the current one up
(`GET /v1/customerReviews/{id}/response`) and do not post the same text twice. A new response is
`PENDING_PUBLISH` (shown as "pending") until Apple publishes it. Authentication is a bearer JWT signed ES256
with the team's `.p8` key (PyJWT), at most 20 minutes long, made anew before it runs out.

Settings (`[sources.reply]`): `key_id`, `issuer_id`, `key_file` (or `key_file_env`): the .p8 file; `api_url`
for tests."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from replies.http import Answer, call, one_line, refused
from replies.registry import ReplySettings
from review_watch.clock import Clock, system_clock
from review_watch.domain.replies import PostedReply, PublicationState, ReplyLimits, ReplyRefused, ReplyTarget

PLATFORM = "appstore"
API_URL = "https://api.appstoreconnect.apple.com"
AUDIENCE = "appstoreconnect-v1"
TOKEN_LIFETIME = timedelta(minutes=20)  # the longest Apple accepts
RENEW_BEFORE = timedelta(minutes=2)  # a token with less left is replaced before use
MAX_RESPONSE_CHARACTERS = 5970
STATES: dict[str, PublicationState] = {"PUBLISHED": "published", "PENDING_PUBLISH": "pending"}

log = logging.getLogger(__name__)


class AppStoreConnector:
    platform = PLATFORM
    limits = ReplyLimits(max_length=MAX_RESPONSE_CHARACTERS, unit="characters", can_edit=True, can_delete=True)

    def __init__(self, *, key_id: str, issuer_id: str, private_key: ec.EllipticCurvePrivateKey,
                 api_url: str = API_URL, timeout: float = 30.0, account: str | None = None,
                 clock: Clock = system_clock) -> None:
        self.key_id = key_id
        self.issuer_id = issuer_id
        self._key = private_key
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.account = account or f"App Store Connect key {key_id}"
        self._clock = clock
        self._token: tuple[str, datetime] | None = None  # the bearer token and when it expires

    def token(self) -> str:
        """The bearer token: the current one, or a new one when less than RENEW_BEFORE of it is left."""
        now = self._clock()
        if self._token is None or now >= self._token[1] - RENEW_BEFORE:
            issued = int(now.timestamp())
            claims = {"iss": self.issuer_id, "iat": issued, "exp": issued + int(TOKEN_LIFETIME.total_seconds()),
                      "aud": AUDIENCE}
            token = jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self.key_id, "typ": "JWT"})
            self._token = (token, now + TOKEN_LIFETIME)
        return self._token[0]

    async def _request(self, method: str, path: str, json_body: Any = None) -> Answer:
        """One call; a 401 gets one more try with a new token (the old one may have expired in flight)."""
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
            answer = await call(PLATFORM, method, self.api_url + path, timeout=self.timeout, headers=headers,
                                json_body=json_body)
            if answer.status != 401 or attempt:
                return answer
            self._token = None
        raise AssertionError("unreachable")

    def _refused(self, answer: Answer, what: str, text: str | None = None) -> ReplyRefused:
        errors = answer.data.get("errors") if isinstance(answer.data, dict) else None
        error = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        detail = " ".join(str(error[k]) for k in ("code", "detail") if error.get(k))
        if answer.status == 401:
            detail = f"{detail} (the key {self.key_id} or issuer {self.issuer_id} is not accepted)"
        too_long = answer.status == 422 and ("long" in detail.lower() or "length" in detail.lower())
        if too_long and text is not None:
            detail = f"{detail} ({len(text)} characters)"
        return refused(PLATFORM, answer, what, detail, kind="too_long" if too_long else None)

    async def check(self) -> str:
        answer = await self._request("GET", "/v1/apps?limit=1")
        if not answer.ok:
            raise self._refused(answer, "checking the key")
        return self.account

    async def current_reply(self, target: ReplyTarget, idempotency_key: str = "") -> PostedReply | None:
        review = target.external_id
        answer = await self._request("GET", f"/v1/customerReviews/{review}/response")
        if answer.ok:
            data = answer.data.get("data") if isinstance(answer.data, dict) else None
            return _posted(data) if isinstance(data, dict) else None
        if answer.status != 404:
            raise self._refused(answer, f"looking up the response to review {review}")
        # No response, or no review: only the review itself tells which.
        found = await self._request("GET", f"/v1/customerReviews/{review}")
        if found.ok:
            return None
        raise self._refused(found, f"looking up review {review}")

    async def post(self, target: ReplyTarget, text: str, idempotency_key: str = "") -> PostedReply:
        self._check_length(text)
        current = await self.current_reply(target, idempotency_key)
        if current is not None and current.text == text:
            log.info("%s: review %s already has this response (%s): not posted again", PLATFORM,
                     target.external_id, current.reply_id)
            return current
        return await self._create(target, text, replaces=current)

    async def edit(self, target: ReplyTarget, reply: PostedReply, text: str) -> PostedReply:
        """A review has one response: a new one replaces it (and is pending again until published)."""
        return await self.post(target, text)

    async def delete(self, target: ReplyTarget, reply: PostedReply) -> None:
        answer = await self._request("DELETE", f"/v1/customerReviewResponses/{reply.reply_id}")
        if answer.status == 404:
            log.info("%s: response %s to review %s was already gone", PLATFORM, reply.reply_id, target.external_id)
            return
        if not answer.ok:
            raise self._refused(answer, f"deleting response {reply.reply_id}")
        log.info("%s: response %s to review %s deleted", PLATFORM, reply.reply_id, target.external_id)

    async def _create(self, target: ReplyTarget, text: str, replaces: PostedReply | None) -> PostedReply:
        body = {"data": {"type": "customerReviewResponses", "attributes": {"responseBody": text},
                         "relationships": {"review": {"data": {"type": "customerReviews",
                                                                "id": target.external_id}}}}}
        answer = await self._request("POST", "/v1/customerReviewResponses", json_body=body)
        data = answer.data.get("data") if isinstance(answer.data, dict) else None
        if not answer.ok or not isinstance(data, dict):
            raise self._refused(answer, f"responding to review {target.external_id}", text)
        posted = _posted(data)
        log.info("%s: response %s to review %s accepted (%s)%s", PLATFORM, posted.reply_id, target.external_id,
                 posted.state, f", replacing {replaces.reply_id}" if replaces else "")
        return posted

    def _check_length(self, text: str) -> None:
        if len(text) > MAX_RESPONSE_CHARACTERS:
            raise ReplyRefused("too_long", f"{PLATFORM}: a response is at most {MAX_RESPONSE_CHARACTERS} characters;"
                                           f" this one has {len(text)}")


def _posted(data: dict[str, Any]) -> PostedReply:
    attributes = data.get("attributes") or {}
    modified = attributes.get("lastModifiedDate")
    try:
        posted_at = datetime.fromisoformat(modified) if isinstance(modified, str) else None
    except ValueError:
        posted_at = None
    return PostedReply(reply_id=str(data["id"]), text=str(attributes.get("responseBody") or ""),
                       state=STATES.get(str(attributes.get("state")), "pending"), posted_at=posted_at)


def load_key(settings: ReplySettings) -> ec.EllipticCurvePrivateKey:
    """The team's .p8 key: an EC P-256 private key in PEM; anything else is one line naming the key."""
    try:
        key = load_pem_private_key(settings.read_file("key"), password=None)
    except (ValueError, TypeError) as exc:
        raise settings.invalid("key_file", f"{settings.file_path('key')}: not a .p8 private key "
                                           f"({one_line(str(exc), 120)})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise settings.invalid("key_file", f"{settings.file_path('key')}: not an App Store Connect key "
                                           "(an EC P-256 key is needed for ES256)")
    return key


def build(settings: ReplySettings) -> AppStoreConnector:
    return AppStoreConnector(key_id=settings.option("key_id"), issuer_id=settings.option("issuer_id"),
                             private_key=load_key(settings), api_url=settings.api_url or API_URL,
                             timeout=settings.timeout, account=settings.account)
