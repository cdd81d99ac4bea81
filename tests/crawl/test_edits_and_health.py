"""Edited reviews and source health, through the real `review-watch crawl` on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from review_watch.storage.database import make_engine
from review_watch.storage.orm import CaseEvent, Mention, OutboxMessage, Staff
from tests.crawl.support import counts, crawl_config, export, summary_lines
from tests.spiders.fixture_server import FixtureServer, Reply
from tests.spiders.fixture_sources import Source
from tests.support.cli import review_watch
from tests.support.pages import Review, trustpilot_page

HTML = "text/html; charset=utf-8"
REVIEWS = [Review("6a00000000000000000000a1", 5, "Lovely shop, quick delivery.", title="Great"),
           Review("6a00000000000000000000a2", 4, "Good overall, a bit pricey.", title="Good")]
REDESIGNED = b"<!DOCTYPE html><html><head><title>Acme</title></head><body><main>New look!</main></body></html>"


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as running:
        running.routes["/robots.txt"] = Reply(b"User-agent: *\nAllow: /\n", "text/plain")
        yield running


def page(reviews: list[Review]) -> Reply:
    return Reply(trustpilot_page(reviews), HTML)


def test_an_edited_review_updates_the_mention_is_judged_again_and_opens_a_case(
        tmp_path: Path, database_url: str, server: FixtureServer) -> None:
    server.routes["/review/acme.com"] = page(REVIEWS)
    config = crawl_config(tmp_path, database_url, server, [Source("acme-tp", "trustpilot", "/review/acme.com", ())])
    review_watch("crawl", config=config)
    before = {row["external_id"]: row for row in export(config)}

    edited = Review(REVIEWS[0].id, 1, "Edited: the second parcel never came. Terrible.", title="Not again")
    server.routes["/review/acme.com"] = page([edited, REVIEWS[1]])
    second = review_watch("crawl", config=config)
    assert counts(summary_lines(second.stdout)["acme-tp"]) == {
        "new": 0, "duplicate": 1, "updated": 1, "failed": 0, "pages": 1}
    assert "nothing new stored" in second.stdout

    after = {row["external_id"]: row for row in export(config)}
    assert set(after) == set(before)
    row = after[edited.id]
    assert row["id"] == before[edited.id]["id"]  # the same mention, updated in place
    assert (row["text"], row["rating"], row["title"]) == (edited.text, 1.0, edited.title)
    assert after[REVIEWS[1].id] == before[REVIEWS[1].id]
    # The happy review needed nothing; edited into a 1-star complaint, it is judged again and routed.
    assert (before[edited.id]["negative"], before[edited.id]["status"]) == (False, "none")
    assert (row["sentiment"], row["negative"], row["status"]) == ("negative", True, "assigned")
    assert row["assignee"] and row["deadline"]

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            mention = session.scalars(select(Mention).where(Mention.external_id == edited.id)).one()
            events = session.scalars(select(CaseEvent).where(CaseEvent.kind == "edited")).all()
            assert mention.edit_count == 1 and mention.updated_at is not None
            assert [(e.mention_id, e.actor) for e in events] == [(mention.id, "source:acme-tp")]
            assert events[0].details == {"old_text": REVIEWS[0].text, "old_rating": 5.0, "new_rating": 1.0,
                                         "old_label": "positive"}
            assert mention.case is not None and mention.case.arrived_at == mention.updated_at
            alerts = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "alert")).all()
            assert [a.case_id for a in alerts] == [mention.id]
    finally:
        engine.dispose()


def broken_notices(database_url: str) -> list[tuple[str, str, str]]:
    """(source, lead's name, reason) of every "source may be broken" notice in the outbox."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            rows = session.execute(select(OutboxMessage, Staff.name).join(Staff, OutboxMessage.staff_id == Staff.id)
                                   .where(OutboxMessage.kind == "notice").order_by(OutboxMessage.id)).all()
            return [(m.payload["source"], name, m.payload["reason"]) for m, name in rows
                    if m.payload.get("notice") == "source_broken"]
    finally:
        engine.dispose()


def test_a_source_that_stops_yielding_or_stops_parsing_is_reported_to_the_leads_once(
        tmp_path: Path, database_url: str, server: FixtureServer) -> None:
    server.routes["/review/empty.example"] = page([])  # a valid page with no reviews on it, every run
    server.routes["/review/redesign.example"] = page(REVIEWS)  # redesigned after the first run
    server.routes["/review/fine.example"] = page(REVIEWS)
    sources = [Source("acme-empty", "trustpilot", "/review/empty.example", ()),
               Source("acme-redesign", "trustpilot", "/review/redesign.example", ()),
               Source("acme-fine", "trustpilot", "/review/fine.example", ())]
    config = crawl_config(tmp_path, database_url, server, sources, crawl={"broken_after_empty_runs": 2})

    first = review_watch("crawl", config=config)
    assert broken_notices(database_url) == []
    assert counts(summary_lines(first.stdout)["acme-redesign"])["new"] == 2

    server.routes["/review/redesign.example"] = Reply(REDESIGNED, HTML)
    second = review_watch("crawl", config=config, check=False)
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert "FAILED: cannot parse" in summary_lines(second.stdout)["acme-redesign"]
    notices = broken_notices(database_url)
    assert sorted((source, lead) for source, lead, _ in notices) == [("acme-empty", "Lena"), ("acme-redesign", "Lena")]
    reasons = {source: reason for source, _, reason in notices}
    assert reasons["acme-empty"] == "no items in the last 2 runs"
    assert "could not be parsed" in reasons["acme-redesign"]

    review_watch("crawl", config=config, check=False)  # both still broken: no second notice
    assert broken_notices(database_url) == notices
