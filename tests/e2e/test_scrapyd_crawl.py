"""`review-watch crawl --scrapyd`: the crawls run as jobs on two Scrapyd daemons (PyPI's `scrapyd`, each in its
own folder and port on loopback), the project deployed to them as an egg by scrapyd-client's `scrapyd-deploy`,
storing into one PostgreSQL database; the export is the in-process crawl's."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest

from tests.conftest import POSTGRES_ENV, REPO
from tests.crawl.support import BRANDS, crawl_config, export, summary_lines
from tests.crawl.test_all_sources import ONE_PER_TYPE
from tests.spiders.fixture_server import FixtureServer
from tests.spiders.fixture_sources import bad_sources, good_sources, install_routes
from tests.support.cli import review_watch

BIN = Path(sys.executable).parent
SCRAPYD_CONF = """[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
eggs_dir = eggs
logs_dir = logs
items_dir =
dbs_dir = dbs
max_proc = 4
poll_interval = 0.2
"""
# What an export row says about the review and its judgement; its id, arrival, deadline and assignee depend
# on the order in which the sources were stored and routed.
SAME_FIELDS = ("source", "source_type", "external_id", "url", "author", "published_at", "rating", "rating_max",
               "title", "text", "language", "brand", "sentiment", "sentiment_score", "negative", "unsure")

pytestmark = pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason=f"{POSTGRES_ENV} is not set")


def judged_alike(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> None:
    """The same rows; scores to 1e-4, since the model judges the mentions in batches made up in the order they
    were stored, and padding moves a score in its last digits (float32 here, as bfloat16 would move more)."""
    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return row["source"], row["external_id"]

    assert [key(r) for r in sorted(first, key=key)] == [key(r) for r in sorted(second, key=key)]
    for one, other in zip(sorted(first, key=key), sorted(second, key=key), strict=True):
        assert {f: one[f] for f in SAME_FIELDS if f != "sentiment_score"} == {
            f: other[f] for f in SAME_FIELDS if f != "sentiment_score"}, key(one)
        assert one["sentiment_score"] == pytest.approx(other["sentiment_score"], abs=1e-4), key(one)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_scrapyd(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    folder.mkdir()
    port = free_port()
    (folder / "scrapyd.conf").write_text(SCRAPYD_CONF.format(port=port), encoding="utf-8")
    daemon = subprocess.Popen([str(BIN / "scrapyd")], cwd=folder, stdout=subprocess.DEVNULL,
                              stderr=open(folder / "scrapyd.log", "wb"))  # noqa: SIM115 - the daemon's
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urlopen(f"{url}/daemonstatus.json", timeout=2) as answer:
                if json.loads(answer.read())["status"] == "ok":
                    return daemon, url
        except OSError:
            assert daemon.poll() is None and time.monotonic() < deadline, (folder / "scrapyd.log").read_text()
            time.sleep(0.2)


def deploy(project: Path, urls: list[str]) -> None:
    """`scrapyd-deploy -a` from a copy of the project (it writes a setup.py and a build folder beside
    scrapy.cfg), with a [deploy:NAME] target per node."""
    for name in ("review_watch", "spiders", "sentiment", "bot", "replies"):  # pyproject's packages
        shutil.copytree(REPO / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", project)
    targets = "".join(f"\n[deploy:node{n}]\nurl = {url}\nproject = review_watch\n" for n, url in enumerate(urls))
    (project / "scrapy.cfg").write_text((REPO / "scrapy.cfg").read_text(encoding="utf-8") + targets,
                                        encoding="utf-8")
    done = subprocess.run([str(BIN / "scrapyd-deploy"), "-a", "--version", "1"], cwd=project, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[list[str]]:
    started = [start_scrapyd(tmp_path / f"scrapyd-{n}") for n in (1, 2)]
    try:
        urls = [url for _, url in started]
        deploy(tmp_path / "project", urls)
        yield urls
    finally:
        for daemon, _ in started:
            daemon.terminate()
            daemon.wait(timeout=30)


def finished_jobs(url: str) -> list[dict[str, Any]]:
    with urlopen(f"{url}/listjobs.json?project=review_watch", timeout=10) as answer:
        return list(json.loads(answer.read())["finished"])


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_scrapyd_jobs_store_what_an_in_process_crawl_stores(tmp_path: Path, nodes: list[str],
                                                           database_url: str) -> None:
    by_name = {s.name: s for s in good_sources() + bad_sources()}
    sources = [by_name[n] for n in ONE_PER_TYPE] + [by_name["bad-truncated"]]
    with FixtureServer() as server:
        install_routes(server)
        (tmp_path / "jobs").mkdir()
        (tmp_path / "local").mkdir()
        on_scrapyd = crawl_config(tmp_path / "jobs", database_url, server, sources, brands=BRANDS)
        in_process = crawl_config(tmp_path / "local", f"sqlite:///{tmp_path / 'local' / 'rw.db'}", server,
                                  sources, brands=BRANDS)
        for config in (on_scrapyd, in_process):
            config.write_text(config.read_text(encoding="utf-8").replace(
                'model = "builtin"\n', 'model = "builtin"\nprecision = "float32"\n', 1), encoding="utf-8")
        scheduled = review_watch("crawl", "--scrapyd", ",".join(nodes), config=on_scrapyd, check=False,
                                 timeout=900)
        local = review_watch("crawl", config=in_process, check=False, timeout=900)

    assert "Traceback" not in scheduled.stderr
    assert scheduled.returncode == local.returncode == 1, scheduled.stderr[-3000:]  # bad-truncated fails
    assert summary_lines(scheduled.stdout) == summary_lines(local.stdout)
    assert set(summary_lines(scheduled.stdout)) == {s.name for s in sources}
    stored = export(on_scrapyd)
    assert stored, "the jobs stored nothing"
    judged_alike(stored, export(in_process))
    assert len({(r["source"], r["external_id"]) for r in stored}) == len(stored)  # nothing doubled

    jobs = [finished_jobs(url) for url in nodes]
    assert all(jobs), f"both nodes should have run jobs: {[len(j) for j in jobs]}"
    assert sorted(job["spider"] for node in jobs for job in node) == sorted(s.type for s in sources)
