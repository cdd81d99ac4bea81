"""The incident card's buttons, pressed in the stand-in Bot API and answered by the bot's handlers (polling in
process): acknowledge, the holding reply after its confirmation, individual alerts back on; agents refused. The
holding reply posted to Google Play (its stand-in) where the source has a reply connector, with the platform's
refusals gathered into one message to the lead, and how those messages read."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build_application
from bot.incident_cards import render_hold_done, render_holding_refusals
from bot.sender import OutboxSender
from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.entrypoints.triage_worker import triage_backlog
from review_watch.services import incident_actions, incidents, replies
from review_watch.services.cases import ActionRefused
from review_watch.services.incident_actions import CopyByHand, HoldingRefusal, HoldingReplyFigures
from review_watch.services.ingest import store_mention
from review_watch.storage.orm import Case, CaseEvent, OutboxMessage, ReplyRow, Staff
from spiders.items import MentionItem
from tests.platform_standins.google_play import GooglePlayStandIn, Review
from tests.support.configs import source_block, write_config
from tests.support.fakes import KeywordClassifier, ManualClock
from tests.telegram_standin.runner import ControlClient

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ANNA, LENA = 1001, 1004
HOLDING = "We know about the failed payments and are fixing them."
EXTRA = f'\n[crisis.holding_reply]\nen = "{HOLDING}"\nru = "Мы знаем о сбое оплаты и чиним его."\n'
PACKAGE = "com.acme.app"
ACCOUNT = "replies@acme-reviews.iam.gserviceaccount.com"


@pytest.fixture
def app(tmp_path: Path, telegram_standin: ControlClient) -> App:
    config = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}", api_url=telegram_standin.api_url,
                          token=telegram_standin.token, model="keywords", sla_calendar="always",
                          sources=source_block("acme-tp", "trustpilot", "https://www.trustpilot.com/review/acme.com"),
                          extra=EXTRA)
    return App(load_config(config), clock=ManualClock(NOW - timedelta(days=2)))


def crawl(app: App, texts: list[str], source: str = "acme-tp") -> None:
    """Store complaints arriving now (in Russian when they are written in it) and triage them as
    `review-watch crawl` does; on Google Play a text's first word is its review's id."""
    with app.unit_of_work() as uow:
        for text in texts:
            on_play = source == "acme-play"
            external_id = text.split()[0] if on_play else text
            url = (f"https://play.google.com/store/apps/details?id={PACKAGE}&reviewId={external_id}" if on_play
                   else f"https://www.trustpilot.com/reviews/{hashlib.sha1(text.encode()).hexdigest()[:12]}")
            item = MentionItem(source=source, source_type="googleplay" if on_play else "trustpilot",
                               external_id=external_id, url=url, author=text, published_at=None, rating=1, rating_max=5,
                               title=None, text=text, language="ru" if text.startswith("Ужасно") else "en",
                               author_id=None, brand="Acme")
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
    assert "Recorded as sent outside on 12 cases" in done["text"]  # Trustpilot here has no reply connector
    with app.unit_of_work() as uow:  # each case to copy it to by hand, with its link
        urls = {case.id: case.mention.url for case in uow.session.scalars(
            select(Case).where(Case.incident_id == incident_id))}
    assert all(f"#{case_id} (Trustpilot) {url}" in done["text"] for case_id, url in urls.items())
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
            incident_actions.send_holding_reply(uow, app.config, app.connectors, incident_id, staff_id(app, "Anna"),
                                                app.clock)
    with app.unit_of_work() as uow:  # a second holding reply answers only the case that has not had one
        figures = incident_actions.send_holding_reply(uow, app.config, app.connectors, incident_id,
                                                      staff_id(app, "Lena"), clock)
        assert (figures.posting, [c.case_id for c in figures.sent_outside], figures.refused) == (
            0, [late.id], ())
    assert telegram_standin.rejections() == []


@pytest.fixture
def play_app(tmp_path: Path, telegram_standin: ControlClient, google_play: GooglePlayStandIn) -> App:
    """Acme's Trustpilot (no reply connector) and its Google Play app, whose replies go to the stand-in."""
    (tmp_path / "key.json").write_text(json.dumps(google_play.add_account(ACCOUNT, {PACKAGE})))
    sources = (source_block("acme-tp", "trustpilot", "https://www.trustpilot.com/review/acme.com")
               + source_block("acme-play", "googleplay", f"https://play.google.com/store/apps/details?id={PACKAGE}")
               + f'[sources.reply]\nkey_file = "key.json"\napi_url = "{google_play.url}"\n'
               + f'token_url = "{google_play.token_url}"\n'
               + "timeout = 5\n")
    config = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}", api_url=telegram_standin.api_url,
                          token=telegram_standin.token, model="keywords", sla_calendar="always", sources=sources,
                          extra=EXTRA.replace(HOLDING, "We know about the failed payments, case {case_number}.")
                          + '\n[replies]\napproval = "lead"\n')
    return App(load_config(config), clock=ManualClock(NOW - timedelta(days=2)))


async def test_the_holding_reply_is_posted_on_google_play_and_refusals_come_in_one_message(
        play_app: App, google_play: GooglePlayStandIn, telegram_standin: ControlClient) -> None:
    app, clock = play_app, play_app.clock
    assert isinstance(clock, ManualClock)
    crawl(app, ["Terrible delivery, quiet day one"])
    clock.advance(days=2)
    reviews = [f"gp-{n}" for n in range(12)]
    for review_id in reviews[:10]:  # the last two were deleted on Google Play after the crawl
        google_play.add_review(PACKAGE, Review(review_id, "Card declined at checkout, terrible", 1))
    crawl(app, [f"{review_id} Terrible: card declined at checkout" for review_id in reviews], source="acme-play")
    with app.unit_of_work() as uow:
        (incident,) = incidents.open_incidents(uow)
        incident_id, lena = incident.id, staff_id(app, "Lena")
        case_of = {case.mention.external_id: case.id for case in uow.session.scalars(
            select(Case).where(Case.incident_id == incident_id))}
    assert set(reviews) <= set(case_of)

    def send() -> HoldingReplyFigures:
        with app.unit_of_work() as uow:
            return incident_actions.send_holding_reply(uow, app.config, app.connectors, incident_id, lena, clock)

    def states() -> dict[str, tuple[str, str | None]]:
        """Each review's case status and its reply's state."""
        with app.unit_of_work() as uow:
            rows = {row.case_id: row.state for row in uow.session.scalars(select(ReplyRow))}
            return {review_id: (uow.session.get_one(Case, case_of[review_id]).status, rows.get(case_of[review_id]))
                    for review_id in reviews}

    async def post_and_tell_lena() -> list[str]:
        """The bot's reply sender, then its outbox sender a minute later: what Lena is told."""
        before = len(telegram_standin.sent(chat_id=LENA, method="sendMessage"))
        await replies.post_due(app.unit_of_work, app.config, app.connectors, clock)
        clock.advance(seconds=61)
        application = build_application(app)
        async with application:
            await deliver(app, application)
        return [m["text"] for m in telegram_standin.sent(chat_id=LENA, method="sendMessage")[before:]
                if "holding reply" in m["text"]]

    # A lead's holding reply is queued at once, though an agent's reply here would wait for a lead's approval.
    assert send() == HoldingReplyFigures(posting=12, sent_outside=(), refused=())
    assert send().posting == 0  # pressed twice: each case has its one holding reply on its way
    assert {state for state in states().values()} == {("assigned", "posting")}
    google_play.fail_next("expired_token", count=100)
    (told,) = await post_and_tell_lena()  # one message for twelve refusals, summed up
    assert "on 12 cases" in told and "12 × Google Play" in told and "token expired" in told
    assert all(f"#{case_of[review_id]}" in told for review_id in reviews)
    assert {state for state in states().values()} == {("assigned", "refused")} and google_play.replies == []

    google_play.clear_faults()  # the key works again: pressed again, the refused ones go again
    assert send().posting == 12
    (told,) = await post_and_tell_lena()
    assert told.count("\n• ") == 2 and "review is gone" in told  # one line for each
    assert all(f"#{case_of[review_id]} (Google Play)" in told for review_id in reviews[10:])
    assert {review_id: state for review_id, state in states().items()} == {
        **{review_id: ("replied", "posted") for review_id in reviews[:10]},
        **{review_id: ("assigned", "refused") for review_id in reviews[10:]}}
    for review_id in reviews[:10]:  # once each, filled in for its case
        assert [r["text"] for r in google_play.replies_to(review_id)] == [
            f"We know about the failed payments, case {case_of[review_id]}."]
    with app.unit_of_work() as uow:
        case = uow.session.get_one(Case, case_of[reviews[0]])
        assert case.answered_at == clock() - timedelta(seconds=61)  # the clock stopped when Google took it
        trail = [(e.kind, e.actor) for e in uow.session.scalars(
            select(CaseEvent).where(CaseEvent.mention_id == case.id).order_by(CaseEvent.id))]
        assert ("holding_reply", "Lena") in trail and ("reply_posted", "Lena") in trail
        assert ("replied", "Lena") in trail
        notices = [m.payload.get("notice") for m in uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "notice"))]
        assert "reply_posted" not in notices and "reply_refused" not in notices  # no message per case
    assert telegram_standin.rejections() == []


def test_the_report_of_a_press_lists_what_to_copy_by_hand_and_what_was_refused() -> None:
    outside = tuple(CopyByHand(n, "hackernews", f"https://news.ycombinator.com/item?id={n}", HOLDING)
                    for n in range(1, 4))
    refused = (HoldingRefusal(7, "googleplay", "too_long", "351 > 350 characters"),)
    text = render_hold_done(5, HoldingReplyFigures(posting=4, sent_outside=outside, refused=refused), "en")
    assert "posting to 4 cases" in text and "Recorded as sent outside on 3 cases" in text
    assert text.count(HOLDING) == 1  # the same text for all: given once
    assert "• #2 (Hacker News) https://news.ycombinator.com/item?id=2" in text
    assert "• #7 (Google Play): too long (351 &gt; 350 characters)" in text


def test_many_cases_to_copy_by_hand_stay_within_one_message() -> None:
    outside = tuple(CopyByHand(n, "rss", f"https://blog.example/{n}", f"{HOLDING} Case {n}.") for n in range(200))
    text = render_hold_done(5, HoldingReplyFigures(posting=0, sent_outside=outside, refused=()), "en")
    assert len(text) < 4096 and "more: /case ID shows each with its link" in text


def test_many_refusals_are_summed_up_by_platform_and_reason() -> None:
    refusals = [{"case_id": n, "platform": "googleplay", "kind": "gone", "reason": f"review {n} is gone"}
                for n in range(30)] + [{"case_id": 99, "platform": "trustpilot", "kind": "auth", "reason": "401"}]
    text = render_holding_refusals({"incident_id": 3, "refusals": refusals}, "en")
    lines = text.splitlines()
    assert lines[0] == "❌ The platforms did not take the holding reply of incident #3 on 31 cases:"
    assert lines[1].startswith("• 30 × Google Play: review 0 is gone: #0, #1,") and "and 10 more" in lines[1]
    assert lines[2] == "• 1 × Trustpilot: 401: #99" and "try again" in lines[3]
