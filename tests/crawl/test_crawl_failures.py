"""What a cron log shows when hosts cannot be reached: one line per failure naming the source, the URL and the
reason, the per-source summary, and no traceback unless `--verbose` asks for them."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.crawl.support import counts, crawl_config, summary_lines
from tests.spiders.fixture_server import FixtureServer, Reply
from tests.spiders.fixture_sources import Source
from tests.support.cli import review_watch
from tests.support.pages import Review, app_store_atom_page, trustpilot_page

HTML = "text/html; charset=utf-8"
FEED = "/us/rss/customerreviews/id=1/sortby=mostrecent/xml"
NOWHERE = "http://reviews.nowhere.invalid"  # a reserved name that never resolves
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR) \S+: \S")


@pytest.fixture
def servers() -> Iterator[tuple[FixtureServer, FixtureServer]]:
    with FixtureServer() as main, FixtureServer() as rude:
        main.routes["/robots.txt"] = Reply(b"User-agent: *\nAllow: /\n", "text/plain")
        # The feed's next page is on a host that does not resolve.
        main.routes[FEED] = Reply(app_store_atom_page([Review("1001", 2, "Slow since the update.")], app_id="1",
                                                      next_url=f"{NOWHERE}/page2"), "application/atom+xml")
        # A site whose robots.txt never answers (the connection is closed) but whose pages do.
        rude.routes["/robots.txt"] = Reply(b"", hang_up=True)
        rude.routes["/review/rude.example"] = Reply(trustpilot_page([Review("6d00000000000000000000d1", 4, "Fine.")]),
                                                    HTML)
        yield main, rude


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_hosts_give_one_line_each_and_no_traceback(
        tmp_path: Path, servers: tuple[FixtureServer, FixtureServer]) -> None:
    main, rude = servers
    refused = f"http://127.0.0.1:{closed_port()}"
    tls = main.base.replace("http://", "https://")  # TLS spoken to a plain HTTP server
    config = crawl_config(tmp_path, f"sqlite:///{tmp_path / 'rw.db'}", main,
                          [Source("acme-appstore", "appstore", FEED, ())],
                          crawl={"download_timeout": 5, "retries": 1, "retry_wait": 0.1})
    with config.open("a", encoding="utf-8") as out:
        for name, url in [("acme-refused", f"{refused}/review/acme.com"), ("acme-tls", f"{tls}/review/acme.com"),
                          ("acme-rude", f"{rude.base}/review/rude.example")]:
            out.write(f'\n[[sources]]\nname = "{name}"\ntype = "trustpilot"\nurl = "{url}"\nbrand = "Acme"\n')

    run = review_watch("crawl", config=config, check=False)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert [line for line in run.stderr.splitlines() if not LOG_LINE.match(line)] == []
    failures = {  # (source, URL): the reason its one line gives
        ("acme-appstore", f"{NOWHERE}/robots.txt"): "DNS lookup failed",
        ("acme-appstore", f"{NOWHERE}/page2"): "DNS lookup failed",
        ("acme-refused", f"{refused}/robots.txt"): "Connection was refused",
        ("acme-refused", f"{refused}/review/acme.com"): "Connection was refused",
        ("acme-tls", f"{tls}/robots.txt"): "TLS handshake failed",
        ("acme-tls", f"{tls}/review/acme.com"): "TLS handshake failed",
        ("acme-rude", f"{rude.base}/robots.txt"): "Connection was closed",
    }
    for (source, url), reason in failures.items():
        lines = [line for line in run.stderr.splitlines() if f"{url}:" in line]
        assert len(lines) == 1, (url, lines)
        assert f"{source}: cannot fetch {url}: " in lines[0] and reason in lines[0], lines[0]

    summary = summary_lines(run.stdout)
    assert summary["acme-appstore"].endswith(f"— FAILED: cannot fetch {NOWHERE}/page2: DNS lookup failed: "
                                             "no results for hostname lookup: reviews.nowhere.invalid")
    assert counts(summary["acme-appstore"])["new"] == 1  # the first page was stored all the same
    assert "FAILED: cannot fetch" in summary["acme-refused"] and "TLS handshake" in summary["acme-tls"]
    assert counts(summary["acme-rude"])["new"] == 1 and summary["acme-rude"].endswith("— ok")

    verbose = review_watch("crawl", "--verbose", "--source", "acme-refused", config=config, check=False)
    assert verbose.returncode == 1
    assert "Traceback (most recent call last)" in verbose.stderr
    # [crawl] retries = 1: two tries in all, then the one line
    assert "Gave up retrying" in verbose.stderr and "(failed 2 times)" in verbose.stderr
    assert "(failed 3 times)" not in verbose.stderr and "(failed 4 times)" not in verbose.stderr
