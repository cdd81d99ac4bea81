"""The outbox sender against the stand-in, in process: edits, chat migration, transient errors."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import build_application
from bot.sender import OutboxSender
from review_watch.config import load_config
from review_watch.domain import cases as domain
from review_watch.entrypoints.bootstrap import App
from review_watch.services.cases import perform
from review_watch.services.triage import queue_message
from review_watch.storage.orm import Case, Mention, OutboxMessage, SentimentResult, Source, Staff
from tests.support.configs import source_block, write_config
from tests.telegram_standin.runner import ControlClient

ANNA, LENA = 1001, 1004


@pytest.fixture
def app(tmp_path: Path, telegram_standin: ControlClient) -> App:
    config = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}", api_url=telegram_standin.api_url,
                          token=telegram_standin.token,
                          sources=source_block("acme-tp", "trustpilot", "http://127.0.0.1:9/review/acme.com"))
    return App(load_config(config))


def staff(app: App, name: str) -> Staff:
    with app.unit_of_work() as uow:
        member = uow.session.scalars(select(Staff).where(Staff.name == name)).one()
        uow.session.expunge(member)
        return member


def open_case(app: App, assignee: str, text: str = "The parcel came broken and nobody answers.") -> int:
    now = app.clock()
    with app.unit_of_work() as uow:
        source = uow.session.scalars(select(Source)).one()
        member = uow.session.scalars(select(Staff).where(Staff.name == assignee)).one()
        mention = Mention(source_id=source.id, external_id=hashlib.sha1(text.encode()).hexdigest(),
                          brand_id=source.brand_id, url="https://www.trustpilot.com/reviews/x", rating=1.0,
                          rating_max=5.0, title="Bad", text=text, language="en",
                          content_hash=hashlib.sha256(text.encode()).hexdigest(), raw={}, arrived_at=now,
                          edit_count=0)
        uow.session.add(mention)
        uow.session.flush()
        uow.session.add(SentimentResult(mention_id=mention.id, label="negative", score=0.9, negative=True,
                                        language="en", model="test", classified_at=now))
        uow.session.add(Case(id=mention.id, brand="Acme", status="assigned", assignee_id=member.id, arrived_at=now,
                             deadline_at=now + timedelta(days=2), remind_at=now + timedelta(days=1),
                             escalation_level=0))
        uow.session.flush()
        queue_message(uow, kind="alert", dedupe_key=f"alert:{mention.id}", staff_id=member.id, case_id=mention.id,
                      now=now)
        uow.commit()
        return mention.id


def outbox_statuses(app: App) -> dict[str, str]:
    with app.unit_of_work() as uow:
        return {row.dedupe_key: row.status for row in uow.session.scalars(select(OutboxMessage))}


async def drain(app: App, rounds: int = 1) -> None:
    application = build_application(app)
    async with application:
        sender = OutboxSender(app, application.bot)
        for _ in range(rounds):
            await sender.drain_once()


async def test_changes_in_one_round_become_one_edit_of_the_card(app: App, telegram_standin: ControlClient) -> None:
    case_id = open_case(app, "Anna")
    await drain(app)
    (alert,) = telegram_standin.messages(chat_id=ANNA)
    anna = staff(app, "Anna")
    with app.unit_of_work() as uow:
        perform(uow, app.config, case_id, domain.Claim(), anna, app.clock)
    with app.unit_of_work() as uow:
        perform(uow, app.config, case_id, domain.Reply(domain.ReplyChannel.SENT_OUTSIDE), anna, app.clock)
    await drain(app)
    (edit,) = telegram_standin.sent(chat_id=ANNA, method="editMessageText")
    assert edit["message_id"] == alert["message_id"] and "replied" in edit["text"].lower()
    assert set(outbox_statuses(app).values()) == {"sent", "skipped"}  # the claim's edit was superseded
    assert telegram_standin.rejections() == []


async def test_an_edit_that_changes_nothing_is_not_sent(app: App, telegram_standin: ControlClient) -> None:
    case_id = open_case(app, "Anna")
    await drain(app)
    with app.unit_of_work() as uow:
        perform(uow, app.config, case_id, domain.Claim(), staff(app, "Anna"), app.clock)
    application = build_application(app)
    async with application:
        sender = OutboxSender(app, application.bot)
        await sender.drain_once()
        with app.unit_of_work() as uow:
            row = uow.session.get_one(Case, case_id)
            queue_message(uow, kind="edit", dedupe_key="edit:again", staff_id=None, case_id=case_id,
                          now=app.clock(), payload={"chat_id": row.alert_chat_id, "message_id": row.alert_message_id})
            uow.commit()
        await sender.drain_once()
    assert len(telegram_standin.sent(chat_id=ANNA, method="editMessageText")) in (1, 2)  # 2 only if a minute passed
    assert telegram_standin.rejections() == []
    assert "pending" not in outbox_statuses(app).values()


async def test_a_migrated_group_chat_is_followed(app: App, telegram_standin: ControlClient) -> None:
    group, supergroup = -555, -1000000000555
    with app.unit_of_work() as uow:
        lena = uow.session.scalars(select(Staff).where(Staff.name == "Lena")).one()
        lena.chat_id = group
        queue_message(uow, kind="notice", dedupe_key="notice:1", staff_id=lena.id, case_id=None, now=app.clock(),
                      payload={"notice": "source_broken", "source": "acme-tp", "reason": "no reviews found"})
        uow.commit()
    telegram_standin.migrate(group, supergroup)
    await drain(app, rounds=2)
    (notice,) = telegram_standin.messages(chat_id=supergroup)
    assert "acme-tp" in notice["text"]
    assert staff(app, "Lena").chat_id == supergroup
    assert telegram_standin.rejections() == []


async def test_a_bad_gateway_is_retried_later_and_delivered_once(app: App, telegram_standin: ControlClient) -> None:
    open_case(app, "Anna")
    telegram_standin.fail_next("bad_gateway", count=1, method="sendMessage")
    await drain(app)
    assert telegram_standin.messages(chat_id=ANNA) == []
    with app.unit_of_work() as uow:
        row = uow.session.scalars(select(OutboxMessage)).one()
        assert row.status == "pending" and row.attempts == 1 and "Bad Gateway" in (row.last_error or "")
        row.not_before = app.clock()  # the backoff has passed
        uow.commit()
    await drain(app)
    assert len(telegram_standin.messages(chat_id=ANNA)) == 1
    assert list(outbox_statuses(app).values()) == ["sent"]


async def test_after_a_429_the_chat_waits_and_keeps_its_order(app: App, telegram_standin: ControlClient) -> None:
    with app.unit_of_work() as uow:
        anna = uow.session.scalars(select(Staff).where(Staff.name == "Anna")).one()
        for n in (1, 2, 3):
            queue_message(uow, kind="notice", dedupe_key=f"notice:{n}", staff_id=anna.id, case_id=None,
                          now=app.clock(), payload={"notice": "source_broken", "source": f"source-{n}", "reason": "-"})
        uow.commit()
    telegram_standin.fail_next("retry_after", count=1, method="sendMessage", retry_after=1)
    application = build_application(app)
    async with application:
        sender = OutboxSender(app, application.bot)
        await sender.drain_once()
        assert telegram_standin.messages(chat_id=ANNA) == []  # the rest of the chat waits too
        await sender.drain_once()
        assert telegram_standin.messages(chat_id=ANNA) == []  # still within retry_after
        await asyncio.sleep(1.1)
        await sender.drain_once()
    shown = [m["text"] for m in telegram_standin.messages(chat_id=ANNA)]
    assert [text.split("source-")[1][0] for text in shown] == ["1", "2", "3"]
    assert telegram_standin.rejections() == []
