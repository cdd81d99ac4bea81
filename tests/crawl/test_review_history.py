"""A review whose data carries its history (Google Play lists the original and the edit under one id): the
newest version by its own date is kept, and a re-crawl of the same answer is no edit and is not judged again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from review_watch.storage.database import make_engine
from review_watch.storage.orm import CaseEvent
from tests.crawl.support import counts, crawl_config, export, summary_lines
from tests.spiders.fixture_server import FixtureServer, Reply
from tests.spiders.fixture_sources import Source
from tests.support.cli import review_watch
from tests.support.pages import Review, google_play_response

EDIT = Review("gp:AOqpTOHistory-1", 1, "Edited: since the update it crashes on every start. Terrible.",
              author="Maja Berg", published="2026-11-21T09:00:00+00:00")
ORIGINAL = Review(EDIT.id, 4, "Nice app, a bit slow to open.", author="Maja Berg",
                  published="2026-11-10T09:00:00+00:00")
OTHER = Review("gp:AOqpTOOther-2", 5, "Works well, thank you.", author="Olle Lind",
               published="2026-11-15T12:00:00+00:00")
ENDPOINT = "/_/PlayStoreUi/data/batchexecute"
SOURCE = Source("gp-acme", "googleplay", "/store/apps/details?id=com.acme.app&hl=en&gl=us", ())


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as running:
        running.routes["/robots.txt"] = Reply(b"User-agent: *\nAllow: /\n", "text/plain")
        running.routes[ENDPOINT] = Reply(google_play_response([EDIT, ORIGINAL, OTHER]))
        yield running


def edits(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return len(session.scalars(select(CaseEvent).where(CaseEvent.kind == "edited")).all())
    finally:
        engine.dispose()


def test_the_newest_version_is_kept_and_a_recrawl_changes_nothing(
        tmp_path: Path, database_url: str, server: FixtureServer) -> None:
    config = crawl_config(tmp_path, database_url, server, [SOURCE])
    first = review_watch("crawl", config=config)
    assert counts(summary_lines(first.stdout)["gp-acme"]) == {
        "new": 2, "duplicate": 0, "updated": 0, "failed": 0, "pages": 1}
    assert "2 classified" in first.stdout
    rows = export(config)
    stored = {row["external_id"]: row for row in rows}
    assert (stored[EDIT.id]["text"], stored[EDIT.id]["rating"]) == (EDIT.text, 1.0)
    assert stored[EDIT.id]["published_at"] == "2026-11-21T09:00:00Z"

    second = review_watch("crawl", config=config)
    assert counts(summary_lines(second.stdout)["gp-acme"]) == {
        "new": 0, "duplicate": 2, "updated": 0, "failed": 0, "pages": 1}
    assert "0 classified, 0 negative, 0 cases opened" in second.stdout
    assert export(config) == rows and edits(database_url) == 0

    # An answer that carries only the original again (another sort order, a stale cache) is no edit either.
    server.routes[ENDPOINT] = Reply(google_play_response([ORIGINAL, OTHER]))
    third = review_watch("crawl", config=config)
    assert counts(summary_lines(third.stdout)["gp-acme"])["updated"] == 0
    assert "0 classified" in third.stdout
    assert export(config) == rows and edits(database_url) == 0
