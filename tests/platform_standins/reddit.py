"""Reddit's OAuth API for a script app, as a stand-in. Reddit publishes no machine-readable spec, so requests are
checked against its documented rules (reddit.com/dev/api and the OAuth2 wiki):

- `POST /api/v1/access_token`: Basic auth with a registered app's client id and secret (else 401), form
  `grant_type=password`, `username`, `password` (a wrong password is HTTP 200 `{"error": "invalid_grant"}`);
  the bearer token lasts `token_lifetime` seconds (an hour).
- Every API call: `Authorization: bearer TOKEN` of a live token (else 401) and a User-Agent that is not a
  generic library's (else 429, as Reddit throttles those); answers carry the X-Ratelimit-* headers.
- `POST /api/comment`: form-encoded `thing_id` (a fullname, t3_ or t1_) and `text` (markdown, at most 10,000
  characters), `api_type=json`. Refusals of a well-formed request come with HTTP 200 in `json.errors` as
  `[CODE, message, field]`: TOO_LONG, TOO_OLD (archived), DELETED_LINK / DELETED_COMMENT, THREAD_LOCKED, NO_TEXT.
  An unknown thing is 404.
- `POST /api/editusertext` (`thing_id`, `text`, `api_type=json`) and `POST /api/del` (`id`): only the author's
  own comment (else 403); deleting a deleted comment succeeds.
- `GET /user/{name}/comments` (`limit` up to 100, newest first) and `GET /api/v1/me`.

Faults on demand (`fail_next(kind, count, method)`, method "comment", "editusertext", "del", "comments", "me"
or "access_token"): `rate_limited` (HTTP 429), `ratelimit_error` (json.errors RATELIMIT), `expired_token` (401),
`gone` (TOO_OLD), `too_long` (TOO_LONG), `server_error` (503), `timeout_after_accept` (done and counted, then
the answer waits `delay` seconds).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.platform_standins.runner import FaultQueue, StandInThread

MAX_TEXT = 10_000
_FULLNAME = re.compile(r"^t[13]_[a-z0-9]+$")
_GENERIC_AGENTS = ("python-requests", "python/", "aiohttp", "curl", "python-urllib")


@dataclass
class Thing:
    name: str  # the fullname
    author: str
    body: str
    parent_id: str | None = None
    link_id: str | None = None
    archived: bool = False
    locked: bool = False
    deleted: bool = False
    created_utc: float = field(default_factory=time.time)
    edited: float | bool = False


class RedditStandIn:
    def __init__(self, token_lifetime: int = 3600) -> None:
        self.token_lifetime = token_lifetime
        self.apps: dict[str, str] = {}  # client id -> secret
        self.users: dict[str, str] = {}  # username -> password
        self.things: dict[str, Thing] = {}
        self.tokens: dict[str, tuple[str, float]] = {}  # token -> (username, expiry)
        self.replies: list[dict[str, Any]] = []  # every comment the stand-in accepted
        self.rejections: list[dict[str, Any]] = []  # requests breaking Reddit's documented rules
        self.requests: list[dict[str, Any]] = []
        self.token_grants = 0
        self._ids = itertools.count(1_000_000)
        self._faults = FaultQueue()
        self._thread: StandInThread | None = None
        self.url = ""

    # Set-up and control ---------------------------------------------------------------------------------

    def start(self) -> str:
        app = web.Application()
        app.router.add_post("/api/v1/access_token", self._access_token)
        app.router.add_route("*", "/{tail:.*}", self._api)
        self._thread = StandInThread(app)
        self.url = self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()

    @property
    def token_url(self) -> str:
        return f"{self.url}/api/v1/access_token"

    def add_app(self, client_id: str, secret: str) -> None:
        self.apps[client_id] = secret

    def add_user(self, username: str, password: str) -> None:
        self.users[username] = password

    def add_post(self, author: str, body: str, archived: bool = False, locked: bool = False) -> Thing:
        thing = Thing(f"t3_{self._new_id()}", author, body, archived=archived, locked=locked)
        thing.link_id = thing.name
        self.things[thing.name] = thing
        return thing

    def add_comment(self, author: str, body: str, parent: Thing) -> Thing:
        thing = Thing(f"t1_{self._new_id()}", author, body, parent_id=parent.name, link_id=parent.link_id)
        self.things[thing.name] = thing
        return thing

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def fail_next(self, kind: str, count: int = 1, method: str | None = None, delay: float = 0.0,
                  retry_after: int = 1) -> None:
        self._faults.add(kind, count, method, delay, retry_after)

    def replies_to(self, fullname: str) -> list[dict[str, Any]]:
        return [r for r in self.replies if r["parent_id"] == fullname]

    def _new_id(self) -> str:
        number, digits = next(self._ids), ""
        while number:
            number, rest = divmod(number, 36)
            digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
        return digits

    # Token endpoint --------------------------------------------------------------------------------------

    async def _access_token(self, request: web.Request) -> web.Response:
        fault = self._faults.take("access_token")
        if fault and fault.kind == "server_error":
            return web.json_response({"message": "Service Unavailable", "error": 503}, status=503)
        client_id, secret = _basic(request.headers.get("Authorization", ""))
        if client_id not in self.apps or not secrets.compare_digest(secret, self.apps[client_id]):
            return web.json_response({"message": "Unauthorized", "error": 401}, status=401)
        form = await request.post()
        if form.get("grant_type") != "password":
            return web.json_response({"error": "unsupported_grant_type"})
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        if username not in self.users or not secrets.compare_digest(password, self.users[username]):
            return web.json_response({"error": "invalid_grant"})
        token = secrets.token_urlsafe(24)
        self.tokens[token] = (username, time.time() + self.token_lifetime)
        self.token_grants += 1
        return web.json_response({"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime,
                                  "scope": "*"})

    # The API ---------------------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        path = request.path
        form = {k: str(v) for k, v in (await request.post()).items()} if request.method == "POST" else {}
        method = path.rstrip("/").rsplit("/", 1)[-1]
        problem = self._rule_problem(request, path, form)
        if problem:
            self.rejections.append({"path": path, "problem": problem})
            status = 429 if "User-Agent" in problem else 400
            return web.json_response({"message": problem, "error": status}, status=status)
        self.requests.append({"method": method, "form": form, "query": dict(request.query)})
        fault = self._faults.take(method)
        if fault and fault.kind == "rate_limited":
            return web.json_response({"message": "Too Many Requests", "error": 429}, status=429,
                                     headers=_ratelimit_headers(fault.retry_after, remaining=0))
        if fault and fault.kind == "server_error":
            return web.json_response({"message": "Service Unavailable", "error": 503}, status=503)
        if fault and fault.kind == "ratelimit_error":
            minutes = max(1, fault.retry_after // 60)
            return _json_errors(["RATELIMIT", f"Looks like you've been doing that a lot. Take a break for "
                                              f"{minutes} minutes before trying again.", "ratelimit"])
        if fault and fault.kind == "gone":
            return _json_errors(["TOO_OLD", "that's a piece of history now; it's too late to reply to it", "parent"])
        if fault and fault.kind == "too_long":
            return _json_errors(["TOO_LONG", f"this is too long (max: {MAX_TEXT})", "text"])
        username, expiry = self.tokens.get(request.headers.get("Authorization", "")[7:], ("", 0.0))
        if fault and fault.kind == "expired_token" or expiry < time.time():
            return web.json_response({"message": "Unauthorized", "error": 401}, status=401)
        response = self._handle(request, path, method, form, username)
        if fault and fault.kind == "timeout_after_accept" and response.status == 200:
            await asyncio.sleep(fault.delay)
        return response

    def _rule_problem(self, request: web.Request, path: str, form: dict[str, str]) -> str | None:
        agent = request.headers.get("User-Agent", "")
        if not agent or agent.lower().startswith(_GENERIC_AGENTS):
            return "a descriptive User-Agent is required"
        if not request.headers.get("Authorization", "").lower().startswith("bearer "):
            return "an OAuth bearer token is required"
        if request.method == "POST" and request.content_type != "application/x-www-form-urlencoded":
            return f"{path} takes a form-encoded body, not {request.content_type}"
        required = {"/api/comment": ("thing_id", "text"), "/api/editusertext": ("thing_id", "text"),
                    "/api/del": ("id",)}.get(path, ())
        for key in required:
            if key not in form:
                return f"{path}: the form field {key} is required"
        fullname = form.get("thing_id") or form.get("id")
        if fullname is not None and not _FULLNAME.match(fullname):
            return f"{path}: {fullname!r} is not a fullname"
        if path in ("/api/comment", "/api/editusertext") and form.get("api_type") != "json":
            return f"{path}: api_type=json is expected by clients that read json.errors"
        if "limit" in request.query and not (request.query["limit"].isdigit() and
                                             1 <= int(request.query["limit"]) <= 100):
            return "limit must be between 1 and 100"
        return None

    def _handle(self, request: web.Request, path: str, method: str, form: dict[str, str],
                username: str) -> web.Response:
        if path == "/api/v1/me" and request.method == "GET":
            return web.json_response({"name": username, "id": "abc123"})
        if path == f"/user/{username}/comments" and request.method == "GET":
            mine = sorted((t for t in self.things.values() if t.author == username and t.name.startswith("t1_")
                           and not t.deleted), key=lambda t: t.created_utc, reverse=True)
            limit = int(request.query.get("limit", "25"))
            return web.json_response({"kind": "Listing", "data": {
                "after": None, "children": [{"kind": "t1", "data": _comment(t)} for t in mine[:limit]]}})
        if request.method != "POST" or path not in ("/api/comment", "/api/editusertext", "/api/del"):
            return web.json_response({"message": "Not Found", "error": 404}, status=404)
        thing = self.things.get(form.get("thing_id") or form.get("id", ""))
        if thing is None:
            return web.json_response({"message": "Not Found", "error": 404}, status=404)
        if path == "/api/del":
            if thing.author != username:
                return web.json_response({"message": "Forbidden", "error": 403}, status=403)
            thing.deleted, thing.body = True, "[deleted]"
            return web.json_response({})
        text = form["text"]
        if not text.strip():
            return _json_errors(["NO_TEXT", "we need something here", "text"])
        if len(text) > MAX_TEXT:
            return _json_errors(["TOO_LONG", f"this is too long (max: {MAX_TEXT})", "text"])
        if path == "/api/editusertext":
            if thing.author != username or thing.deleted:
                return web.json_response({"message": "Forbidden", "error": 403}, status=403)
            thing.body, thing.edited = text, time.time()
            for reply in self.replies:
                if reply["name"] == thing.name:
                    reply["text"] = text
            return _things(thing)
        if thing.deleted:
            kind = "DELETED_COMMENT" if thing.name.startswith("t1_") else "DELETED_LINK"
            return _json_errors([kind, "that has been deleted", "parent"])
        post = self.things.get(thing.link_id or "")
        if thing.archived or (post is not None and post.archived):
            return _json_errors(["TOO_OLD", "that's a piece of history now; it's too late to reply to it", "parent"])
        if thing.locked or (post is not None and post.locked):
            return _json_errors(["THREAD_LOCKED", "Comments are locked.", "parent"])
        comment = self.add_comment(username, text, thing)
        self.replies.append({"name": comment.name, "parent_id": thing.name, "text": text, "author": username})
        return _things(comment)


def _comment(thing: Thing) -> dict[str, Any]:
    return {"name": thing.name, "id": thing.name[3:], "author": thing.author, "body": thing.body,
            "parent_id": thing.parent_id, "link_id": thing.link_id, "created_utc": thing.created_utc,
            "edited": thing.edited, "permalink": f"/comments/{(thing.link_id or '')[3:]}/_/{thing.name[3:]}/"}


def _things(thing: Thing) -> web.Response:
    return web.json_response({"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": _comment(thing)}]}}},
                             headers=_ratelimit_headers(300, remaining=99))


def _json_errors(error: list[str]) -> web.Response:
    return web.json_response({"json": {"errors": [error]}}, headers=_ratelimit_headers(300, remaining=99))


def _ratelimit_headers(reset: int, remaining: int) -> dict[str, str]:
    return {"X-Ratelimit-Used": str(100 - remaining), "X-Ratelimit-Remaining": str(remaining),
            "X-Ratelimit-Reset": str(reset)}


def _basic(header: str) -> tuple[str, str]:
    if not header.startswith("Basic "):
        return "", ""
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return "", ""
    return client_id, secret
