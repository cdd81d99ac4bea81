"""`review-watch crawl` from cron: overlapping runs, the time budget, and what it shows while it works."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.crawl.support import counts, crawl_config, export, log_time, summary_lines
from tests.spiders.fixture_server import FixtureServer, Reply
from tests.spiders.fixture_sources import Source
from tests.support.cli import review_watch, start_review_watch
from tests.support.pages import Review, trustpilot_page

HTML = "text/html; charset=utf-8"
SLOW = [Review("6b00000000000000000000b1", 2, "Slow to answer, as usual."),
        Review("6b00000000000000000000b2", 5, "Fine in the end.")]
QUICK = [Review("6c00000000000000000000c1", 4, "Quick and friendly."),
         Review("6c00000000000000000000c2", 3, "Okay.")]
SOURCES = [Source("acme-slow", "trustpilot", "/review/slow.example", ()),
           Source("acme-quick", "trustpilot", "/review/quick.example", ())]
LOCKED = "skipped (another crawl of this source is running)"


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as running:
        running.routes["/robots.txt"] = Reply(b"User-agent: *\nAllow: /\n", "text/plain")
        running.routes["/review/quick.example"] = Reply(trustpilot_page(QUICK), HTML)
        yield running


def wait_for(path: Path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(encoding="utf-8"):
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared in {path}")


def test_a_second_crawl_skips_the_sources_another_run_is_crawling(tmp_path: Path, server: FixtureServer) -> None:
    # The slow page is answered only once the other runs are done, however long a loaded machine takes.
    released = threading.Event()
    server.routes["/review/slow.example"] = Reply(trustpilot_page(SLOW), HTML, released=released)
    config = crawl_config(tmp_path, f"sqlite:///{tmp_path / 'rw.db'}", server, SOURCES,
                          crawl={"download_timeout": 300})
    log = tmp_path / "first.log"
    first = start_review_watch("crawl", "--source", "acme-slow", config=config, log=log)
    try:
        wait_for(log, "crawling 1 sources")  # its locks are taken

        all_locked = review_watch("crawl", "--source", "acme-slow", config=config, check=False)
        assert all_locked.returncode == 0, all_locked.stderr[-2000:]
        assert summary_lines(all_locked.stdout) == {"acme-slow": LOCKED}
        assert "nothing new stored" in all_locked.stdout

        partly = review_watch("crawl", config=config, check=False)  # every source: the quick one is free
        assert partly.returncode == 0, partly.stderr[-2000:]
        lines = summary_lines(partly.stdout)
        assert lines["acme-slow"] == LOCKED
        assert counts(lines["acme-quick"])["new"] == 2 and lines["acme-quick"].endswith("— ok")
        for run in (all_locked, partly):
            assert "Traceback" not in run.stderr
            assert "acme-slow: skipped: another crawl of this source is running" in run.stderr
        assert first.poll() is None, "the first run must still be crawling for this test to mean anything"
        released.set()
        assert first.wait(timeout=120) == 0
    finally:
        released.set()
        if first.poll() is None:
            first.kill()
            first.wait()
    assert counts(summary_lines(log.read_text(encoding="utf-8"))["acme-slow"])["new"] == 2
    assert len(server.hits_for("/review/slow.example")) == 1  # only the first run fetched it
    rows = export(config)
    assert sorted((r["source"], r["external_id"]) for r in rows) == sorted(
        [("acme-slow", r.id) for r in SLOW] + [("acme-quick", r.id) for r in QUICK])


def test_the_time_budget_cuts_a_stalled_source_off_and_names_it(tmp_path: Path, server: FixtureServer) -> None:
    server.routes["/review/slow.example"] = Reply(trustpilot_page(SLOW), HTML, delay=60)
    config = crawl_config(tmp_path, f"sqlite:///{tmp_path / 'rw.db'}", server, SOURCES, crawl={"time_budget": 3})
    run = review_watch("crawl", config=config, check=False)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    lines = summary_lines(run.stdout)
    assert re.search(r"— FAILED: (stopped at the crawl's time budget \(3 s\)|cannot fetch .*: timed out)",
                     lines["acme-slow"]), lines["acme-slow"]
    assert counts(lines["acme-quick"])["new"] == 2 and lines["acme-quick"].endswith("— ok")
    took = log_time(run.stderr, "acme-slow: done") - log_time(run.stderr, "crawling 2 sources")
    assert took < timedelta(seconds=3 + 3), took
    # Not a terminal: plain log lines, one per source as it finishes, and no redrawn status line.
    assert "acme-quick: done, 1 pages, 2 items, 2 new" in run.stderr
    assert "\x1b[K" not in run.stderr and "sources]" not in run.stderr


def test_on_a_terminal_a_status_line_shows_each_source_s_progress(tmp_path: Path, server: FixtureServer) -> None:
    server.routes["/review/slow.example"] = Reply(trustpilot_page(SLOW), HTML, delay=3)
    config = crawl_config(tmp_path, f"sqlite:///{tmp_path / 'rw.db'}", server, SOURCES)
    terminal, terminal_side = pty.openpty()
    crawl = subprocess.Popen(
        [sys.executable, "-m", "review_watch.entrypoints.cli", "crawl", "--config", str(config)], cwd=REPO,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal_side, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "300"})
    os.close(terminal_side)
    shown = bytearray()
    try:
        while True:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # the process closed its end
                break
            if not chunk:
                break
            shown += chunk
        stdout, _ = crawl.communicate(timeout=120)
    finally:
        os.close(terminal)
        if crawl.poll() is None:
            crawl.kill()
    screen = shown.decode("utf-8", "replace")
    assert crawl.returncode == 0, screen[-2000:]
    assert "Traceback" not in screen
    # The status line, redrawn in place while the slow source is still running ...
    assert re.search(r"\r\x1b\[K\[1/2 sources\] 1 pages, 2 items, 2 new \| running: acme-slow 0p/0i", screen), screen
    # ... and a line for each source as it finishes; the status line is gone at the end.
    assert "acme-quick: done, 1 pages, 2 items, 2 new\r\n" in screen
    assert "acme-slow: done, 1 pages, 2 items, 2 new\r\n" in screen
    assert "4 new mentions stored" in stdout
