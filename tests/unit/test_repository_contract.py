"""The fake repository is faithful: a story of service calls gives the same cases, audit trail and queued
messages, and the same views, on the fake unit of work as on the real one over a database. The tests in
tests/unit that use a database; the `database_url` fixture makes them `slow` (integration tests), so the fast
loop skips them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from review_watch.config import Config
from review_watch.domain import cases as domain
from review_watch.domain.mentions import MentionItem
from review_watch.services.cases import mark_unreachable, perform, reassign_by_lead, scheduler_tick
from review_watch.services.delivery import take_due
from review_watch.services.export import export_rows
from review_watch.services.feedback import training_lines
from review_watch.services.health import check_source_health
from review_watch.services.ingest import (
    SourceRunFigures,
    record_source_run,
    start_source_run,
    store_mention,
    sync_config,
)
from review_watch.services.review_queue import answer_unsure, queue_please_look, report_missed
from review_watch.services.stats import my_queue, outbox_counts, team_stats
from review_watch.services.triage import open_cases, triage
from review_watch.storage.database import make_engine, migrate, session_factory
from review_watch.storage.orm import (
    Author,
    Brand,
    Case,
    CaseEvent,
    Mention,
    OutboxMessage,
    SentimentResult,
    Source,
    Staff,
)
from review_watch.storage.unit_of_work import AbstractUnitOfWork, UnitOfWork
from tests.support.fakes import FakeUnitOfWork, KeywordClassifier, ManualClock


@pytest.fixture
def no_database() -> None:
    """This module compares the fake with the database, so it may make an engine."""


def _story(uow: AbstractUnitOfWork, config: Config) -> None:
    clock = ManualClock()
    repo = uow.repo
    repo.add(Brand(id=1, name="Acme"))
    repo.add(Source(id=1, name="acme-tp", type="trustpilot", url="https://example.com", brand_id=1,
                    empty_runs_in_a_row=0, broken_alert_sent=False, last_run_complete=False))
    repo.add(Author(id=1, platform="trustpilot", key="kim", display_name="Kim"))
    staff = {}
    for id_, name, role, languages in ((1, "Anna", "agent", ["en"]), (2, "Boris", "agent", ["ru"]),
                                       (3, "Carl", "agent", ["en"]), (4, "Lena", "lead", ["en"])):
        staff[name] = Staff(id=id_, name=name, telegram_id=1000 + id_, chat_id=1000 + id_, role=role,
                            languages=languages, brands=None, calendar=None, locale="en", active=True,
                            reachable=True, muted=False, invited=False)
        repo.add(staff[name])
    texts = [("terrible", "en", 1), ("ужасно", "ru", None), ("awful", "en", None), ("broken again", "en", 1),
             ("lovely", "en", None)]
    for id_, (text, language, author_id) in enumerate(texts, start=1):
        repo.add(Mention(id=id_, source_id=1, external_id=str(id_), brand_id=1, author_id=author_id, url=None,
                         rating=None, rating_max=None, title=None, text=text, language=language,
                         content_hash=str(id_), duplicate_of_id=None, raw={},
                         arrived_at=clock(), updated_at=None, edit_count=0))
        repo.add(SentimentResult(mention_id=id_, label="positive" if text == "lovely" else "negative", score=0.9,
                                 negative=text != "lovely", language=language, churn_intent=False, competitor=None,
                                 threat=False, staff_abuse=False, unsure=False, model="fake", classified_at=clock()))
        repo.flush()
        uow.commit()
        clock.advance(minutes=1)

    open_cases(uow, config, clock)
    clock.advance(minutes=30)
    case_of = {text: id_ for id_, (text, _, _) in enumerate(texts, start=1)}
    first_handler = repo.case(case_of["terrible"])
    assert first_handler is not None and first_handler.assignee is not None
    perform(uow, config, case_of["terrible"], domain.Claim(), first_handler.assignee, clock)
    reassign_by_lead(uow, config, case_of["awful"], "boris", staff["Lena"], clock)
    mark_unreachable(uow, config, staff["Carl"].id, clock)
    clock.advance(hours=12)
    scheduler_tick(uow, config, clock)


def _summary(cases: list[Any], events: list[CaseEvent], outbox: list[OutboxMessage], names: dict[int, str]
             ) -> dict[str, Any]:
    def utc(moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(UTC).isoformat()

    return {
        "cases": sorted((c.id, c.status, names.get(c.assignee_id), utc(c.deadline_at), utc(c.next_due_at),
                         c.escalation_level, c.routing_note) for c in cases),
        "events": sorted((e.mention_id, e.kind, e.actor, utc(e.at)) for e in events),
        "outbox": sorted((m.kind, names.get(m.staff_id) if m.staff_id else None, m.case_id, m.dedupe_key)
                         for m in outbox),
    }


@pytest.fixture
def sql_uow(database_url: str) -> Iterator[UnitOfWork]:
    engine = make_engine(database_url)
    migrate(engine)
    with UnitOfWork(session_factory(engine)) as uow:
        yield uow
    engine.dispose()


def test_the_fake_and_the_database_tell_the_same_story(config: Config, sql_uow: UnitOfWork, tmp_path: Path
                                                       ) -> None:
    fake = FakeUnitOfWork()
    _story(fake, config)
    _story(sql_uow, config)

    names = {s.id: s.name for s in fake.repo.staff_rows}
    on_fake = _summary(fake.repo.cases, fake.repo.events, fake.repo.outbox, names)
    session = sql_uow.session
    on_database = _summary(list(session.scalars(select(Case))), list(session.scalars(select(CaseEvent))),
                           list(session.scalars(select(OutboxMessage))), names)
    assert on_fake == on_database
    assert len(on_fake["cases"]) == 4 and any(kind == "escalation" for kind, *_ in on_fake["outbox"])


def _instant(iso: str | None) -> datetime | None:
    """The fake keeps a deadline in its calendar's zone, the database in UTC: the same instant."""
    return None if iso is None else datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _crawl_and_answer_story(uow: AbstractUnitOfWork, config: Config) -> dict[str, Any]:
    """The crawl's storing, triage, the leads' list and /missed, delivery, then everything a person is shown."""
    clock = ManualClock()
    sync_config(uow, config)
    uow.repo.add(Source(name="acme-tp", type="trustpilot", url="https://reviews.example/acme", brand_id=1,
                        empty_runs_in_a_row=0, broken_alert_sent=False, last_run_complete=False))
    uow.commit()
    start_source_run(uow, "acme-tp")
    texts = ["terrible blender", "ужасно", "hmm, not sure", "lovely", "quietly disappointed", "terrible blender"]
    outcomes = []
    for n, text in enumerate(texts):
        item = MentionItem(source="acme-tp", source_type="trustpilot", external_id=f"r{n}",
                           url=f"https://reviews.example/r{n}", author="Kim" if n % 2 else None, published_at=None,
                           rating=None, rating_max=None, title=None, text=text, language="ru" if n == 1 else "en")
        outcomes.append(store_mention(uow, item, "Acme", clock).outcome.value)
        clock.advance(minutes=1)
    edited = MentionItem(source="acme-tp", source_type="trustpilot", external_id="r3", url="https://reviews.example/r3",
                         author="Kim", published_at=None, rating=None, rating_max=None, title=None,
                         text="lovely, then broken", language="en")
    outcomes.append(store_mention(uow, edited, "Acme", clock).outcome.value)
    record_source_run(uow, "acme-tp", clock(), SourceRunFigures(pages=1, items=7, new=6, reached_the_end=True), clock)
    known = start_source_run(uow, "acme-tp")
    figures = triage(uow, config, KeywordClassifier, clock)
    lena, anna = uow.repo.active_staff_named("Lena"), uow.repo.active_staff_named("Anna")
    assert lena is not None and anna is not None
    lists = queue_please_look(uow, config, clock)
    answered = answer_unsure(uow, config, 3, True, lena, clock)
    missed = report_missed(uow, config, "https://reviews.example/r4/", lena, clock)
    clock.advance(minutes=5)
    delivered = take_due(uow, config, clock(), limit=100)
    clock.advance(days=2)
    return {
        "outcomes": outcomes, "known": sorted(known), "triage": asdict(figures), "lists": lists,
        "verdicts": [asdict(answered), asdict(missed)],
        "delivered": sorted((d.message.kind, d.reader.name, d.message.case_id, d.chat_id) for d in delivered),
        "outbox": outbox_counts(uow), "health": check_source_health(uow, config, clock),
        "stats": asdict(team_stats(uow, clock())),
        "queue": [asdict(view) for view in my_queue(uow, config, anna.id, clock())],
        "export": [{key: _instant(value) if key == "deadline" else value for key, value in row.items()}
                   for row in export_rows(uow, batch_size=2)],
        "training": list(training_lines(uow)),
    }


def test_the_fake_and_the_database_store_triage_deliver_and_show_the_same(config: Config, sql_uow: UnitOfWork
                                                                          ) -> None:
    on_fake = _crawl_and_answer_story(FakeUnitOfWork(), config)
    on_database = _crawl_and_answer_story(sql_uow, config)

    assert on_fake == on_database
    assert on_fake["outcomes"] == ["new"] * 6 + ["updated"]
    assert on_fake["export"][5]["text"] == "terrible blender"  # a cross-post: stored, no case of its own
    assert [row["status"] for row in on_fake["export"]] == ["assigned"] * 5 + ["none"]
    assert on_fake["lists"] == 1 and on_fake["delivered"] and on_fake["queue"] and len(on_fake["training"]) == 2
