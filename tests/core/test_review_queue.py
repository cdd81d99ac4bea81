"""Unsure judgements go to the leads' "please look" list, not to an agent; a lead's answer, a "not
actionable" press and a /missed are kept as labelled examples; `feedback export` writes them for training."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from review_watch.config import load_config
from review_watch.domain import cases as domain
from review_watch.entrypoints.bootstrap import App
from review_watch.services.cases import ActionRefused, perform
from review_watch.services.export import export_rows, write_csv
from review_watch.services.ingest import store_mention
from review_watch.services.review_queue import AlreadyACase, answer_unsure, queue_please_look, report_missed
from review_watch.services.triage import triage
from review_watch.storage.orm import Case, FeedbackExample, OutboxMessage, Staff
from spiders.items import MentionItem
from tests.support.cli import review_watch
from tests.support.configs import source_block, write_config
from tests.support.fakes import KeywordClassifier, ManualClock

ARRIVAL = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Stockholm
DEADLINE = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # 9 business hours later: Monday 18:00 in Stockholm
UNSURE_TEXT = "Hmm, the parcel came on the third try."
URL = "https://www.trustpilot.com/reviews/{}"


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> App:
    path = write_config(tmp_path, database_url=database_url,
                        sources=source_block("acme-tp", "trustpilot", "https://www.trustpilot.com/review/acme.com"))
    return App(load_config(path), clock=ManualClock(ARRIVAL))


def crawl(app: App, *texts: tuple[str, str]) -> dict[str, int]:
    """Store (external id, text) mentions as a crawl would and triage them; their mention ids."""
    ids = {}
    with app.unit_of_work() as uow:
        for external_id, text in texts:
            item = MentionItem(source="acme-tp", source_type="trustpilot", external_id=external_id,
                               url=URL.format(external_id), author="Kim", published_at=None, rating=None,
                               rating_max=None, title=None, text=text, language="en", brand="Acme")
            ids[external_id] = store_mention(uow, item, "Acme", app.clock).mention_id
        triage(uow, app.config, KeywordClassifier, app.clock)
    return ids


def staff(app: App, name: str) -> Staff:
    with app.unit_of_work() as uow:
        member = uow.session.scalars(select(Staff).where(Staff.name == name)).one()
        uow.session.expunge(member)
        return member


def outbox(app: App, kind: str) -> list[tuple[str | None, int | None, dict[str, object]]]:
    """The queued messages of a kind: (recipient, case, payload)."""
    with app.unit_of_work() as uow:
        return [(m.staff.name if m.staff else None, m.case_id, m.payload) for m in uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))]


def examples(app: App) -> list[tuple[int, str, str]]:
    with app.unit_of_work() as uow:
        return [(e.mention_id, e.kind, e.label) for e in uow.session.scalars(select(FeedbackExample))]


def clock_of(app: App) -> ManualClock:
    assert isinstance(app.clock, ManualClock)
    return app.clock


def test_an_unsure_mention_opens_no_case_and_is_listed_once_for_the_lead(app: App) -> None:
    ids = crawl(app, ("u1", UNSURE_TEXT), ("n1", "Terrible, never again"))
    with app.unit_of_work() as uow:
        rows = {row["external_id"]: row for row in export_rows(uow)}
        spreadsheet = io.StringIO()
        write_csv(export_rows(uow), spreadsheet)
    assert (rows["u1"]["unsure"], rows["u1"]["status"]) == (True, "none")
    assert (rows["n1"]["unsure"], rows["n1"]["status"]) == (False, "assigned")
    cells = {row["external_id"]: row for row in csv.DictReader(io.StringIO(spreadsheet.getvalue()))}
    assert (cells["u1"]["unsure"], cells["n1"]["unsure"]) == ("True", "False")
    assert outbox(app, "alert") == [("Anna", ids["n1"], {})]  # no alert card for the unsure one

    with app.unit_of_work() as uow:
        assert queue_please_look(uow, app.config, app.clock) == 1
    assert outbox(app, "please_look") == [("Lena", None, {"items": [ids["u1"]]})]

    clock_of(app).advance(hours=2)
    with app.unit_of_work() as uow:
        assert queue_please_look(uow, app.config, app.clock) == 0  # nothing new for her


def test_the_list_waits_for_the_leads_hours_and_comes_at_most_hourly(app: App) -> None:
    clock = clock_of(app)
    clock.now = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # Monday 19:00 in Stockholm: closed
    first = crawl(app, ("u1", UNSURE_TEXT))
    with app.unit_of_work() as uow:
        assert queue_please_look(uow, app.config, app.clock) == 0
    clock.now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tuesday 09:00: open
    with app.unit_of_work() as uow:
        assert queue_please_look(uow, app.config, app.clock) == 1
    clock.advance(minutes=30)
    second = crawl(app, ("u2", "Not sure what to make of the new app."))
    with app.unit_of_work() as uow:
        assert queue_please_look(uow, app.config, app.clock) == 0  # the last list is half an hour old
    clock.advance(minutes=30)
    with app.unit_of_work() as uow:
        assert queue_please_look(uow, app.config, app.clock) == 1
    assert outbox(app, "please_look") == [("Lena", None, {"items": [first["u1"]]}),
                                          ("Lena", None, {"items": [second["u2"]]})]


def test_a_leads_complaint_opens_a_routed_case_timed_from_the_mentions_arrival(app: App) -> None:
    ids = crawl(app, ("u1", UNSURE_TEXT))
    clock_of(app).advance(hours=3)
    with pytest.raises(ActionRefused) as refused, app.unit_of_work() as uow:
        answer_unsure(uow, app.config, ids["u1"], True, staff(app, "Anna"), app.clock)
    assert refused.value.key == "leads_only"

    with app.unit_of_work() as uow:
        verdict = answer_unsure(uow, app.config, ids["u1"], True, staff(app, "Lena"), app.clock)
    assert (verdict.case_id, verdict.assignee, verdict.deadline_at) == (ids["u1"], "Anna", DEADLINE)
    with app.unit_of_work() as uow:
        case = uow.session.get_one(Case, ids["u1"])
        assert (case.arrived_at, case.deadline_at, case.status) == (ARRIVAL, DEADLINE, "assigned")
    assert outbox(app, "alert") == [("Anna", ids["u1"], {})]
    assert examples(app) == [(ids["u1"], "unsure_answer", "negative")]
    with pytest.raises(ActionRefused) as again, app.unit_of_work() as uow:
        answer_unsure(uow, app.config, ids["u1"], False, staff(app, "Lena"), app.clock)
    assert again.value.key == "unsure.already_answered"


def test_not_a_complaint_closes_the_item(app: App) -> None:
    ids = crawl(app, ("u1", UNSURE_TEXT))
    with app.unit_of_work() as uow:
        verdict = answer_unsure(uow, app.config, ids["u1"], False, staff(app, "Lena"), app.clock)
    assert verdict.case_id is None
    assert examples(app) == [(ids["u1"], "unsure_answer", "neutral")]
    with app.unit_of_work() as uow:
        assert queue_please_look(uow, app.config, app.clock) == 0  # answered before it was listed: never listed
        assert uow.session.get(Case, ids["u1"]) is None


def test_missed_opens_a_case_for_a_crawled_url_and_says_no_to_the_rest(app: App) -> None:
    ids = crawl(app, ("p1", "Lovely shop, quick delivery."))
    clock_of(app).advance(hours=1)
    lena = staff(app, "Lena")
    with pytest.raises(ActionRefused) as unknown, app.unit_of_work() as uow:
        report_missed(uow, app.config, "https://example.com/never-crawled", lena, app.clock)
    assert unknown.value.key == "missed.unknown_url"
    with pytest.raises(ActionRefused) as agent, app.unit_of_work() as uow:
        report_missed(uow, app.config, URL.format("p1"), staff(app, "Anna"), app.clock)
    assert agent.value.key == "leads_only"

    with app.unit_of_work() as uow:
        verdict = report_missed(uow, app.config, URL.format("p1") + "/", lena, app.clock)  # a trailing slash too
    assert (verdict.case_id, verdict.assignee, verdict.deadline_at) == (ids["p1"], "Anna", DEADLINE)
    assert examples(app) == [(ids["p1"], "missed", "negative")]
    with pytest.raises(AlreadyACase) as twice, app.unit_of_work() as uow:
        report_missed(uow, app.config, URL.format("p1"), lena, app.clock)
    assert twice.value.case_id == ids["p1"]


def test_false_alarms_and_missed_complaints_come_out_of_feedback_export_as_training_lines(
        app: App, tmp_path: Path) -> None:
    ids = crawl(app, ("n1", "Terrible packaging, but it is a gift box, that is how it looks."),
                ("p1", "Acme: the refund took a month and nobody said sorry."))
    with app.unit_of_work() as uow:
        perform(uow, app.config, ids["n1"], domain.NotActionable(), uow.session.merge(staff(app, "Anna")), app.clock)
        report_missed(uow, app.config, URL.format("p1"), staff(app, "Lena"), app.clock)

    out, config = tmp_path / "feedback.jsonl", tmp_path / "review-watch.toml"
    done = review_watch("feedback", "export", "--out", str(out), config=config)
    assert done.stdout == ""
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines == [
        {"language": "en", "label": "neutral",
         "text": "Terrible packaging, but it is a gift box, that is how it looks.",
         "source": "feedback", "kind": "false_alarm", "id": ids["n1"], "url": URL.format("n1")},
        {"language": "en", "label": "negative", "text": "Acme: the refund took a month and nobody said sorry.",
         "source": "feedback", "kind": "missed", "id": ids["p1"], "url": URL.format("p1")},
    ]
    later = review_watch("feedback", "export", "--since", "2026-11-23T09:00:00Z", config=config)
    assert later.stdout == ""  # both were given at 08:00 UTC
    bad = review_watch("feedback", "export", "--since", "yesterday", config=config, check=False)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "--since" in bad.stderr
