"""What the stand-ins share: requests and answers checked against an OpenAPI file with openapi-core, and faults
injected on demand.

Faults (`Faults.add(kind, count, method)`), each answered in the platform's own error format:
rate_limited (429), expired_token (401), gone (404: the review was deleted), too_long (the platform's
too-long refusal), timeout_after_accept (the request is done and counted, then the answer is held back
longer than the client waits)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from multidict import CIMultiDict, MultiDict
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters

FAULT_KINDS = frozenset({"rate_limited", "expired_token", "gone", "too_long", "timeout_after_accept"})


class SpecRequest:
    """An aiohttp request as openapi-core reads it, addressed to the spec's own server (the stand-in listens on
    loopback) and with its path as the spec writes it (`path_for_spec`)."""

    def __init__(self, request: web.Request, body: bytes, server_url: str, path: str) -> None:
        self.host_url = server_url.rstrip("/")
        self.path = path
        self.method = request.method.lower()
        self.body = body or None
        self.content_type = request.content_type if body else ""
        self.parameters = RequestParameters(query=MultiDict(request.query), header=CIMultiDict(request.headers),
                                            cookie=MultiDict(request.cookies))


class SpecResponse:
    def __init__(self, response: web.Response) -> None:
        self.data = response.body if isinstance(response.body, bytes) else b""
        self.status_code = response.status
        self.content_type = response.content_type if self.data else ""
        self.headers = CIMultiDict(response.headers)


class SpecChecker:
    """One OpenAPI document, read in place from ../shared/platform-apis/."""

    def __init__(self, path: Path, path_for_spec: Callable[[str], str] = lambda path: path) -> None:
        self.openapi = OpenAPI.from_file_path(str(path))
        self.server_url = str(self.openapi.spec["servers"][0]["url"])
        self.path_for_spec = path_for_spec

    def request(self, request: web.Request, body: bytes) -> SpecRequest:
        return SpecRequest(request, body, self.server_url, self.path_for_spec(request.path))

    def request_problem(self, spec_request: SpecRequest) -> str | None:
        """Why the spec refuses the request, or None."""
        try:
            self.openapi.validate_request(spec_request)
        except Exception as exc:  # openapi-core raises a family of errors; each is a refusal here
            cause = exc.__cause__
            return f"{type(exc).__name__}: {exc}" + (f" ({cause})" if cause else "")
        return None

    def response_problem(self, spec_request: SpecRequest, response: web.Response) -> str | None:
        """Why the stand-in's own answer does not match the spec (a bug in the stand-in), or None."""
        try:
            self.openapi.validate_response(spec_request, SpecResponse(response))
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return None


@dataclass
class _Pending:
    kind: str
    count: int
    method: str | None


class Faults:
    """Faults waiting for the next matching requests; set from the test's thread, taken in the server's."""

    def __init__(self) -> None:
        self._pending: list[_Pending] = []
        self._lock = threading.Lock()

    def add(self, kind: str, count: int = 1, method: str | None = None) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(FAULT_KINDS)}")
        with self._lock:
            self._pending.append(_Pending(kind, count, method.upper() if method else None))

    def take(self, method: str) -> str | None:
        """The fault for a request of this method, used up; None when none waits for it."""
        with self._lock:
            for pending in self._pending:
                if pending.method in (None, method) and pending.count > 0:
                    pending.count -= 1
                    if pending.count == 0:
                        self._pending.remove(pending)
                    return pending.kind
        return None

