"""The incident card's buttons, pressed in the stand-in Bot API and answered by the bot's handlers (polling in
process): acknowledge, the holding reply after its confirmation, individual alerts back on; agents refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build_application
from bot.sender import OutboxSender
from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.entrypoints.triage_worker import triage_backlog
from review_watch.services import incident_actions, incidents
from review_watch.services.cases import ActionRefused
from review_watch.services.ingest import store_mention
from review_watch.storage.orm import Case, CaseEvent, OutboxMessage, Staff
from spiders.items import MentionItem
from tests.support.configs import source_block, write_config
from tests.support.fakes import KeywordClassifier, ManualClock
from tests.telegram_standin.runner import ControlClient

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ANNA, LENA = 1001, 1004
HOLDING = "We know about the failed payments and are fixing them."
EXTRA = f'\n[crisis.holding_reply]\nen = "{HOLDING}"\nru = "Мы знаем о сбое оплаты и чиним его."\n'


@pytest.fixture
def app(tmp_path: Path, telegram_standin: ControlClient) -> App:
    config = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}", api_url=telegram_standin.api_url,
                          token=telegram_standin.token, model="keywords", sla_calendar="always",
                          sources=source_block("acme-tp", "trustpilot", "https://www.trustpilot.com/review/acme.com"),
                          extra=EXTRA)
    return App(load_config(config), clock=ManualClock(NOW - timedelta(days=2)))


def crawl(app: App, texts: list[str]) -> None:
    """Store complaints arriving now (in Russian when they are written in it) and triage them as
    `review-watch crawl` does."""
    with app.unit_of_work() as uow:
        for text in texts:
            item = MentionItem(source="acme-tp", source_type="trustpilot", external_id=text, url=None,
                               author=text, published_at=None, rating=1, rating_max=5, title=None, text=text,
                               language="ru" if text.startswith("Ужасно") else "en", author_id=None,
                               brand="Acme")
            store_mention(uow, item, "Acme", app.clock)
    triage_backlog(app, KeywordClassifier)


def staff_id(app: App, name: str) -> int:
    with app.unit_of_work() as uow:
        return uow.session.scalars(select(Staff.id).where(Staff.name == name)).one()


async def press(standin: ControlClient, message_id: int, data: str, then: str, count: int) -> None:
    """Lena presses a button; waits (off the event loop, where the bot polls) until the bot has answered."""
    await asyncio.to_thread(standin.press_button, LENA, message_id, data)
    await asyncio.to_thread(standin.wait_for, then, count, LENA if then != "answerCallbackQuery" else None)


async def deliver(app: App, application: Any) -> None:
    await OutboxSender(app, application.bot, per_chat_interval=0, global_rate=None).drain_once()


async def test_a_lead_acknowledges_sends_the_holding_reply_and_switches_alerts_on(
        app: App, telegram_standin: ControlClient) -> None:
    clock = app.clock
    assert isinstance(clock, ManualClock)
    crawl(app, ["Terrible delivery, quiet day one"])
    clock.advance(days=2)
    crawl(app, [f"Terrible: card declined at checkout ({n})" for n in range(10)]
          + [f"Ужасно: карта отклонена ({n})" for n in range(2)])
    with app.unit_of_work() as uow:
        (incident,) = incidents.open_incidents(uow)
        incident_id = incident.id
    application = build_application(app)
    async with application:
        await deliver(app, application)
        (card,) = telegram_standin.messages(chat_id=LENA)
        assert card["text"].startswith(f"🚨 Incident #{incident_id}: Acme")
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=1)
        try:
            await press(telegram_standin, card["message_id"], f"incack:{incident_id}", "answerCallbackQuery", 1)
            await press(telegram_standin, card["message_id"], f"inchold:{incident_id}", "sendMessage", 2)
            confirmation = telegram_standin.messages(chat_id=LENA)[-1]
            assert "12 open cases" in confirmation["text"]
            await press(telegram_standin, confirmation["message_id"], f"incholdok:{incident_id}", "editMessageText",
                        1)
            await press(telegram_standin, card["message_id"], f"inccards:{incident_id}:on", "answerCallbackQuery", 4)
        finally:
            await application.updater.stop()
            await application.stop()
        await asyncio.sleep(0)
        clock.advance(minutes=2)
        await deliver(app, application)
    (done,) = [m for m in telegram_standin.messages(chat_id=LENA) if m["message_id"] == confirmation["message_id"]]
    assert "recorded on 12 cases" in done["text"]
    (shown,) = [m for m in telegram_standin.messages(chat_id=LENA) if m["message_id"] == card["message_id"]]
    assert "Acknowledged by Lena" in shown["text"] and "Holding reply sent by Lena" in shown["text"]
    assert "get their own alerts" in shown["text"]
    buttons = [b["callback_data"] for row in shown["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == [f"inccards:{incident_id}:off"]  # acknowledged; nothing left to hold-reply
    with app.unit_of_work() as uow:
        cases = list(uow.session.scalars(select(Case).where(Case.incident_id == incident_id)))
        assert len(cases) == 12 and all(c.status == "replied" and c.answered_at == clock() - timedelta(minutes=2)
                                        for c in cases)
        events = list(uow.session.scalars(select(CaseEvent).where(CaseEvent.kind == "holding_reply")))
        by_case = {e.mention_id: e.details["text"] for e in events}
        assert len(events) == 12 == len(by_case)
        assert sorted(set(by_case.values())) == sorted({HOLDING, "Мы знаем о сбое оплаты и чиним его."})
        replied = list(uow.session.scalars(select(CaseEvent).where(CaseEvent.kind == "replied")))
        assert {e.mention_id for e in replied} == set(by_case) and all(e.actor == "Lena" for e in replied)

    crawl(app, ["Terrible: card declined again (late)"])  # individual alerts are on again for this incident
    with app.unit_of_work() as uow:
        late = uow.session.scalars(select(Case).order_by(Case.id.desc())).first()
        assert late is not None and late.incident_id == incident_id and not late.alert_withheld
        assert uow.session.scalar(select(OutboxMessage.id).where(OutboxMessage.case_id == late.id,
                                                                 OutboxMessage.kind == "alert")) is not None
        with pytest.raises(ActionRefused):
            incident_actions.send_holding_reply(uow, app.config, incident_id, staff_id(app, "Anna"), app.clock)
    with app.unit_of_work() as uow:  # a second holding reply answers only the case that has not had one
        figures = incident_actions.send_holding_reply(uow, app.config, incident_id, staff_id(app, "Lena"), clock)
        assert (figures.replied, figures.refused) == (1, 0)
    assert telegram_standin.rejections() == []
