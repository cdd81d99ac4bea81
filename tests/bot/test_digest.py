"""The weekly digest goes to the lead at 09:00 on their calendar, across the spring clock change, through the
stand-in Bot API: a message with the per-person figures worked out by hand, and a chart accepted as a photo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import build_application
from bot.sender import OutboxSender
from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.services.digests import queue_due_digests
from review_watch.storage.orm import OutboxMessage
from tests.support.configs import source_block, write_config
from tests.support.seed import seed_review_week
from tests.telegram_standin.runner import ControlClient

LENA = 1004
LEADS = '\n[leads]\ndigests = ["weekly"]\ndigest_time = "09:00"\ndigest_weekday = "mon"\n'
SLOT = datetime(2026, 3, 30, 7, tzinfo=UTC)  # Monday 09:00 CEST; a week earlier 09:00 was 08:00 UTC


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(SLOT - timedelta(minutes=1))


@pytest.fixture
def app(tmp_path: Path, telegram_standin: ControlClient, clock: Clock) -> App:
    config = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}", api_url=telegram_standin.api_url,
                          token=telegram_standin.token, extra=LEADS,
                          sources=source_block("acme-tp", "trustpilot", "http://127.0.0.1:9/review/acme.com"))
    app = App(load_config(config), clock=clock)
    app.sessions  # noqa: B018
    return app


def queue(app: App) -> list[str]:
    with app.unit_of_work() as uow:
        return [f"{d.lead}:{d.brand}:{d.kind}:{d.local_day}" for d in queue_due_digests(uow, app.config, app.clock())]


async def drain(app: App) -> None:
    application = build_application(app)
    async with application:
        await OutboxSender(app, application.bot, per_chat_interval=0, global_rate=None).drain_once()


async def test_weekly_digest_at_nine_local_after_the_clock_change(app: App, clock: Clock,
                                                                  telegram_standin: ControlClient) -> None:
    seed_review_week(app)
    clock.now = datetime(2026, 3, 30, 6, 59, tzinfo=UTC)  # 08:59 CEST (07:59 by last week's offset)
    assert queue(app) == []
    clock.now = SLOT + timedelta(seconds=30)
    assert queue(app) == ["Lena:Acme:weekly:2026-03-30"]
    clock.now = SLOT + timedelta(minutes=30)
    assert queue(app) == []  # once per slot

    await drain(app)

    texts = telegram_standin.sent(chat_id=LENA, method="sendMessage")
    photos = telegram_standin.sent(chat_id=LENA, method="sendPhoto")
    assert len(texts) == 1 and len(photos) == 1
    text = texts[0]["text"]
    assert "Acme" in text and "13 mentions" in text and "7 negative (54%)" in text
    # by hand (tests/support/seed.py): Anna 2 of 3 in time, median 2.5 business hours, one overdue now;
    # Boris 2 of 2, median (0.75 + 1) / 2 = 0.875 h
    assert "Anna: 67% in time (2 of 3), median first reply 2.5 h, overdue now 1" in text
    assert "Boris: 100% in time (2 of 2), median first reply 0.9 h, overdue now 0" in text
    picture = telegram_standin.file(photos[0]["photo"])
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    assert telegram_standin.rejections() == []
    with app.unit_of_work() as uow:
        assert {m.kind: m.status for m in uow.session.scalars(select(OutboxMessage))} == {
            "digest": "sent", "digest_chart": "sent"}


def test_a_lead_on_a_later_calendar_gets_it_at_their_own_nine(tmp_path: Path, clock: Clock) -> None:
    staff = ('\n[[staff]]\nname = "Lena"\ntelegram_id = 1004\nrole = "lead"\ncalendar = "always"\n'
             '\n[[staff]]\nname = "Anna"\ntelegram_id = 1001\n')
    config = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}", extra=LEADS, staff=staff,
                          sources=source_block("acme-tp", "trustpilot", "http://127.0.0.1:9/review/acme.com"))
    app = App(load_config(config), clock=clock)
    app.sessions  # noqa: B018
    clock.now = SLOT + timedelta(seconds=30)  # 07:00 UTC: not yet 09:00 in UTC
    assert queue(app) == []
    clock.now = datetime(2026, 3, 30, 9, 0, 30, tzinfo=UTC)
    assert queue(app) == ["Lena:Acme:weekly:2026-03-30"]
