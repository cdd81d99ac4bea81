"""A simulated week of crisis detection through the service layer and the stand-in Bot API.

Acme has a quiet baseline (about one complaint every two hours, a few from its app's store) and, on Friday,
a burst of 120 complaints in three hours ("card declined at checkout"). Globex hears of one complaint every two
days and has a Thursday of five scattered complaints. Every 15 minutes a "crawl" stores what arrived and
triage runs as after a crawl (`triage_backlog`: classification, the crisis check, cases), and the real sender
delivers the outbox to the stand-in; the bot's tick (the scheduler and the crisis check) runs between crawls.
Expected: exactly one incident, for Acme, opened within the burst's first hour and closed when the rate has
been usual for `close_after`; at most 10 individual alert cards for the burst's cases; the lead told at
opening (one card, edited in place with the running count) and at closing (with totals); none for Globex;
nothing the stand-in refuses. Acme's app store has a reply connector (the Google Play stand-in): the lead's
holding reply is posted there once per case, by the bot's reply sender (`post_due`), and recorded as sent
outside for the Trustpilot cases.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import build_application
from bot.sender import OutboxSender
from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.entrypoints.triage_worker import triage_backlog
from review_watch.services import incident_actions, incidents, replies
from review_watch.services.cases import scheduler_tick
from review_watch.services.ingest import store_mention
from review_watch.storage.orm import Case, CaseEvent, Incident, OutboxMessage, ReplyRow, Staff
from spiders.items import MentionItem
from tests.platform_standins.google_play import GooglePlayStandIn, Review
from tests.support.configs import source_block, write_config
from tests.support.fakes import KeywordClassifier, ManualClock
from tests.telegram_standin.fixture import telegram_standin  # noqa: F401 - the fixture
from tests.telegram_standin.runner import ControlClient

WEEK = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday
BURST_START = WEEK + timedelta(days=4, hours=10)  # Friday 10:00 UTC
BURST_END = BURST_START + timedelta(hours=3)
STEP = timedelta(minutes=15)
LENA = 1004
AGENTS = {1001: "Anna", 1002: "Boris", 1003: "Carl"}
HOLDING_EN = "We know card payments fail at checkout and are fixing it. We will write again when it works."
HOLDING_RU = "Мы знаем, что оплата картой не проходит, и чиним это. Напишем, когда всё заработает."
PACKAGE = "com.acme"
ACCOUNT = "replies@acme-reviews.iam.gserviceaccount.com"

STAFF = """
[[staff]]
name = "Anna"
telegram_id = 1001
languages = ["en", "de"]

[[staff]]
name = "Boris"
telegram_id = 1002
languages = ["ru", "en"]

[[staff]]
name = "Carl"
telegram_id = 1003
languages = ["en", "sv"]

[[staff]]
name = "Lena"
telegram_id = 1004
role = "lead"
languages = ["en"]
"""

EXTRA = f"""
[[brands]]
name = "Globex"
aliases = ["Globex"]

[crisis]
card_interval = 60

[crisis.holding_reply]
en = "{HOLDING_EN}"
ru = "{HOLDING_RU}"
"""

BURST_TEXTS = ("Card declined at checkout, three times now. Terrible.",
               "Checkout broken: my card declined although the bank says all is fine",
               "card declined!!! awful checkout",
               "Карта отклонена при оплате, ужасно", "Terrible: card declined at checkout again")
QUIET_TEXTS = ("The parcel was late and the courier was rude, terrible", "Support never answered, awful",
               "Refund took three weeks. Terrible service", "Shoes fell apart after a month, awful",
               "Wrong size sent again, terrible")


def _arrivals(rng: random.Random) -> list[tuple[datetime, str, str, str, bool]]:
    """(arrival, brand, source, text, negative) for the whole week."""
    items = []
    at = WEEK
    while at < WEEK + timedelta(days=7):  # Acme: a complaint about every two hours, praise in between
        at += timedelta(minutes=rng.expovariate(1 / 120))
        source = "acme-play" if rng.random() < 0.3 else "acme-tp"
        items.append((at, "Acme", source, rng.choice(QUIET_TEXTS), True))
        items.append((at + timedelta(minutes=7), "Acme", source, "Lovely shop, fast delivery", False))
    for i in range(120):  # the burst
        offset = timedelta(seconds=rng.uniform(0, 3 * 3600))
        items.append((BURST_START + offset, "Acme", "acme-tp" if i % 4 else "acme-play", BURST_TEXTS[i % 5], True))
    for day in range(0, 7, 2):  # Globex: one complaint every two days...
        items.append((WEEK + timedelta(days=day, hours=14), "Globex", "globex-tp", "Terrible support", True))
    for hour in (9, 11, 13, 15, 17):  # ...and a Thursday of five scattered ones
        items.append((WEEK + timedelta(days=3, hours=hour, minutes=20), "Globex", "globex-tp",
                      f"Awful: order {hour} never arrived", True))
    return sorted(items)


def _item(serial: int, brand: str, source: str, text: str, negative: bool) -> MentionItem:
    """Each customer's words differ a little: the same text twice would be a cross-post, stored as a duplicate."""
    return MentionItem(source=source, source_type="googleplay" if source.endswith("play") else "trustpilot",
                       external_id=f"{source}-{serial}", url=f"https://example.com/{source}/{serial}",
                       author=f"customer {serial}", published_at=None, rating=1 if negative else 5, rating_max=5,
                       title=None, text=f"{text} (#{serial})", language="ru" if "Карта" in text else "en",
                       author_id=f"{brand}-{serial}", brand=brand)


@pytest.fixture
def play() -> Iterator[GooglePlayStandIn]:
    """Google Play with every review of Acme's app that the week brings."""
    server = GooglePlayStandIn()
    server.start()
    for serial, (_, _, source, text, negative) in enumerate(_arrivals(random.Random(17))):
        if source == "acme-play":
            server.add_review(PACKAGE, Review(f"{source}-{serial}", text, 1 if negative else 5))
    yield server
    server.stop()


@pytest.fixture
def app(tmp_path: Path, database_url: str, telegram_standin: ControlClient,  # noqa: F811
        play: GooglePlayStandIn) -> App:
    (tmp_path / "key.json").write_text(json.dumps(play.add_account(ACCOUNT, {PACKAGE})))
    sources = (source_block("acme-tp", "trustpilot", "https://www.trustpilot.com/review/acme.com")
               + source_block("acme-play", "googleplay", f"https://play.google.com/store/apps/details?id={PACKAGE}")
               + f'[sources.reply]\nkey_file = "key.json"\napi_url = "{play.url}"\ntoken_url = "{play.token_url}"\n'
               + source_block("globex-tp", "trustpilot", "https://www.trustpilot.com/review/globex.com",
                              brand="Globex"))
    config = write_config(tmp_path, database_url=database_url, api_url=telegram_standin.api_url,
                          token=telegram_standin.token, sources=sources, staff=STAFF, extra=EXTRA,
                          sla_calendar="always", response="30 business days", model="keywords")
    return App(load_config(config), clock=ManualClock(WEEK))


def _pending(app: App) -> bool:
    with app.unit_of_work() as uow:
        return uow.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.status == "pending", OutboxMessage.not_before <= app.clock()).limit(1)) is not None


async def _simulate(app: App, clock: ManualClock, holding_reply_at: datetime) -> None:
    rng = random.Random(17)
    arrivals = _arrivals(rng)
    classifier = KeywordClassifier()
    lena_id = _staff_id(app, "Lena")
    application = build_application(app)
    async with application:
        sender = OutboxSender(app, application.bot, per_chat_interval=0, global_rate=None)
        serial = 0
        while clock.now < WEEK + timedelta(days=7):
            clock.advance(minutes=STEP.total_seconds() / 60)
            with app.unit_of_work() as uow:  # the crawl: what arrived since the last one, then triage
                while serial < len(arrivals) and arrivals[serial][0] <= clock.now:
                    _, brand, source, text, negative = arrivals[serial]
                    store_mention(uow, _item(serial, brand, source, text, negative), brand, clock)
                    serial += 1
            triage_backlog(app, lambda: classifier)  # crawl_then_triage's triage: the crisis check included
            if holding_reply_at <= clock.now < holding_reply_at + STEP:
                with app.unit_of_work() as uow:
                    (incident,) = incidents.open_incidents(uow)
                    incident_id = incident.id
                for _ in range(2):  # pressed twice
                    with app.unit_of_work() as uow:
                        incident_actions.send_holding_reply(uow, app.config, app.connectors, incident_id, lena_id,
                                                            clock)
            await replies.post_due(app.unit_of_work, app.config, app.connectors, clock, limit=100)
            if _pending(app):
                await sender.drain_once()
            clock.advance(minutes=5)  # the bot's tick, between crawls
            with app.unit_of_work() as uow:
                scheduler_tick(uow, app.config, clock)
            with app.unit_of_work() as uow:
                incidents.check(uow, app.config, clock)
            clock.advance(minutes=1)  # the card's edits wait for the end of their minute
            if _pending(app):
                await sender.drain_once()
            clock.advance(minutes=-6)


def _staff_id(app: App, name: str) -> int:
    with app.unit_of_work() as uow:
        return uow.session.scalars(select(Staff.id).where(Staff.name == name)).one()


def test_a_week_with_one_burst_opens_one_incident_and_closes_it(app: App, telegram_standin: ControlClient,  # noqa: F811
                                                                play: GooglePlayStandIn) -> None:
    assert isinstance(app.clock, ManualClock)
    holding_reply_at = BURST_START + timedelta(hours=1, minutes=30)
    asyncio.run(_simulate(app, app.clock, holding_reply_at))

    with app.unit_of_work() as uow:
        (incident,) = uow.session.scalars(select(Incident)).all()  # exactly one, and none for Globex
        assert incident.brand == "Acme" and incident.source is None and incident.status == "closed"
        assert BURST_START < incident.opened_at <= BURST_START + timedelta(hours=1)
        assert incident.closed_at is not None
        assert BURST_END + app.config.crisis.settings.close_after <= incident.closed_at <= BURST_END + timedelta(
            hours=5)
        burst_cases = list(uow.session.scalars(select(Case).where(
            Case.arrived_at > BURST_START, Case.arrived_at <= BURST_END + timedelta(minutes=15))))
        assert len(burst_cases) >= 120
        carded = set(uow.session.scalars(select(OutboxMessage.case_id).where(
            OutboxMessage.kind == "alert", OutboxMessage.status == "sent",
            OutboxMessage.case_id.in_([c.id for c in burst_cases]))))
        assert len(carded) <= 10  # the rest went to the incident card's running count
        linked = [c for c in burst_cases if c.incident_id == incident.id]
        assert len(linked) >= 110
        on_the_incident = len(list(uow.session.scalars(select(Case.id).where(Case.incident_id == incident.id))))
        withheld = [c for c in linked if c.alert_withheld]
        assert len(withheld) >= len(linked) - 10

        # The holding reply: every case open at that moment got it once, as a reply; later ones did not. On
        # Google Play it was posted, once, and the case answered when Google took it; on Trustpilot (no reply
        # connector) it was recorded as sent outside.
        holding = list(uow.session.scalars(select(CaseEvent).where(CaseEvent.kind == "holding_reply")))
        replied_ids = [event.mention_id for event in holding]
        assert len(replied_ids) == len(set(replied_ids)) > 20
        posted = {row.case_id: row for row in uow.session.scalars(select(ReplyRow))}
        on_play = [case for case in linked if case.id in replied_ids and case.mention.source.name == "acme-play"]
        assert len(on_play) > 5 and set(posted) == {case.id for case in on_play}
        for case in on_play:
            holding_text = HOLDING_RU if case.mention.language == "ru" else HOLDING_EN
            assert [r["text"] for r in play.replies_to(case.mention.external_id)] == [holding_text]
            assert posted[case.id].state == "posted" and posted[case.id].author.name == "Lena"
            assert case.answered_at == posted[case.id].accepted_at
        assert len(play.replies) == len(on_play) and play.rejections == []
        for case in linked:
            if case.id in replied_ids:
                assert case.answered_at is not None and case.answered_at <= holding_reply_at + timedelta(minutes=15)
                assert case.status == "replied"
                assert uow.session.scalar(select(OutboxMessage.id).where(
                    OutboxMessage.case_id == case.id, OutboxMessage.kind.in_(("reminder", "escalation"))
                    ).limit(1)) is None  # its clock stopped
            elif case.arrived_at > holding_reply_at + STEP:
                assert case.answered_at is None  # its clock still runs
        events = {event.mention_id: event for event in holding}
        sample = events[replied_ids[0]]
        assert sample.details["incident"] == incident.id and sample.actor == "Lena"
        russian = [c for c in linked if c.id in events and c.mention.language == "ru"]
        assert russian and all(events[c.id].details["text"].startswith("Мы знаем") for c in russian)

    # The lead: one card, edited in place with the running count, closed at the end; one closing message.
    to_lena = telegram_standin.sent(chat_id=LENA)
    (card,) = [s for s in to_lena if s["method"] == "sendMessage" and s["text"].startswith("🚨 Incident #")]
    assert f"Incident #{incident.id}: Acme" in card["text"] and "card declined" in card["text"]
    buttons = [b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == [f"incack:{incident.id}", f"inchold:{incident.id}", f"inccards:{incident.id}:on"]
    edits = [s for s in to_lena if s["method"] == "editMessageText" and s["message_id"] == card["message_id"]]
    assert len(edits) >= 5
    counts = [int(s["text"].split("Cases: ")[1].split(" ")[0]) for s in edits]
    assert counts == sorted(counts) and counts[-1] == on_the_incident  # a running count, never going back
    assert all(later["t"] - earlier["t"] >= 0 for earlier, later in zip(edits, edits[1:], strict=False))
    (shown,) = [m for m in telegram_standin.messages(chat_id=LENA) if m["message_id"] == card["message_id"]]
    assert "(closed)" in shown["text"] and not shown.get("reply_markup", {}).get("inline_keyboard")
    assert "Holding reply sent by Lena" in shown["text"]
    (closing,) = [s for s in to_lena if s["method"] == "sendMessage" and "is closed" in s["text"]]
    assert f"{on_the_incident} cases" in closing["text"]
    assert not any("Globex" in s["text"] and "Incident" in s["text"] for s in to_lena)
    for agent in AGENTS:  # incident cards go to the leads only; agents still got the quiet days' alerts
        texts = [s["text"] for s in telegram_standin.sent(chat_id=agent, method="sendMessage")]
        assert texts and not any("Incident" in text for text in texts)
    assert telegram_standin.rejections() == []
