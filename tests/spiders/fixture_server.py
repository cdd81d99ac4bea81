"""A loopback HTTP server that answers like the platforms, from the recorded fixtures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Reply:
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    released: threading.Event | None = None  # when given, the reply waits until it is set (at most 300 s)
    hang_up: bool = False  # close the connection without answering


@dataclass
class Hit:
    method: str
    path: str  # with the query
    form: dict[str, list[str]]
    at: float


Route = Reply | Callable[[Hit], Reply]


class FixtureServer:
    """Routes are keyed by "path?query" (exact) or by path alone; the text "{base}" in bodies and
    headers is replaced by this server's own address, so next links point back at it."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FixtureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def hits_for(self, prefix: str) -> list[Hit]:
        with self._lock:
            return [hit for hit in self.hits if hit.path.startswith(prefix)]

    def _reply(self, hit: Hit) -> Reply:
        path = unquote(hit.path)
        route = self.routes.get(path) or self.routes.get(urlsplit(path).path)
        if route is None:
            return Reply(b"not found", "text/plain", 404)
        return route(hit) if callable(route) else route

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode("utf-8")) if length else {}
                hit = Hit(method, self.path, form, time.monotonic())
                with server._lock:
                    server.hits.append(hit)
                reply = server._reply(hit)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.released is not None:
                    reply.released.wait(timeout=300)
                if reply.hang_up:
                    self.close_connection = True
                    return
                body = reply.body.replace(b"{base}", server.base.encode())
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value.replace("{base}", server.base))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        return Handler
