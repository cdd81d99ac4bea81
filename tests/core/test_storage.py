"""Storage through the service layer, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.services.export import EXPORT_FIELDS, export_rows
from review_watch.services.ingest import StoreOutcome, store_mention
from review_watch.services.triage import classify_pending, open_cases
from review_watch.storage.orm import Case, CaseEvent, Mention, OutboxMessage, ReplyRow
from spiders.items import MentionItem
from tests.support.configs import source_block, write_config
from tests.support.fakes import KeywordClassifier, ManualClock


def _item(external_id: str, text: str, rating: float | None = 5, source: str = "acme-tp",
          author: str = "Kim") -> MentionItem:
    return MentionItem(source=source, source_type="trustpilot", external_id=external_id,
                       url=f"https://www.trustpilot.com/reviews/{external_id}", author=author,
                       published_at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC), rating=rating, rating_max=5,
                       title="A title", text=text, language="en", author_id=f"id-{author}", brand="Acme",
                       raw={"id": external_id})


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> App:
    sources = source_block("acme-tp", "trustpilot", "http://127.0.0.1:1/review/acme.com") + source_block(
        "acme-tp-2", "trustpilot", "http://127.0.0.1:1/review/acme.se")
    return App(load_config(write_config(tmp_path, database_url=database_url, sources=sources)), clock=ManualClock())


def test_a_mention_is_stored_once_and_an_edit_updates_it(app: App) -> None:
    with app.unit_of_work() as uow:
        first = store_mention(uow, _item("r1", "Fine shop"), "Acme", app.clock)
        again = store_mention(uow, _item("r1", "Fine shop"), "Acme", app.clock)
        edited = store_mention(uow, _item("r1", "Terrible shop, changed my mind", rating=1), "Acme", app.clock)
        assert (first.outcome, again.outcome, edited.outcome) == (
            StoreOutcome.NEW, StoreOutcome.DUPLICATE, StoreOutcome.UPDATED)
        assert first.mention_id == again.mention_id == edited.mention_id
        mention = uow.session.get_one(Mention, first.mention_id)
        assert (mention.text, mention.rating, mention.edit_count) == ("Terrible shop, changed my mind", 1, 1)
        events = list(uow.session.scalars(select(CaseEvent).where(CaseEvent.mention_id == mention.id)))
        assert [e.kind for e in events] == ["edited"]
        assert events[0].details["old_text"] == "Fine shop"


def test_an_edit_is_judged_again_and_a_new_complaint_starts_its_clock_at_the_edit(app: App) -> None:
    classifier, clock = KeywordClassifier(), app.clock
    assert isinstance(clock, ManualClock)
    with app.unit_of_work() as uow:
        happy = store_mention(uow, _item("r1", "Fine shop"), "Acme", app.clock)
        angry = store_mention(uow, _item("r2", "Awful shop", rating=1, author="Olle"), "Acme", app.clock)
        assert classify_pending(uow, classifier, "fake", app.clock) == (2, 1)
        assert open_cases(uow, app.config, app.clock) == 1

        clock.advance(hours=3)  # Monday 12:00 in Stockholm
        store_mention(uow, _item("r1", "Broken on arrival, changed my mind", rating=1), "Acme", app.clock)
        store_mention(uow, _item("r2", "Awful shop, still waiting", rating=1, author="Olle"), "Acme", app.clock)
        assert classify_pending(uow, classifier, "fake", app.clock) == (2, 2)  # both edits judged again
        assert open_cases(uow, app.config, app.clock) == 1  # only the newly negative one; r2 has its case
        case = uow.session.get_one(Case, happy.mention_id)
        assert case.arrived_at == app.clock() and case.deadline_at == datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
        alerts = uow.session.scalars(select(OutboxMessage.case_id).where(OutboxMessage.kind == "alert")).all()
        assert sorted(a or 0 for a in alerts) == sorted([happy.mention_id, angry.mention_id])  # none twice
        edits = list(uow.session.scalars(select(CaseEvent).where(CaseEvent.kind == "edited")
                                         .order_by(CaseEvent.mention_id)))
        assert [e.details["old_label"] for e in edits] == ["positive", "negative"]


def test_the_same_text_cross_posted_opens_one_case(app: App) -> None:
    classifier = KeywordClassifier()
    with app.unit_of_work() as uow:
        store_mention(uow, _item("a", "Terrible support, nobody answers"), "Acme", app.clock)
        store_mention(uow, _item("b", "Terrible  support, NOBODY answers", source="acme-tp-2"), "Acme", app.clock)
        assert classify_pending(uow, classifier, "fake", app.clock) == (2, 2)
        assert open_cases(uow, app.config, app.clock) == 1
        assert uow.session.scalar(select(func.count(Case.id))) == 1
        assert uow.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_a_negative_mention_gets_a_case_with_a_business_day_deadline_and_one_alert(app: App) -> None:
    with app.unit_of_work() as uow:
        stored = store_mention(uow, _item("r9", "Awful. Never again.", rating=1, author="Olle"), "Acme", app.clock)
        classify_pending(uow, KeywordClassifier(), "fake", app.clock)
        open_cases(uow, app.config, app.clock)
        open_cases(uow, app.config, app.clock)  # a second pass opens nothing more
        case = uow.session.get_one(Case, stored.mention_id)
        # arrived Monday 09:00 Stockholm; one business day of 9 h ends Monday 18:00 Stockholm = 17:00 UTC
        assert case.deadline_at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
        assert case.status == "assigned" and case.assignee is not None and case.assignee.name == "Anna"
        alerts = list(uow.session.scalars(select(OutboxMessage)))
        assert [(a.kind, a.staff_id, a.status) for a in alerts] == [("alert", case.assignee_id, "pending")]


def test_export_has_the_contract_fields_with_utc_dates(app: App) -> None:
    with app.unit_of_work() as uow:
        store_mention(uow, _item("r1", "Terrible", rating=1), "Acme", app.clock)
        store_mention(uow, _item("r2", "Lovely"), "Acme", app.clock)
        classify_pending(uow, KeywordClassifier(), "fake", app.clock)
        open_cases(uow, app.config, app.clock)
        rows = list(export_rows(uow))
    assert [tuple(r) for r in rows] == [EXPORT_FIELDS, EXPORT_FIELDS]
    negative, positive = rows
    assert negative["published_at"] == "2026-11-20T08:00:00Z"
    assert (negative["status"], negative["assignee"], negative["negative"]) == ("assigned", "Anna", True)
    assert negative["deadline"] == "2026-11-23T17:00:00Z"
    assert (positive["status"], positive["assignee"], positive["deadline"]) == ("none", None, None)
    assert (negative["source"], negative["source_type"], negative["brand"]) == ("acme-tp", "trustpilot", "Acme")


def test_export_reads_the_replies_of_every_case_in_one_query(app: App) -> None:
    with app.unit_of_work() as uow:
        for n in range(6):
            store_mention(uow, _item(f"r{n}", f"Terrible, order {n} never came", rating=1), "Acme", app.clock)
        classify_pending(uow, KeywordClassifier(), "fake", app.clock)
        open_cases(uow, app.config, app.clock)
        cases = list(uow.session.scalars(select(Case).order_by(Case.id)))
        now = app.clock()
        for case, states in zip(cases, [["refused", "posted"], ["posting"], ["sent_outside"], ["cancelled"], [],
                                        ["deleted"]], strict=True):
            for n, state in enumerate(states):
                uow.session.add(ReplyRow(case_id=case.id, author_id=case.assignee_id, state=state, draft_text="Sorry",
                                         text="Sorry", idempotency_key=f"k-{case.id}-{n}", created_at=now,
                                         updated_at=now))
            if "sent_outside" in states or "deleted" in states:  # a deleted reply had stopped the clock
                case.answered_at = now
        uow.commit()
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    with app.unit_of_work() as uow:
        engine = uow.session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            rows = list(export_rows(uow))
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if "FROM replies" in s]) == 1
    assert [(r["reply_state"], r["reply_channel"]) for r in rows] == [
        ("posted", "visible_to_customer"), ("posting", None), ("sent_outside", "sent_outside"), (None, None),
        (None, None), ("deleted", None)]
    assert all(tuple(r) == EXPORT_FIELDS for r in rows)
