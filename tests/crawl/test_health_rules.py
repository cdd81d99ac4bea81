"""The source-health rules run after run, in process (the CLI tests cover the wiring)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.services.health import check_source_health
from review_watch.services.ingest import SourceRunFigures, record_source_run
from tests.support.configs import source_block, write_config
from tests.support.fakes import ManualClock

# (items, parse failures) of each run, and which sources are reported after it.
RUNS: list[tuple[int, int, list[str]]] = [
    (20, 0, []),
    (0, 0, []), (0, 0, []), (0, 0, ["acme"]),  # the third empty run in a row
    (0, 0, []),  # still empty: reported once
    (20, 0, []),  # recovered
    (5, 8, ["acme"]),  # parse failures jump: more failures than items, well above the usual
    (5, 8, []),  # as bad, no longer a jump
    (20, 1, []),  # one unreadable record among many is no jump
    (0, 0, []), (0, 0, []), (0, 0, ["acme"]),  # broken again after recovering: news again
]


def test_notices_follow_the_runs(tmp_path: Path) -> None:
    path = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}",
                        sources=source_block("acme", "trustpilot", "http://127.0.0.1:9/review/acme.com"))
    clock = ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    app = App(load_config(path), clock=clock)
    for number, (items, parse_failures, reported) in enumerate(RUNS, start=1):
        clock.advance(minutes=15)
        with app.unit_of_work() as uow:
            record_source_run(uow, "acme", clock(), SourceRunFigures(items=items, parse_failures=parse_failures),
                              clock)
            assert check_source_health(uow, app.config, clock) == reported, f"run {number}"
