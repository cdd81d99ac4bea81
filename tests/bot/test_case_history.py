"""`/case ID`, sent through the stand-in Bot API and answered by the bot's handlers (polling in process), shows
a repeat complainer's earlier case on another source of the same platform (Reddit gives an author id), how it
was handled, and not the case of another author with the same name."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import build_application
from review_watch.config import load_config
from review_watch.domain import cases as domain
from review_watch.entrypoints.bootstrap import App
from review_watch.services import staff_actions
from review_watch.services.ingest import store_mention
from review_watch.services.triage import triage
from review_watch.storage.orm import Staff
from spiders.items import MentionItem
from tests.support.configs import source_block, write_config
from tests.support.fakes import KeywordClassifier, ManualClock
from tests.telegram_standin.runner import ControlClient

ANNA = 1001
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Stockholm
SOURCES = (source_block("acme-reddit", "reddit", "https://www.reddit.com/r/acme/new.json")
           + source_block("acme-reddit-help", "reddit", "https://www.reddit.com/r/acmehelp/new.json"))


@pytest.fixture
def app(tmp_path: Path, telegram_standin: ControlClient) -> App:
    config = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}", api_url=telegram_standin.api_url,
                          token=telegram_standin.token, sources=SOURCES)
    app = App(load_config(config), clock=ManualClock(START))
    app.sessions  # noqa: B018
    return app


def complain(app: App, source: str, external_id: str, author: str, author_id: str, text: str) -> int:
    """A Reddit post stored and triaged as a crawl does; its case id."""
    item = MentionItem(source=source, source_type="reddit", external_id=external_id, url=None, author=author,
                       published_at=app.clock(), rating=None, rating_max=None, title=None, text=text,
                       language="en", author_id=author_id, brand="Acme")
    with app.unit_of_work() as uow:
        mention_id = store_mention(uow, item, "Acme", app.clock).mention_id
        triage(uow, app.config, KeywordClassifier, app.clock)
    return mention_id


async def ask(app: App, standin: ControlClient, chat_id: int, command: str) -> str:
    """The bot's answer to a command the person sends."""
    application = build_application(app)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=1)
        try:
            standin.send_text(chat_id, command)
            (answer,) = await asyncio.to_thread(standin.wait_for, "sendMessage", 1, chat_id)
        finally:
            await application.updater.stop()
            await application.stop()
    text: str = answer["params"]["text"]
    return text


async def test_case_shows_the_authors_earlier_case_on_another_source(
        app: App, telegram_standin: ControlClient) -> None:
    clock = app.clock
    assert isinstance(clock, ManualClock)
    first = complain(app, "acme-reddit", "p1", "jo", "t2_jo", "Acme delivery is terrible, parcel lost")
    clock.advance(hours=1)
    with app.unit_of_work() as uow:
        anna = uow.session.scalars(select(Staff.id).where(Staff.name == "Anna")).one()
        staff_actions.act(uow, app.config, first, domain.Reply(domain.ReplyChannel.SENT_OUTSIDE), anna, clock)
    clock.advance(days=2)
    namesake = complain(app, "acme-reddit", "p2", "jo", "t2_another_jo", "Terrible app, says another jo")
    second = complain(app, "acme-reddit-help", "p3", "jo_renamed", "t2_jo", "Still broken, terrible support")

    answer = await ask(app, telegram_standin, ANNA, f"/case {second}")

    assert "Still broken, terrible support" in answer
    history = answer.split("Earlier mentions by this author (1):")[1]
    assert f"#{first} " in history and " · acme-reddit · " in history and "answered in time by Anna" in history
    assert "parcel lost" in history
    assert f"#{namesake}" not in answer and "another jo" not in answer
    assert telegram_standin.rejections() == []
