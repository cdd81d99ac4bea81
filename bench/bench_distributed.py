"""Many-machine benchmark (not a test): crawls as Scrapyd jobs on one and on two nodes, and triage workers.

1. Crawl throughput: every recorded fixture source (../shared/fixtures) served on loopback, crawled into a fresh
   PostgreSQL database (a) in-process by `run_crawl`, the single-machine path, (b) as Scrapyd jobs on one
   node and (c) on two nodes, through `crawl_on_scrapyd` (scheduling, following and the summaries included).
   The two Scrapyd daemons (PyPI's `scrapyd`) run on this machine, each in its own folder and port, the
   project deployed to them by `scrapyd-deploy`. AutoThrottle and the download delay are off.
2. Triage backlog rate: --backlog stored, unjudged mentions classified, routed and queued by one
   `review-watch triage` worker process, then by two at once (each loads the model itself).

    python bench/bench_distributed.py [--postgres-url URL] [--backlog 2000] [--model builtin]

Needs PostgreSQL (--postgres-url or REVIEW_WATCH_TEST_POSTGRES_URL) and `pip install -e '.[dev]'` (scrapyd,
scrapyd-client). Two Scrapyd nodes on one machine share its cores: the figures show what the scheduling
costs and whether the jobs spread, not what two machines would gain.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from machine import describe_machine

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the fixture routes live in tests/spiders

BIN = Path(sys.executable).parent


def crawl_child(config_path: str, nodes: str) -> None:
    """One crawl in its own process (Twisted's reactor cannot restart): prints seconds and stored counts."""
    from review_watch.config import load_config
    from review_watch.entrypoints.bootstrap import App
    from review_watch.entrypoints.crawl_runner import run_crawl
    from review_watch.entrypoints.scrapyd_crawl import crawl_on_scrapyd

    app = App(load_config(Path(config_path)))
    app.sessions  # noqa: B018 - migrate and sync the config before the clock starts
    started = time.perf_counter()
    if nodes:
        summaries = crawl_on_scrapyd(app, app.coordination, nodes.split(","), Path(config_path))
    else:
        summaries = run_crawl(app.config, app.sessions, app.clock, locks=app.coordination)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "pages": sum(s.figures.pages for s in summaries),
                      "new": sum(s.figures.new for s in summaries)}))


def triage_child(config_path: str) -> None:
    from review_watch.config import load_config
    from review_watch.entrypoints.bootstrap import App
    from review_watch.entrypoints.triage_worker import triage_backlog

    app = App(load_config(Path(config_path)))
    app.sessions  # noqa: B018
    app.classifier  # noqa: B018 - the model loads before the clock starts
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    figures = triage_backlog(app, lambda: app.classifier)
    print(json.dumps({"seconds": time.perf_counter() - started, "classified": figures.classified}), flush=True)


@contextmanager
def database(server_url: str) -> Iterator[str]:
    import uuid

    from sqlalchemy import create_engine, text

    from review_watch.storage.database import normalise_url

    name = f"rw_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def scrapyd_nodes(folder: Path, count: int) -> Iterator[list[str]]:
    from tests.e2e.test_scrapyd_crawl import deploy, start_scrapyd

    started = [start_scrapyd(folder / f"scrapyd-{n}") for n in range(count)]
    try:
        urls = [url for _, url in started]
        deploy(folder / "project", urls)
        yield urls
    finally:
        for daemon, _ in started:
            daemon.terminate()
            daemon.wait(timeout=30)


def run_child(*args: str, timeout: float = 900) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def bench_crawl(server_url: str, folder: Path) -> list[tuple[str, dict[str, float]]]:
    from tests.spiders.fixture_server import FixtureServer
    from tests.spiders.fixture_sources import good_sources, install_routes
    from tests.support.configs import source_block, write_config

    results = []
    with FixtureServer() as server, scrapyd_nodes(folder, 2) as urls:
        install_routes(server)
        sources = "".join(source_block(s.name, s.type, server.url(s.path), s.brand) for s in good_sources())
        for label, nodes in (("in-process (run_crawl)", ""), ("Scrapyd, 1 node", urls[0]),
                             ("Scrapyd, 2 nodes", ",".join(urls))):
            with database(server_url) as url:
                run = folder / label.replace(" ", "-").replace(",", "").replace("(", "").replace(")", "")
                run.mkdir()
                config = write_config(run, database_url=url, sources=sources)  # no delay, no AutoThrottle
                results.append((label, run_child("crawl", str(config), nodes)))
                print(f"  {label}: {results[-1][1]}", flush=True)
    return results


def bench_triage(server_url: str, folder: Path, backlog: int, model: str) -> list[tuple[int, float, float]]:
    from review_watch.config import load_config
    from review_watch.domain.mentions import MentionItem
    from review_watch.entrypoints.bootstrap import App
    from review_watch.services.ingest import store_mention
    from tests.support.configs import source_block, write_config

    results = []
    for workers in (1, 2):
        with database(server_url) as url:
            run = folder / f"triage-{workers}"
            run.mkdir()
            config = write_config(run, database_url=url, model=model,
                                  sources=source_block("acme-tp", "trustpilot", "http://127.0.0.1:9/acme"))
            app = App(load_config(config))
            with app.unit_of_work() as uow:
                for number in range(backlog):
                    text = (f"Order {number}: " + ("the courier never came and nobody answers, terrible"
                                                   if number % 3 == 0 else "quick delivery, nice people"))
                    store_mention(uow, MentionItem(
                        source="acme-tp", source_type="trustpilot", external_id=f"r{number}", url=None,
                        author=f"author {number}", published_at=datetime(2026, 11, 20, tzinfo=UTC), rating=None,
                        rating_max=None, title=None, text=text, language="en", brand="Acme"), "Acme", app.clock)
            app.engine.dispose()
            children = [subprocess.Popen([sys.executable, __file__, "triage", str(config)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
                        for _ in range(workers)]
            for child in children:
                assert child.stdout is not None and child.stdout.readline().strip() == "ready"
            started = time.perf_counter()
            for child in children:
                assert child.stdin is not None
                child.stdin.write("go\n")
                child.stdin.flush()
            outputs = [json.loads(child.communicate(timeout=1800)[0].strip().splitlines()[-1]) for child in children]
            seconds = time.perf_counter() - started
            classified = sum(int(o["classified"]) for o in outputs)
            assert classified == backlog, outputs
            results.append((workers, seconds, classified / seconds))
            print(f"  {workers} worker(s): {backlog} in {seconds:.1f} s ({classified / seconds:.0f}/s)", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=os.environ.get("REVIEW_WATCH_TEST_POSTGRES_URL"))
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--model", default="builtin")
    args = parser.parse_args()
    if not args.postgres_url:
        raise SystemExit("give --postgres-url or set REVIEW_WATCH_TEST_POSTGRES_URL")
    print(describe_machine(), flush=True)
    folder = Path(tempfile.mkdtemp(prefix="rw-bench-distributed-"))
    try:
        crawls = bench_crawl(args.postgres_url, folder)
        triage = bench_triage(args.postgres_url, folder, args.backlog, args.model)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("\n| crawl of every fixture source | time | pages/s | stored/s |\n|---|---:|---:|---:|")
    for label, figures in crawls:
        print(f"| {label} | {figures['seconds']:.1f} s | {figures['pages'] / figures['seconds']:.1f} | "
              f"{figures['new'] / figures['seconds']:.0f} |")
    print("\n| triage workers | backlog | time | mentions/s |\n|---|---:|---:|---:|")
    for workers, seconds, rate in triage:
        print(f"| {workers} | {args.backlog:,} | {seconds:.1f} s | {rate:.0f} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "crawl":
        crawl_child(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "triage":
        triage_child(sys.argv[2])
    else:
        main()
