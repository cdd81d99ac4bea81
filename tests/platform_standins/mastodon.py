"""A Mastodon instance's statuses API, as a stand-in: the replying account's own instance.

Every request is checked with openapi-core against ../shared/platform-apis/mastodon/ (OpenAPI 3.1), read in
place, with three readings of Mastodon's own behaviour the file does not carry: a body may be form-encoded
with the same fields as the JSON one (Mastodon's documentation gives them as form parameters, and
Mastodon.py sends them so), a path may end in "/" (Rails ignores it), and the `Idempotency-Key` header is a
string (the file's `{"type": "object"}` is a known defect, noted in its SOURCE.txt). The subset has no
operation for the three reads that find our reply to a post again; they are added to the loaded document as
Mastodon's documentation gives them (`EXTRA_OPERATIONS`): `GET /api/v1/accounts/verify_credentials`,
`GET /api/v1/statuses/{id}/context` and `GET /api/v1/statuses/{id}/source`.

Like Mastodon: a bearer token of a registered account is needed (401 "The access token is invalid"); a status
longer than the instance's `max_characters` (graphemes, a link counting 23) is 422; replying to an unknown or
deleted status is 404 "Record not found"; a repeated `Idempotency-Key` of the same account within an hour
(by the stand-in's clock, which a test may inject and move) returns the first status and posts nothing; only
the author may edit (PUT) or delete a status (else 404). A post of another server is found by
`GET /api/v2/search?q=<its url>&resolve=true` once `add_remote_status` has put it on that server. A status's
context lists the statuses above it (ancestors) and every reply below it (descendants), deleted ones left out.

Faults on demand (`fail_next(kind, count, method)`, method "post", "edit", "delete", "search", "instance",
"verify_credentials", "context" or "source"):
`rate_limited` (429 with the X-RateLimit headers), `expired_token` (401), `gone` (404), `forbidden` (403, as
for a limited or suspended account), `too_long` (422),
`server_error` (503), `timeout_after_accept` (done and counted, then the answer waits `delay` seconds).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import warnings
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import parse_qsl

import regex
from aiohttp import web
from openapi_core import OpenAPI

from review_watch.clock import Clock, system_clock
from tests.platform_standins.checks import SpecRequest
from tests.platform_standins.runner import FaultQueue, StandInThread, platform_spec

SPEC_HOST = "https://mastodon.example"
IDEMPOTENCY_WINDOW = timedelta(hours=1)
_URL = regex.compile(r"https?://\S+")


def _read_operation(operation_id: str, summary: str, docs: str, scope: str, answer: dict[str, Any],
                    with_id: bool = True) -> dict[str, Any]:
    errors = {status: {"description": words, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}
        for status, words in (("401", "Unauthorized"), ("404", "Not found"), ("429", "Too Many Requests"))}
    parameters = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}] if with_id else []
    return {"get": {"operationId": operation_id, "summary": summary, "tags": ["statuses"],
                    "externalDocs": {"url": f"https://docs.joinmastodon.org/methods/{docs}"},
                    "security": [{"OAuth2": [scope]}], "parameters": parameters,
                    "responses": {"200": {"description": summary,
                                          "content": {"application/json": {"schema": answer}}}, **errors}}}


_STATUSES = {"type": "array", "items": {"$ref": "#/components/schemas/Status"}}
EXTRA_OPERATIONS = {  # as docs.joinmastodon.org gives them; not in the shared subset
    "/api/v1/accounts/verify_credentials": _read_operation(
        "verifyAccountCredentials", "Verify account credentials", "accounts/#verify_credentials",
        "read:accounts", {"$ref": "#/components/schemas/Account"}, with_id=False),
    "/api/v1/statuses/{id}/context": _read_operation(
        "getStatusContext", "Get parent and child statuses in context", "statuses/#context", "read:statuses",
        {"type": "object", "required": ["ancestors", "descendants"],
         "properties": {"ancestors": _STATUSES, "descendants": _STATUSES}}),
    "/api/v1/statuses/{id}/source": _read_operation(
        "getStatusSource", "View status source", "statuses/#source", "read:statuses",
        {"type": "object", "required": ["id", "text", "spoiler_text"],
         "properties": {"id": {"type": "string"}, "text": {"type": "string"}, "spoiler_text": {"type": "string"}}}),
}


@functools.cache
def load_spec() -> OpenAPI:
    document = json.loads(platform_spec("mastodon", "mastodon-openapi.reply-subset.json").read_text("utf-8"))
    for path in document["paths"].values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == "Idempotency-Key":
                    parameter["schema"] = {"type": "string"}
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                content["application/x-www-form-urlencoded"] = {"schema": content["application/json"]["schema"]}
    document["paths"].update(EXTRA_OPERATIONS)
    return OpenAPI.from_dict(document)


def countable_length(text: str) -> int:
    return len(regex.findall(r"\X", _URL.sub("", text))) + 23 * len(_URL.findall(text))


class MastodonStandIn:
    def __init__(self, domain: str = "social.example", max_characters: int = 500,
                 clock: Clock = system_clock) -> None:
        self.domain = domain
        self.max_characters = max_characters
        self.clock = clock
        self.openapi = load_spec()
        self.accounts: dict[str, dict[str, Any]] = {}  # access token -> account
        self.statuses: dict[str, dict[str, Any]] = {}  # local id -> status, ours and fetched ones
        self.remote: dict[str, dict[str, Any]] = {}  # url -> a post on another server, not yet fetched
        self.replies: list[dict[str, Any]] = []  # every status the stand-in accepted
        self.rejections: list[dict[str, Any]] = []  # requests Mastodon would refuse as malformed
        self.requests: list[dict[str, Any]] = []
        self._idempotency: dict[tuple[str, str], tuple[str, datetime]] = {}
        self._ids = itertools.count(110_000_000_000_000_000)
        self._faults = FaultQueue()
        self._thread: StandInThread | None = None
        self.url = ""

    # Set-up and control ---------------------------------------------------------------------------------

    def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._api)
        self._thread = StandInThread(app)
        self.url = self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()

    def add_account(self, username: str, token: str) -> dict[str, Any]:
        account = self._account(username, self.domain)
        self.accounts[token] = account
        return account

    def add_local_status(self, username: str, text: str) -> dict[str, Any]:
        """A post written on this instance (crawlable from it under its local id)."""
        status = self._status(self._account(username, self.domain), text)
        self.statuses[status["id"]] = status
        return status

    def add_remote_status(self, url: str, username: str, domain: str, text: str) -> None:
        """A post on another server, known here only once resolved by its URL."""
        self.remote[url] = {"username": username, "domain": domain, "text": text, "url": url}

    def delete_status(self, status_id: str) -> None:
        self.statuses[status_id]["deleted"] = True

    def fail_next(self, kind: str, count: int = 1, method: str | None = None, delay: float = 0.0,
                  retry_after: int = 1) -> None:
        self._faults.add(kind, count, method, delay, retry_after)

    def replies_to(self, status_id: str) -> list[dict[str, Any]]:
        return [r for r in self.replies if r["in_reply_to_id"] == status_id]

    # The API ---------------------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        body = await request.read()
        path = request.path.rstrip("/") or "/"
        problem = self._spec_problem(request, body, path)
        if problem:
            self.rejections.append({"method": request.method, "path": path, "problem": problem})
            return _error(422 if body else 400, problem)
        fields = self._fields(request, body)
        operation = _operation(request.method, path)
        self.requests.append({"operation": operation, "path": path, "fields": fields,
                              "headers": {k: v for k, v in request.headers.items() if k.lower() != "authorization"}})
        fault = self._faults.take(operation)
        if fault and fault.kind == "rate_limited":
            reset = datetime.now(UTC) + timedelta(seconds=fault.retry_after)
            return _error(429, "Too many requests", {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                                                     "X-RateLimit-Reset": reset.isoformat()})
        if fault and fault.kind == "server_error":
            return _error(503, "Service Unavailable")
        if fault and fault.kind == "expired_token":
            return _error(401, "The access token is invalid")
        if fault and fault.kind == "gone":
            return _error(404, "Record not found")
        if fault and fault.kind == "forbidden":
            return _error(403, "This action is not allowed")
        if fault and fault.kind == "too_long":
            return _error(422, f"Validation failed: Text character limit of {self.max_characters} exceeded")
        if operation == "instance":
            return web.json_response(self._instance())
        account = self.accounts.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
        if account is None:
            return _error(401, "The access token is invalid")
        if operation == "search":
            return web.json_response(self._search(fields))
        if operation == "verify_credentials":
            return web.json_response({**account, "source": {"privacy": "public", "sensitive": False,
                                                            "language": "en", "note": "", "fields": []}})
        if operation in ("read", "context", "source"):
            return self._read(operation, path.split("/")[4])
        if operation == "post":
            response = self._post(account, fields, request.headers.get("Idempotency-Key"))
        else:
            response = self._change(account, operation, path.rsplit("/", 1)[1], fields)
        if fault and fault.kind == "timeout_after_accept" and response.status == 200:
            await asyncio.sleep(fault.delay)
        return response

    def _spec_problem(self, request: web.Request, body: bytes, path: str) -> str | None:
        try:
            with warnings.catch_warnings():  # openapi-core cannot check OAuth2; the bearer token is checked below
                warnings.simplefilter("ignore", UserWarning)
                self.openapi.validate_request(SpecRequest(request, body, SPEC_HOST, path))
        except Exception as exc:  # openapi-core raises a family of errors; each is a refusal here
            cause = exc.__cause__
            return f"{type(exc).__name__}: {exc}" + (f" ({cause})" if cause else "")
        return None

    @staticmethod
    def _fields(request: web.Request, body: bytes) -> dict[str, Any]:
        if request.method == "GET":
            return dict(request.query)
        if not body:
            return {}
        if request.content_type == "application/json":
            loaded = json.loads(body)
            return loaded if isinstance(loaded, dict) else {}
        return dict(parse_qsl(body.decode()))

    def _post(self, account: dict[str, Any], fields: dict[str, Any], key: str | None) -> web.Response:
        now = self.clock()
        if key is not None:
            first = self._idempotency.get((account["id"], key))
            if first is not None and now - first[1] < IDEMPOTENCY_WINDOW:
                return web.json_response(self.statuses[first[0]])
        text = str(fields.get("status", ""))
        if not text.strip():
            return _error(422, "Validation failed: Text can't be blank")
        parent_id = fields.get("in_reply_to_id")
        if parent_id is not None:
            parent = self.statuses.get(str(parent_id))
            if parent is None or parent.get("deleted"):
                return _error(404, "Record not found")
        if countable_length(text) > self.max_characters:
            return _error(422, f"Validation failed: Text character limit of {self.max_characters} exceeded")
        status = self._status(account, text, in_reply_to_id=parent_id, visibility=fields.get("visibility"))
        self.statuses[status["id"]] = status
        if key is not None:
            self._idempotency[(account["id"], key)] = (status["id"], now)
        self.replies.append({"id": status["id"], "in_reply_to_id": parent_id, "text": text,
                             "account": account["acct"], "idempotency_key": key})
        return web.json_response(status)

    def _read(self, operation: str, status_id: str) -> web.Response:
        status = self.statuses.get(status_id)
        if status is None or status.get("deleted"):
            return _error(404, "Record not found")
        if operation == "source":
            return web.json_response({"id": status_id, "text": status["text"], "spoiler_text": ""})
        if operation == "read":
            return web.json_response(status)
        ancestors: list[dict[str, Any]] = []
        parent = self.statuses.get(str(status["in_reply_to_id"]))
        while parent is not None:
            ancestors.insert(0, parent)
            parent = self.statuses.get(str(parent["in_reply_to_id"]))
        return web.json_response({"ancestors": [s for s in ancestors if not s.get("deleted")],
                                  "descendants": self._descendants(status_id)})

    def _descendants(self, status_id: str) -> list[dict[str, Any]]:
        found = []
        for child in self.statuses.values():  # in the order they were made, as ids grow
            if child["in_reply_to_id"] == status_id and not child.get("deleted"):
                found += [child, *self._descendants(child["id"])]
        return found

    def _change(self, account: dict[str, Any], operation: str, status_id: str,
                fields: dict[str, Any]) -> web.Response:
        status = self.statuses.get(status_id)
        if status is None or status.get("deleted") or status["account"]["id"] != account["id"]:
            return _error(404, "Record not found")
        if operation == "delete":
            status["deleted"] = True
            return web.json_response({**status, "text": status["text"]})
        text = str(fields.get("status", ""))
        if countable_length(text) > self.max_characters:
            return _error(422, f"Validation failed: Text character limit of {self.max_characters} exceeded")
        status.update(text=text, content=f"<p>{escape(text)}</p>", edited_at=self._now())
        for reply in self.replies:
            if reply["id"] == status_id:
                reply["text"] = text
        return web.json_response(status)

    def _search(self, fields: dict[str, Any]) -> dict[str, Any]:
        query, resolve = str(fields.get("q", "")), str(fields.get("resolve", "")).lower() in ("true", "1")
        statuses = [s for s in self.statuses.values() if s.get("url") == query and not s.get("deleted")]
        if not statuses and resolve and query in self.remote:
            post = self.remote.pop(query)
            fetched = self._status(self._account(post["username"], post["domain"]), post["text"], url=query)
            self.statuses[fetched["id"]] = fetched
            statuses = [fetched]
        accounts = [a for a in self.accounts.values()
                    if query.removeprefix("@") in (a["acct"], f"{a['acct']}@{self.domain}")]
        return {"accounts": accounts, "statuses": statuses, "hashtags": []}

    def _instance(self) -> dict[str, Any]:
        return {"domain": self.domain, "title": "A stand-in instance", "version": "4.3.0",
                "source_url": "https://github.com/mastodon/mastodon", "description": "", "languages": ["en"],
                "usage": {"users": {"active_month": 1}}, "thumbnail": {"url": f"https://{self.domain}/t.png"},
                "icon": [], "api_versions": {"mastodon": 2}, "rules": [],
                "registrations": {"enabled": False, "approval_required": False, "message": None},
                "contact": {"email": f"admin@{self.domain}", "account": None},
                "configuration": {"statuses": {"max_characters": self.max_characters,
                                               "max_media_attachments": 4, "characters_reserved_per_url": 23}}}

    def _account(self, username: str, domain: str) -> dict[str, Any]:
        acct = username if domain == self.domain else f"{username}@{domain}"
        for known in [*self.accounts.values(), *(s["account"] for s in self.statuses.values())]:
            if known["acct"] == acct:
                return known
        return {"id": str(next(self._ids)), "username": username, "acct": acct, "display_name": username,
                "locked": False, "bot": False, "group": False, "indexable": True, "created_at": self._now(),
                "note": "", "url": f"https://{domain}/@{username}", "uri": f"https://{domain}/users/{username}",
                "avatar": "", "avatar_static": "", "header": "", "header_static": "", "followers_count": 0,
                "following_count": 0, "statuses_count": 0, "emojis": [], "fields": []}

    def _status(self, account: dict[str, Any], text: str, in_reply_to_id: str | None = None,
                visibility: str | None = None, url: str | None = None) -> dict[str, Any]:
        status_id = str(next(self._ids))
        home = account["url"].rsplit("/@", 1)[0]
        return {"id": status_id, "created_at": self._now(), "edited_at": None, "in_reply_to_id": in_reply_to_id,
                "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "",
                "visibility": visibility or "public", "language": "en", "uri": url or f"{home}/statuses/{status_id}",
                "url": url or f"{account['url']}/{status_id}", "replies_count": 0, "reblogs_count": 0,
                "favourites_count": 0, "content": f"<p>{escape(text)}</p>", "text": text, "account": account,
                "media_attachments": [], "mentions": [], "tags": [], "emojis": []}


    def _now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _operation(method: str, path: str) -> str:
    if path == "/api/v2/instance":
        return "instance"
    if path == "/api/v2/search":
        return "search"
    if path == "/api/v1/accounts/verify_credentials":
        return "verify_credentials"
    if path == "/api/v1/statuses":
        return "post"
    if path.endswith(("/context", "/source")):
        return path.rsplit("/", 1)[1]
    return {"PUT": "edit", "DELETE": "delete"}.get(method, "read")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)

