"""`review-watch run`, for users without cron: the bot plus a crawl every `crawl.interval` seconds, in one
process that takes its crawl down with it when it stops."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.spiders.fixture_server import FixtureServer, Reply
from tests.support.cli import start_review_watch
from tests.support.configs import source_block, write_config
from tests.support.pages import Review, trustpilot_page
from tests.telegram_standin.runner import StandInThread

ANNA = 1001
PAGE_PATH = "/review/acme.com"
FIRST = Review("rv-first", 1, "Acme lost my parcel and nobody answers the phone. Terrible service.")
SECOND = Review("rv-second", 1, "Acme charged me twice and the refund never came. Awful, never again.")


def crawls_of(config: Path) -> list[int]:
    """Process ids of `review-watch crawl` runs with this config, as Linux lists them."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:  # the process ended while we looked
            continue
        if b"crawl" in words and str(config).encode() in words:
            found.append(int(cmdline.parent.name))
    return found


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def test_run_crawls_on_its_interval_delivers_and_stops_its_crawl_with_itself(tmp_path: Path) -> None:
    released = threading.Event()
    standin = StandInThread()
    telegram = standin.start()
    with FixtureServer() as site:
        site.routes[PAGE_PATH] = Reply(trustpilot_page([FIRST]), "text/html")
        config = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}", api_url=telegram.api_url,
                              token=telegram.token, sources=source_block("acme-tp", "trustpilot", site.url(PAGE_PATH)))
        config.write_text(config.read_text().replace("autothrottle = false\n",
                                                     "autothrottle = false\ninterval = 2\n"))
        log = tmp_path / "run.log"
        run = start_review_watch("run", config=config, log=log)
        try:
            # the first crawl runs at start, the alert goes out
            telegram.wait_for("sendMessage", count=1, chat_id=ANNA, timeout=180)
            site.routes[PAGE_PATH] = Reply(trustpilot_page([SECOND, FIRST]), "text/html")
            # a later crawl, on the interval, finds the new review
            telegram.wait_for("sendMessage", count=2, chat_id=ANNA, timeout=180)
            texts = [sent["text"] for sent in telegram.sent(chat_id=ANNA, method="sendMessage")]
            assert [sum(review.text in text for text in texts) for review in (FIRST, SECOND)] == [1, 1]

            site.routes[PAGE_PATH] = Reply(trustpilot_page([SECOND, FIRST]), "text/html", released=released)
            hits = len(site.hits_for(PAGE_PATH))
            wait_until(lambda: len(site.hits_for(PAGE_PATH)) > hits, 60, "a crawl waiting on the slow page")
            assert crawls_of(config), "a crawl must be running for the stop to mean anything"
            run.send_signal(signal.SIGTERM)
            assert run.wait(timeout=60) == 0, log.read_text(encoding="utf-8")[-3000:]
            assert crawls_of(config) == []
            assert "Traceback" not in log.read_text(encoding="utf-8")
        finally:
            released.set()
            if run.poll() is None:
                run.kill()
                run.wait()
            for pid in crawls_of(config):
                with contextlib.suppress(ProcessLookupError):  # it may end on its own meanwhile
                    os.kill(pid, signal.SIGKILL)
            standin.stop()
