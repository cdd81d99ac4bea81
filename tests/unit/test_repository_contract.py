"""The fake repository is faithful: one story of service calls gives the same cases, audit trail and queued
messages on the fake unit of work as on the real one over a database. The one test in tests/unit that uses
a database; the `database_url` fixture makes it `slow` (an integration test), so the fast loop skips it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from review_watch.config import Config
from review_watch.domain import cases as domain
from review_watch.services.cases import mark_unreachable, perform, reassign_by_lead, scheduler_tick
from review_watch.services.triage import open_cases
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
from tests.support.fakes import FakeUnitOfWork, ManualClock


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
