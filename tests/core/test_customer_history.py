"""A customer's history: a repeat complainer's earlier cases across two sources of a platform that gives an
author id, and a name-only author recognised within its own source only; stored through the real ingest."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import messages
from bot.formatting import plain_text
from review_watch.config import load_config
from review_watch.domain import cases as domain
from review_watch.domain.customer_history import Handling
from review_watch.entrypoints.bootstrap import App
from review_watch.services import staff_actions
from review_watch.services.export import export_rows
from review_watch.services.history import author_history, export_histories
from review_watch.services.ingest import store_mention
from review_watch.services.triage import triage
from review_watch.storage.orm import Staff
from spiders.items import MentionItem
from tests.support.configs import source_block, write_config
from tests.support.fakes import KeywordClassifier, ManualClock

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Stockholm
SOURCES = (source_block("acme-reddit", "reddit", "https://www.reddit.com/r/acme/new.json")
           + source_block("acme-reddit-help", "reddit", "https://www.reddit.com/r/acmehelp/new.json")
           + source_block("acme-android", "googleplay", "https://play.google.com/store/apps/details?id=com.acme")
           + source_block("acme-android-beta", "googleplay",
                          "https://play.google.com/store/apps/details?id=com.acme.beta"))


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> App:
    app = App(load_config(write_config(tmp_path, database_url=database_url, sources=SOURCES)),
              clock=ManualClock(START))
    app.sessions  # noqa: B018
    return app


def complain(app: App, source: str, external_id: str, author: str, author_id: str | None, text: str,
             rating: float | None = None) -> int:
    source_type = app.config.source(source).type
    item = MentionItem(source=source, source_type=source_type, external_id=external_id, url=None, author=author,
                       published_at=app.clock(), rating=rating, rating_max=5 if rating else None, title=None,
                       text=text, language="en", author_id=author_id, brand="Acme")
    with app.unit_of_work() as uow:
        mention_id = store_mention(uow, item, "Acme", app.clock).mention_id
        triage(uow, app.config, KeywordClassifier, app.clock)
    return mention_id


def staff_id(app: App, name: str) -> int:
    with app.unit_of_work() as uow:
        return next(s.id for s in uow.session.query(Staff).filter(Staff.name == name))


def test_a_repeat_complainer_across_two_sources_with_an_author_id(app: App) -> None:
    clock = app.clock
    assert isinstance(clock, ManualClock)
    first = complain(app, "acme-reddit", "p1", "jo", "t2_jo", "Acme delivery is terrible, parcel lost")
    anna = staff_id(app, "Anna")
    clock.advance(hours=1)
    with app.unit_of_work() as uow:
        staff_actions.act(uow, app.config, first, domain.Reply(domain.ReplyChannel.SENT_OUTSIDE), anna, clock)
    clock.advance(days=2)
    second = complain(app, "acme-reddit-help", "p2", "jo_renamed", "t2_jo", "Still broken, terrible support")
    complain(app, "acme-reddit", "p3", "jo", "t2_someone_else", "Terrible, says another jo")

    with app.unit_of_work() as uow:
        history = author_history(uow, second, clock())
        view = staff_actions.view_case(uow, app.config, second, staff_id(app, "Lena"), clock())
    assert [(h.mention_id, h.source, h.handled_by, h.handling) for h in history] == [
        (first, "acme-reddit", "Anna", Handling.IN_TIME)]
    assert [h.mention_id for h in view.history] == [first]
    with app.unit_of_work() as uow:
        lead = staff_actions.identify(uow, 1004)
    assert lead is not None
    shown = plain_text("\n".join(messages.case_details(view, lead, app.config, clock())))
    assert "Earlier mentions by this author (1):" in shown
    assert f"#{first}" in shown and "acme-reddit" in shown and "answered in time by Anna" in shown


def test_a_name_alone_is_recognised_within_its_source_only(app: App) -> None:
    clock = app.clock
    assert isinstance(clock, ManualClock)
    first = complain(app, "acme-android", "g1", "Kim Lee", None, "App crashes", rating=1)
    clock.advance(days=3)
    other_source = complain(app, "acme-android-beta", "g2", "Kim Lee", None, "Beta crashes too", rating=1)
    clock.advance(days=1)
    same_source = complain(app, "acme-android", "g3", "Kim Lee", None, "Still crashing", rating=2)
    with app.unit_of_work() as uow:
        assert author_history(uow, other_source, clock()) == []
        history = author_history(uow, same_source, clock())
    assert [h.mention_id for h in history] == [first]
    assert history[0].handling is Handling.OVERDUE  # never answered, deadline long past


def test_export_can_include_the_history(app: App) -> None:
    clock = app.clock
    assert isinstance(clock, ManualClock)
    first = complain(app, "acme-reddit", "p1", "jo", "t2_jo", "Acme delivery is terrible, parcel lost")
    clock.advance(days=1)
    second = complain(app, "acme-reddit-help", "p2", "jo", "t2_jo", "Still broken, terrible support")
    with app.unit_of_work() as uow:
        rows = {row["id"]: row for row in export_rows(
            uow, history_of=lambda batch: export_histories(uow, batch, clock()))}
        plain = next(export_rows(uow))
    assert rows[first]["history"] == []
    [earlier] = rows[second]["history"]
    assert (earlier["id"], earlier["source"], earlier["handled_by"], earlier["handling"]) == (
        first, "acme-reddit", "Anna", "overdue")  # a business day went by unanswered
    assert "history" not in plain
