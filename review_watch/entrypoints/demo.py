"""`review-watch demo`: the whole pipeline offline on the bundled sample pages, no token, no network."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.entrypoints.crawl_runner import configure_crawl_logging, crawl_then_triage
from review_watch.services.delivery import pending

PAGES = Path(__file__).with_name("demo_pages")

DEMO_CONFIG = """\
# Review Watch demo: the bundled sample pages, served on this machine.
[database]
url = "sqlite:///review-watch-demo.db"

[sentiment]
model = "builtin"
competitors = ["Globex", "Initech"]

[[calendars]]
name = "stockholm"
timezone = "Europe/Stockholm"
hours = {{ mon = ["09:00-18:00"], tue = ["09:00-18:00"], wed = ["09:00-18:00"],
          thu = ["09:00-18:00"], fri = ["09:00-17:00"] }}
holidays = "SE"

[sla]
calendar = "stockholm"
response = "1 business day"
remind_at = 0.75

[[brands]]
name = "Acme"
aliases = ["Acme", "acme.example", "Акме"]

[[sources]]
name = "acme-trustpilot"
type = "trustpilot"
url = "http://127.0.0.1:{port}/review/acme.example"
brand = "Acme"

[[staff]]
name = "Anna"
telegram_id = 1001
role = "agent"
languages = ["en", "sv", "de"]

[[staff]]
name = "Boris"
telegram_id = 1002
role = "agent"
languages = ["ru", "en"]
locale = "ru"

[[staff]]
name = "Leila"
telegram_id = 1003
role = "agent"
languages = ["ar", "he", "en"]

[[staff]]
name = "Lena"
telegram_id = 1004
role = "lead"
languages = ["en", "sv"]

[crawl]
download_delay = 0     # the sample pages are served by the demo itself
autothrottle = false
"""


class _SamplePages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        url = urlsplit(self.path)
        if url.path == "/robots.txt":
            self._answer(200, b"User-agent: *\nAllow: /\n", "text/plain")
            return
        page = parse_qs(url.query).get("page", ["1"])[0]
        sample = PAGES / f"trustpilot-acme-page{page}.html"
        if url.path != "/review/acme.example" or not sample.is_file():
            self._answer(404, b"not found", "text/plain")
            return
        self._answer(200, sample.read_bytes(), "text/html; charset=utf-8")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the demo prints its own summary."""


@contextmanager
def serve_sample_pages() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SamplePages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def run_demo(directory: Path | None = None) -> int:
    from bot.messages import render_for_terminal

    workdir = directory or Path(tempfile.mkdtemp(prefix="review-watch-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    configure_crawl_logging(verbose=False)
    with serve_sample_pages() as port:
        config_path = workdir / "review-watch.toml"
        config_path.write_text(DEMO_CONFIG.format(port=port), encoding="utf-8")
        app = App(load_config(config_path))
        print(f"Demo config and database in {workdir}")
        print(f"Crawling the bundled sample pages on http://127.0.0.1:{port}/, then classifying with the builtin "
              "multilingual model ...")
        summaries, figures = crawl_then_triage(app)
    for summary in summaries:
        print(f"  {summary.line()}")
    print(f"  {figures.classified} classified, {figures.negative} negative, {figures.cases_opened} cases opened")
    with app.unit_of_work() as uow:
        messages = pending(uow, app.config, app.clock(), limit=1000)
        print(f"\n{len(messages)} alerts queued. This is what staff would receive in Telegram:\n")
        for message in messages:
            print(render_for_terminal(app.config, message, app.clock()))
            print("-" * 72)
    print(f"See everything stored: review-watch --config {config_path} export")
    return 0
