"""Google Play's Android Publisher API (reviews) and Google's OAuth token endpoint, as a stand-in.

Requests are checked against the discovery document in ../shared/platform-apis/google-play/: the method and
path of `reviews.get`, `reviews.list` and `reviews.reply`, every query parameter (the method's and the API's
global ones, with their types and enums) and the request body against its schema (unknown fields refused, as
Google refuses them). The token endpoint takes only a service-account JWT grant: RS256 signed by a registered
account's key, `iss` that account, the androidpublisher scope, `aud` Google's token endpoint, and at most an hour long.

Like Google Play: one developer reply per review, written or overwritten by `reviews.reply`, shown in
`reviews.get` as a `developerComment`; HTML tags are stripped; over 350 characters is refused; an unknown review
is 404, an account without the app's permission 403, a missing or unknown token 401.

Faults on demand (`fail_next`): `rate_limited` (429 with Retry-After), `server_error` (503), `expired_token`
(401 whatever the token), `hang_after_accept` (the reply is stored, then the answer waits `delay` seconds).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.platform_standins.runner import FaultQueue, StandInThread, platform_spec

SCOPE = "https://www.googleapis.com/auth/androidpublisher"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
AUDIENCE = "https://oauth2.googleapis.com/token"  # Google's token endpoint, whichever URL the grant is sent to
MAX_REPLY = 350
TOKEN_LIFETIME = 3600


@dataclass
class Review:
    review_id: str
    text: str
    rating: int
    author: str = "A Google user"
    reply: str | None = None
    reply_modified: float | None = None


@dataclass
class Account:
    email: str
    key_id: str
    public_key: rsa.RSAPublicKey
    packages: set[str] = field(default_factory=set)


def make_service_account(email: str, token_uri: str, packages: set[str]) -> tuple[dict[str, str], Account]:
    """A new RSA key: the JSON key file google-auth reads, and the stand-in's record of its public half."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_id = secrets.token_hex(20)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    info = {"type": "service_account", "project_id": "acme-reviews", "private_key_id": key_id,
            "private_key": pem, "client_email": email, "client_id": "1234567890",
            "token_uri": token_uri}
    return info, Account(email, key_id, private.public_key(), packages)


class GooglePlayStandIn:
    def __init__(self) -> None:
        self.document = json.loads(platform_spec("google-play", "androidpublisher.v3.reviews-subset.json")
                                   .read_text(encoding="utf-8"))
        self.accounts: dict[str, Account] = {}
        self.reviews: dict[tuple[str, str], Review] = {}
        self.tokens: dict[str, tuple[str, float]] = {}  # access token -> (account email, expiry)
        self.replies: list[dict[str, Any]] = []  # every reply the stand-in accepted
        self.rejections: list[dict[str, Any]] = []  # requests the real API would refuse as wrong
        self.requests: list[dict[str, Any]] = []
        self.token_grants = 0
        self._faults = FaultQueue()
        self._methods = [(self._pattern(m["path"]), m["httpMethod"], name, m)
                         for name, m in self.document["resources"]["reviews"]["methods"].items()]
        self._thread: StandInThread | None = None
        self.url = ""

    # Set-up and control ---------------------------------------------------------------------------------

    def start(self) -> str:
        app = web.Application()
        app.router.add_post("/token", self._token)
        app.router.add_route("*", "/{tail:.*}", self._api)
        self._thread = StandInThread(app)
        self.url = self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def add_account(self, email: str, packages: set[str]) -> dict[str, str]:
        """Registers a service account allowed to reply for `packages`; returns its JSON key file's content."""
        info, account = make_service_account(email, self.token_url, packages)
        self.accounts[email] = account
        return info

    def add_review(self, package: str, review: Review) -> None:
        self.reviews[(package, review.review_id)] = review

    def delete_review(self, package: str, review_id: str) -> None:
        self.reviews.pop((package, review_id), None)

    def fail_next(self, kind: str, count: int = 1, method: str | None = None, delay: float = 0.0,
                  retry_after: int = 1) -> None:
        self._faults.add(kind, count, method, delay, retry_after)

    def clear_faults(self) -> None:
        self._faults.clear()

    def replies_to(self, review_id: str) -> list[dict[str, Any]]:
        return [r for r in self.replies if r["review_id"] == review_id]

    # Token endpoint --------------------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != JWT_GRANT:
            return self._oauth_error("unsupported_grant_type", "Invalid grant_type.")
        try:
            header, claims = self._verified_jwt(str(form.get("assertion", "")))
        except ValueError as exc:
            return self._oauth_error("invalid_grant", str(exc))
        now = time.time()
        if claims.get("aud") != AUDIENCE:
            return self._oauth_error("invalid_grant", "Invalid JWT: audience is not the token endpoint.")
        if SCOPE not in str(claims.get("scope", "")).split():
            return self._oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or exp - iat > TOKEN_LIFETIME or iat > now + 60:
            return self._oauth_error("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) "
                                                      "and in a reasonable timeframe.")
        if exp < now:
            return self._oauth_error("invalid_grant", "Invalid JWT: Token has expired.")
        token = "ya29.standin-" + secrets.token_urlsafe(24)
        self.tokens[token] = (claims["iss"], now + TOKEN_LIFETIME)
        self.token_grants += 1
        return web.json_response({"access_token": token, "expires_in": TOKEN_LIFETIME - 1, "token_type": "Bearer"})

    def _verified_jwt(self, assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
        parts = assertion.split(".")
        if len(parts) != 3:
            raise ValueError("Invalid JWT: not three dot-separated parts.")
        try:
            header, claims = (json.loads(_unb64(p)) for p in parts[:2])
            signature = _unb64(parts[2])
        except ValueError:
            raise ValueError("Invalid JWT: not base64url JSON.") from None
        if header.get("alg") != "RS256":
            raise ValueError("Invalid JWT: alg must be RS256.")
        account = self.accounts.get(claims.get("iss", ""))
        if account is None:
            raise ValueError("Invalid grant: account not found")
        if header.get("kid") not in (None, account.key_id):
            raise ValueError("Invalid JWT Signature.")
        try:
            account.public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(),
                                      hashes.SHA256())
        except InvalidSignature:
            raise ValueError("Invalid JWT Signature.") from None
        return header, claims

    def _oauth_error(self, error: str, description: str) -> web.Response:
        self.rejections.append({"endpoint": "token", "error": error, "description": description})
        return web.json_response({"error": error, "error_description": description}, status=400)

    # The API ---------------------------------------------------------------------------------------------

    @staticmethod
    def _pattern(path: str) -> re.Pattern[str]:
        regex = "".join(f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
                        for part in re.split(r"(\{[^}]+\})", path))
        return re.compile(f"^/{regex}$")

    async def _api(self, request: web.Request) -> web.Response:
        raw_path = request.raw_path.split("?", 1)[0]
        for pattern, http_method, name, method in self._methods:
            found = pattern.match(raw_path)
            if found and request.method == http_method:
                path_values = {key: unquote(value) for key, value in found.groupdict().items()}
                return await self._method(request, name, method, path_values)
        return self._reject(404, "NOT_FOUND", f"{request.method} {raw_path} is not a method of the API",
                            record=True)

    async def _method(self, request: web.Request, name: str, method: dict[str, Any],
                      path_values: dict[str, str]) -> web.Response:
        problem = self._query_problem(request, method)
        if problem:
            return self._reject(400, "INVALID_ARGUMENT", problem, record=True)
        body: dict[str, Any] = {}
        if "request" in method:
            try:
                body = await request.json()
            except ValueError:
                return self._reject(400, "INVALID_ARGUMENT", "Invalid JSON payload received.", record=True)
            problem = self._schema_problem(body, {"$ref": method["request"]["$ref"]}, "")
            if problem:
                return self._reject(400, "INVALID_ARGUMENT", f"Invalid JSON payload received. {problem}",
                                    record=True)
        self.requests.append({"method": name, "path": path_values, "body": body})
        fault = self._faults.take(name)
        if fault and fault.kind == "rate_limited":
            return self._reject(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Queries'.",
                                headers={"Retry-After": str(fault.retry_after)})
        if fault and fault.kind == "server_error":
            return self._reject(503, "UNAVAILABLE", "The service is currently unavailable.")
        account = self._caller(request)
        if fault and fault.kind == "expired_token" or isinstance(account, str):
            return self._reject(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. "
                                "Expected OAuth 2 access token, login cookie or other valid authentication "
                                "credential.")
        package = path_values["packageName"]
        if package not in account.packages:
            return self._reject(403, "PERMISSION_DENIED", "The caller does not have permission")
        if name == "list":
            reviews = [self._review_json(r) for (p, _), r in self.reviews.items() if p == package]
            return web.json_response({"reviews": reviews[: int(request.query.get("maxResults", "100"))],
                                      "pageInfo": {"totalResults": len(reviews)}})
        review = self.reviews.get((package, path_values["reviewId"]))
        if review is None:
            return self._reject(404, "NOT_FOUND", "No review found.")
        if name == "get":
            return web.json_response(self._review_json(review))
        text = re.sub(r"<[^>]*>", "", body.get("replyText", ""))
        if not text.strip():
            return self._reject(400, "INVALID_ARGUMENT", "Reply text must not be empty.")
        if len(text) > MAX_REPLY:
            return self._reject(400, "INVALID_ARGUMENT", f"Reply text too long ({len(text)} > {MAX_REPLY}).")
        review.reply, review.reply_modified = text, time.time()
        self.replies.append({"review_id": review.review_id, "package": package, "text": text,
                             "account": account.email})
        if fault and fault.kind == "hang_after_accept":
            await asyncio.sleep(fault.delay)
        return web.json_response({"result": {"replyText": text, "lastEdited": _stamp(review.reply_modified)}})

    def _caller(self, request: web.Request) -> Account | str:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return "missing"
        email, expiry = self.tokens.get(header.removeprefix("Bearer "), ("", 0.0))
        if expiry < time.time() or email not in self.accounts:
            return "invalid"
        return self.accounts[email]

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def _query_problem(self, request: web.Request, method: dict[str, Any]) -> str | None:
        known = {**self.document["parameters"],
                 **{k: v for k, v in method["parameters"].items() if v["location"] == "query"}}
        for key, value in request.query.items():
            spec = known.get(key)
            if spec is None:
                return f'Invalid JSON payload received. Unknown name "{key}": Cannot bind query parameter.'
            if spec["type"] == "integer" and not value.isdigit():
                return f'Invalid value at \'{key}\' (TYPE_UINT32), "{value}"'
            if spec["type"] == "boolean" and value not in ("true", "false"):
                return f'Invalid value at \'{key}\' (TYPE_BOOL), "{value}"'
            if "enum" in spec and value not in spec["enum"]:
                return f'Invalid value at \'{key}\', "{value}"'
        return None

    def _schema_problem(self, value: Any, schema: dict[str, Any], where: str) -> str | None:
        if "$ref" in schema:
            schema = self.document["schemas"][schema["$ref"]]
        kind = schema.get("type")
        if kind == "object":
            if not isinstance(value, dict):
                return f"Invalid value at '{where or 'body'}': expected an object."
            for key, item in value.items():
                if key not in schema.get("properties", {}):
                    return f'Unknown name "{key}" at \'{where or "body"}\': Cannot find field.'
                problem = self._schema_problem(item, schema["properties"][key], f"{where}.{key}".lstrip("."))
                if problem:
                    return problem
            return None
        expected = {"string": str, "integer": int, "boolean": bool, "array": list}.get(kind or "")
        if expected and not isinstance(value, expected):
            return f"Invalid value at '{where}' (TYPE_{str(kind).upper()}), {json.dumps(value)}"
        return None

    def _review_json(self, review: Review) -> dict[str, Any]:
        comments: list[dict[str, Any]] = [{"userComment": {"text": review.text, "starRating": review.rating,
                                                           "lastModified": _stamp(time.time() - 3600)}}]
        if review.reply is not None:
            comments.append({"developerComment": {"text": review.reply,
                                                  "lastModified": _stamp(review.reply_modified or 0)}})
        return {"reviewId": review.review_id, "authorName": review.author, "comments": comments}

    def _reject(self, status: int, code: str, message: str, record: bool = False,
                headers: dict[str, str] | None = None) -> web.Response:
        if record:
            self.rejections.append({"status": status, "message": message})
        return web.json_response({"error": {"code": status, "message": message, "status": code}}, status=status,
                                 headers=headers)


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _stamp(moment: float) -> dict[str, Any]:
    return {"seconds": str(int(moment)), "nanos": int((moment % 1) * 1e9)}
