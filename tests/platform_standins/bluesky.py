"""A Bluesky PDS's XRPC, as a stand-in: sessions, and records in repositories.

Every input, query and record is checked against the lexicons in ../shared/platform-apis/bluesky/lexicons,
read in place (`lexicons.Lexicons`): a post longer than 300 graphemes, a reply reference without a cid or a
record key that is no TID is refused as the PDS refuses it (400 InvalidRequest, with the lexicon's complaint).
The stand-in's own answers are checked against the outputs' schemas too.

Like the PDS: `com.atproto.server.createSession` takes an account's app password (401 AuthenticationRequired
otherwise) and gives an access JWT (`access_lifetime` seconds, two hours by default) and a refresh JWT that
`refreshSession` turns into a new pair once; a write needs a live access token of the repo's owner (401
ExpiredToken / InvalidToken); a create at a record key already taken is refused; `getRecord` of a missing
record is 400 RecordNotFound; deleting a missing record succeeds. Posts have no edit.

Faults on demand (`fail_next(kind, count, method)`, method the NSID's last part, e.g. "createRecord"):
`rate_limited` (429 RateLimitExceeded with the ratelimit-* headers), `expired_token` (401 ExpiredToken),
`gone` (400 RecordNotFound), `too_long` (400 InvalidRequest, text over 300 graphemes), `server_error` (503),
`timeout_after_accept` (done and counted, then the answer waits `delay` seconds).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.platform_standins.lexicons import LexiconError, Lexicons
from tests.platform_standins.runner import FaultQueue, StandInThread, platform_spec

POST = "app.bsky.feed.post"
_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"


@functools.cache
def lexicons() -> Lexicons:
    return Lexicons(platform_spec("bluesky", "lexicons"))


@dataclass
class Account:
    handle: str
    did: str
    app_password: str
    records: dict[tuple[str, str], tuple[dict[str, Any], str]] = field(default_factory=dict)  # -> (value, cid)


class BlueskyStandIn:
    def __init__(self, access_lifetime: int = 7200) -> None:
        self.access_lifetime = access_lifetime
        self.accounts: dict[str, Account] = {}  # did -> account
        self.replies: list[dict[str, Any]] = []  # every post the stand-in accepted
        self.rejections: list[dict[str, Any]] = []  # requests the PDS would refuse as malformed
        self.requests: list[dict[str, Any]] = []
        self.sessions_created = 0
        self.sessions_refreshed = 0
        self._secret = secrets.token_bytes(32)
        self._revoked: set[str] = set()  # jti of tokens no longer good: used refresh tokens, expired access ones
        self._access_tokens: set[str] = set()  # jti of every access token issued
        self._clock_ids = itertools.count(1)
        self._faults = FaultQueue()
        self._thread: StandInThread | None = None
        self.url = ""

    # Set-up and control ---------------------------------------------------------------------------------

    def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/xrpc/{nsid}", self._xrpc)
        self._thread = StandInThread(app)
        self.url = self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()

    def add_account(self, handle: str, app_password: str = "") -> Account:
        did = "did:plc:" + hashlib.sha256(handle.encode()).hexdigest()[:24]
        account = Account(handle, did, app_password)
        self.accounts[did] = account
        return account

    def add_post(self, handle: str, text: str, reply_to: tuple[str, str] | None = None,
                 root: tuple[str, str] | None = None) -> tuple[str, str]:
        """A post by `handle` (its account made when new); returns its (at-uri, cid)."""
        account = next((a for a in self.accounts.values() if a.handle == handle), None) or self.add_account(handle)
        record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": _now()}
        if reply_to is not None:
            parent = {"uri": reply_to[0], "cid": reply_to[1]}
            record["reply"] = {"root": {"uri": root[0], "cid": root[1]} if root else parent, "parent": parent}
        lexicons().check_record(POST, record)
        rkey = self._new_tid()
        return self._store(account, POST, rkey, record)

    def delete_post(self, uri: str) -> None:
        did, collection, rkey = uri.removeprefix("at://").split("/")
        self.accounts[did].records.pop((collection, rkey), None)

    def expire_tokens(self) -> None:
        """Every access token issued so far is expired (refresh tokens stay good)."""
        self._revoked |= self._access_tokens

    def fail_next(self, kind: str, count: int = 1, method: str | None = None, delay: float = 0.0,
                  retry_after: int = 1) -> None:
        self._faults.add(kind, count, method, delay, retry_after)

    def replies_to(self, uri: str) -> list[dict[str, Any]]:
        return [r for r in self.replies if r["parent"] == uri]

    # XRPC ------------------------------------------------------------------------------------------------

    async def _xrpc(self, request: web.Request) -> web.Response:
        nsid = request.match_info["nsid"]
        handlers = {"com.atproto.server.createSession": ("POST", self._create_session),
                    "com.atproto.server.refreshSession": ("POST", self._refresh_session),
                    "com.atproto.repo.createRecord": ("POST", self._create_record),
                    "com.atproto.repo.getRecord": ("GET", self._get_record),
                    "com.atproto.repo.deleteRecord": ("POST", self._delete_record)}
        if nsid not in handlers:
            return _error(501, "MethodNotImplemented", "Method Not Implemented")
        method, handler = handlers[nsid]
        if request.method != method:
            return _error(400, "InvalidRequest", f"Incorrect HTTP method ({request.method}) expected {method}")
        try:
            if method == "POST":
                body = await request.json() if nsid != "com.atproto.server.refreshSession" else {}
                if nsid != "com.atproto.server.refreshSession":
                    lexicons().check_input(nsid, body)
            else:
                body = lexicons().check_params(nsid, request.query)
        except (ValueError, LexiconError) as exc:
            self.rejections.append({"nsid": nsid, "problem": str(exc)})
            return _error(400, "InvalidRequest", f"Input/{exc}" if isinstance(exc, LexiconError) else "Invalid JSON")
        short = nsid.rsplit(".", 1)[1]
        self.requests.append({"method": short, "body": {k: v for k, v in body.items() if k != "password"}})
        fault = self._faults.take(short)
        if fault and fault.kind == "rate_limited":
            reset = int(time.time()) + fault.retry_after
            return _error(429, "RateLimitExceeded", "Rate Limit Exceeded",
                          {"ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": str(reset),
                           "ratelimit-policy": "5000;w=3600"})
        if fault and fault.kind == "server_error":
            return _error(503, "InternalServerError", "Service Unavailable")
        if fault and fault.kind == "expired_token":
            return _error(401, "ExpiredToken", "Token has expired")
        if fault and fault.kind == "gone":
            return _error(400, "RecordNotFound", "Could not locate record")
        if fault and fault.kind == "too_long":
            return _error(400, "InvalidRequest",
                          f"Invalid {POST} record: Record/text must not be longer than 300 graphemes")
        response = await handler(request, body)
        if response.status == 200 and isinstance(response.body, bytes):
            lexicons().check_output(nsid, json.loads(response.body))  # a broken answer is a stand-in bug
        if fault and fault.kind == "timeout_after_accept" and response.status == 200:
            await asyncio.sleep(fault.delay)
        return response

    async def _create_session(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        identifier, password = body["identifier"], body["password"]
        account = next((a for a in self.accounts.values() if identifier in (a.handle, a.did)), None)
        if account is None or not account.app_password or not hmac.compare_digest(password, account.app_password):
            return _error(401, "AuthenticationRequired", "Invalid identifier or password")
        self.sessions_created += 1
        return web.json_response(self._session(account))

    async def _refresh_session(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        claims = self._claims(request, "com.atproto.refresh")
        if isinstance(claims, web.Response):
            return claims
        self._revoked.add(claims["jti"])  # a refresh token is good once
        self.sessions_refreshed += 1
        return web.json_response(self._session(self.accounts[claims["sub"]]))

    async def _create_record(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        account = self._writer(request, body["repo"])
        if isinstance(account, web.Response):
            return account
        collection, record = body["collection"], body["record"]
        rkey = body.get("rkey") or self._new_tid()
        try:
            lexicons().check_record(collection, record, rkey)
        except LexiconError as exc:
            self.rejections.append({"nsid": "createRecord", "problem": str(exc)})
            return _error(400, "InvalidRequest", f"Invalid {collection} record: {exc}")
        if (collection, rkey) in account.records:
            return _error(400, "InvalidRequest", f"Record already exists at at://{account.did}/{collection}/{rkey}")
        uri, cid = self._store(account, collection, rkey, record)
        if collection == POST:
            reply = record.get("reply") or {}
            self.replies.append({"uri": uri, "text": record["text"], "account": account.handle, "rkey": rkey,
                                 "parent": (reply.get("parent") or {}).get("uri"),
                                 "root": (reply.get("root") or {}).get("uri")})
        return web.json_response({"uri": uri, "cid": cid, "validationStatus": "valid"})

    async def _get_record(self, request: web.Request, params: dict[str, Any]) -> web.Response:
        repo = params["repo"]
        account = self.accounts.get(repo) or next((a for a in self.accounts.values() if a.handle == repo), None)
        found = account.records.get((params["collection"], params["rkey"])) if account else None
        uri = f"at://{repo}/{params['collection']}/{params['rkey']}"
        if account is None or found is None:
            return _error(400, "RecordNotFound", f"Could not locate record: {uri}")
        value, cid = found
        return web.json_response({"uri": f"at://{account.did}/{params['collection']}/{params['rkey']}", "cid": cid,
                                  "value": value})

    async def _delete_record(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        account = self._writer(request, body["repo"])
        if isinstance(account, web.Response):
            return account
        removed = account.records.pop((body["collection"], body["rkey"]), None)
        if removed is not None:
            uri = f"at://{account.did}/{body['collection']}/{body['rkey']}"
            for reply in self.replies:
                if reply["uri"] == uri:
                    reply["deleted"] = True
        return web.json_response({})

    # Tokens ------------------------------------------------------------------------------------------------

    def _session(self, account: Account) -> dict[str, Any]:
        now, jti = int(time.time()), secrets.token_hex(8)
        self._access_tokens.add(jti)
        access = self._jwt({"scope": "com.atproto.access", "sub": account.did, "iat": now,
                            "exp": now + self.access_lifetime, "jti": jti})
        refresh = self._jwt({"scope": "com.atproto.refresh", "sub": account.did, "iat": now,
                             "exp": now + 90 * 24 * 3600, "jti": secrets.token_hex(8)})
        return {"accessJwt": access, "refreshJwt": refresh, "handle": account.handle, "did": account.did,
                "active": True}

    def _jwt(self, claims: dict[str, Any]) -> str:
        header = _b64(json.dumps({"typ": "at+jwt", "alg": "HS256"}).encode())
        payload = _b64(json.dumps(claims).encode())
        signature = hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def _claims(self, request: web.Request, scope: str) -> dict[str, Any] | web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        parts = token.split(".")
        expected = hmac.new(self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest() \
            if len(parts) == 3 else b""
        if len(parts) != 3 or not hmac.compare_digest(_b64(expected), parts[2]):
            return _error(401, "InvalidToken", "Token could not be verified")
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        if claims.get("scope") != scope:
            return _error(400, "InvalidToken", "Bad token scope")
        if claims["exp"] < time.time() or claims["jti"] in self._revoked:
            return _error(401, "ExpiredToken", "Token has expired")
        return claims

    def _writer(self, request: web.Request, repo: str) -> Account | web.Response:
        claims = self._claims(request, "com.atproto.access")
        if isinstance(claims, web.Response):
            return claims
        account = self.accounts[claims["sub"]]
        if repo not in (account.did, account.handle):
            return _error(400, "InvalidRequest", "Invalid repo: not the authenticated account")
        return account

    # Repositories ------------------------------------------------------------------------------------------

    def _store(self, account: Account, collection: str, rkey: str, record: dict[str, Any]) -> tuple[str, str]:
        digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode() + rkey.encode()).digest()
        cid = "bafyrei" + base64.b32encode(digest).decode().lower().rstrip("=")
        account.records[(collection, rkey)] = (record, cid)
        return f"at://{account.did}/{collection}/{rkey}", cid

    def _new_tid(self) -> str:
        value = (int(time.time() * 1_000_000) << 10) | (next(self._clock_ids) & 0x3FF)
        return "".join(_TID_CHARS[(value >> shift) & 31] for shift in range(60, -1, -5))


def _error(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status, headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
