"""`review-watch crawl --scrapyd URL[,URL...]`: the sources' crawls as Scrapyd jobs, spread over the nodes.

Each job is one spider for one source (`scrapy crawl TYPE -a source=NAME` on the node, with the config named by
the REVIEW_WATCH_CONFIG setting), storing through the same pipeline into the shared database and recording its
source's run under the job's id (spiders/run_record.py). This process holds the per-source locks while the
jobs run, follows them through `listjobs.json` and prints the same per-source summary as an in-process crawl.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from review_watch.config import ConfigError, SourceConfig
from review_watch.entrypoints.bootstrap import App
from review_watch.entrypoints.crawl_runner import LOCKED_REASON, SourceSummary
from review_watch.services.health import check_source_health
from review_watch.services.ingest import SourceRunFigures, recorded_run
from review_watch.storage.coordination import Coordination
from spiders.from_config import CONFIG_SETTING
from spiders.run_record import RUN_SETTING

log = logging.getLogger(__name__)

PROJECT = "review_watch"  # the Scrapyd project the egg is deployed as (scrapy.cfg's [deploy] project)
START_GRACE = 120.0  # seconds beyond the time budget a job may take to start and stop on a busy node
POLL_INTERVAL = 0.5


class ScrapydError(Exception):
    """A Scrapyd node refused a request or cannot be reached; one line naming the node."""


@dataclass
class ScrapydNode:
    url: str
    timeout: float = 30.0

    def call(self, endpoint: str, query: dict[str, str] | None = None,
             form: Sequence[tuple[str, str]] | None = None) -> dict[str, Any]:
        address = f"{self.url.rstrip('/')}/{endpoint}" + (f"?{urlencode(query)}" if query else "")
        request = Request(address, data=urlencode(form).encode() if form is not None else None)
        try:
            with urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read().decode("utf-8"))
        except HTTPError as exc:
            raise ScrapydError(f"Scrapyd at {self.url}: {endpoint} answered HTTP {exc.code}") from None
        except (URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ScrapydError(f"Scrapyd at {self.url} cannot be reached: {reason}") from None
        except ValueError:
            raise ScrapydError(f"Scrapyd at {self.url}: {endpoint} did not answer JSON") from None
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            message = answer.get("message", answer) if isinstance(answer, dict) else answer
            raise ScrapydError(f"Scrapyd at {self.url}: {endpoint}: {' '.join(str(message).split())[:300]}")
        return answer

    def load(self) -> int:
        status = self.call("daemonstatus.json")
        return int(status.get("pending", 0)) + int(status.get("running", 0))

    def schedule(self, source: SourceConfig, job: str, config_path: Path) -> None:
        self.call("schedule.json", form=[
            ("project", PROJECT), ("spider", source.type), ("jobid", job), ("source", source.name),
            ("setting", f"{CONFIG_SETTING}={config_path}"), ("setting", f"{RUN_SETTING}={job}")])

    def finished_jobs(self) -> set[str]:
        jobs = self.call("listjobs.json", query={"project": PROJECT})
        return {str(job["id"]) for job in jobs.get("finished", [])}

    def cancel(self, job: str) -> None:
        self.call("cancel.json", form=[("project", PROJECT), ("job", job)])


@dataclass
class _Job:
    id: str
    source: SourceConfig
    node: ScrapydNode


def node_urls(given: str | None, configured: Sequence[str]) -> list[str]:
    """`--scrapyd URL[,URL...]`, else the config's `crawl.scrapyd` list."""
    urls = [url.strip() for url in given.split(",")] if given is not None else list(configured)
    if not urls or not all(url.startswith(("http://", "https://")) for url in urls):
        raise ConfigError(f"--scrapyd: give one or more http(s) URLs of Scrapyd nodes, not {given!r}")
    return urls


def crawl_on_scrapyd(app: App, locks: Coordination, urls: Sequence[str], config_path: Path,
                     source_names: Sequence[str] = ()) -> list[SourceSummary]:
    """Schedule each source as a job on the least loaded node, wait for the jobs and report each source."""
    config = app.config
    sources = [config.source(n) for n in source_names] if source_names else [s for s in config.sources if s.enabled]
    if not sources:
        raise ConfigError("no sources to crawl: add a [[sources]] table to the config")
    nodes = [ScrapydNode(url) for url in urls]
    app.sessions  # noqa: B018 - migrates and syncs the config before a job looks a source up
    summaries: list[SourceSummary] = []
    with locks.source_locks([s.name for s in sources]) as (locked, busy):
        for name in busy:
            log.warning("%s: skipped: %s", name, LOCKED_REASON)
        summaries += [SourceSummary(n, SourceRunFigures(), LOCKED_REASON) for n in busy]
        if not locked:
            return summaries
        load = {node.url: node.load() for node in nodes}
        jobs: list[_Job] = []
        for source in (s for s in sources if s.name in locked):
            node = min(nodes, key=lambda n: load[n.url])
            job = _Job(f"rw-{source.name}-{uuid.uuid4().hex[:12]}", source, node)
            node.schedule(source, job.id, config_path.resolve())
            load[node.url] += 1
            jobs.append(job)
        log.info("crawling %d sources as Scrapyd jobs on %d nodes: %s", len(jobs), len(nodes),
                 ", ".join(f"{j.source.name} on {j.node.url}" for j in jobs))
        unfinished = _follow(jobs, config.crawl.time_budget + START_GRACE)
        summaries += _summaries(app, jobs, unfinished)
    return summaries


def _follow(jobs: list[_Job], limit: float) -> set[str]:
    """Wait until every job has finished, or the limit has passed (the rest are cancelled); returns the ids of
    those that did not finish in time."""
    waiting = {job.id: job for job in jobs}
    deadline = time.monotonic() + limit
    while waiting and time.monotonic() < deadline:
        for node in {job.node.url: job.node for job in waiting.values()}.values():
            try:
                finished_here = node.finished_jobs()
            except ScrapydError as exc:  # a busy node may miss one poll; its jobs run on
                log.warning("%s; asking again", exc)
                continue
            for finished in finished_here & set(waiting):
                job = waiting.pop(finished)
                log.info("%s: done on %s", job.source.name, node.url)
        if waiting:
            time.sleep(POLL_INTERVAL)
    for job in waiting.values():
        log.warning("%s: the job %s on %s did not finish in time: cancelled", job.source.name, job.id,
                    job.node.url)
        job.node.cancel(job.id)
    return set(waiting)


def _summaries(app: App, jobs: list[_Job], unfinished: set[str]) -> list[SourceSummary]:
    summaries = []
    with app.unit_of_work() as uow:
        for job in jobs:
            figures = recorded_run(uow, job.id)
            if figures is None:
                how = "did not finish in time" if job.id in unfinished else "ended without recording its run"
                figures = SourceRunFigures(failure_reason=(
                    f"the Scrapyd job {job.id} on {job.node.url} {how} (its log: "
                    f"{job.node.url.rstrip('/')}/logs/{PROJECT}/{job.source.type}/{job.id}.log)"))
            summaries.append(SourceSummary(job.source.name, figures))
        check_source_health(uow, app.config, app.clock)
    return summaries
