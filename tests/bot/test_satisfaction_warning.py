"""The satisfaction warning reaches the lead through the real sender and the stand-in Bot API: one message per
fall of the brand, with its average, whether the brand has one source or two; the next crawl's check sends
nothing more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_application
from bot.sender import OutboxSender
from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.services.satisfaction import check_satisfaction
from tests.support.configs import source_block, write_config
from tests.support.fakes import ManualClock
from tests.support.seed import mention
from tests.telegram_standin.runner import ControlClient

ANNA, BORIS, LENA = 1001, 1002, 1004
FIRST_CRAWL = datetime(2026, 5, 4, 6, tzinfo=UTC)
LEADS = "\n[leads]\nsatisfaction_window_days = 7\nsatisfaction_min_ratings = 5\n"
SOURCES = {"acme-tp": source_block("acme-tp", "trustpilot", "http://127.0.0.1:9/review/acme.com"),
           "acme-android": source_block("acme-android", "googleplay",
                                        "https://play.google.com/store/apps/details?id=com.acme")}
STARS = [1, 2, 3, 3, 4, 3]  # 16 of 30: an average of 2.67 on each source


@pytest.fixture(params=[["acme-tp"], ["acme-tp", "acme-android"]], ids=["one source", "two sources"])
def app(request: pytest.FixtureRequest, tmp_path: Path, telegram_standin: ControlClient) -> App:
    config = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}", api_url=telegram_standin.api_url,
                          token=telegram_standin.token, extra=LEADS,
                          sources="".join(SOURCES[name] for name in request.param))
    app = App(load_config(config), clock=ManualClock(FIRST_CRAWL))
    app.sessions  # noqa: B018
    return app


def crawl_and_check(app: App, hours: int) -> None:
    """The ratings a crawl stores `hours` after the first, on every source, then the check the crawl runs."""
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.now = FIRST_CRAWL + timedelta(hours=hours)
    for source in app.config.sources:
        for n, stars in enumerate(STARS):
            mention(app, source.name, arrived_at=clock.now - timedelta(minutes=n + 1), rating=float(stars),
                    text=f"{source.name} review {hours}-{n}", negative=stars <= 2)
    with app.unit_of_work() as uow:
        check_satisfaction(uow, app.config, clock.now)


async def deliver(app: App) -> None:
    application = build_application(app)
    async with application:
        await OutboxSender(app, application.bot, per_chat_interval=0, global_rate=None).drain_once()


async def test_the_lead_gets_one_warning_with_the_brand_and_its_average(
        app: App, telegram_standin: ControlClient) -> None:
    crawl_and_check(app, hours=0)  # the brand's very first crawl
    await deliver(app)
    crawl_and_check(app, hours=24)  # still below the line: no new warning
    await deliver(app)

    (warning,) = telegram_standin.messages(chat_id=LENA)
    headline, *source_lines = warning["text"].splitlines()
    assert headline.startswith("📉 Satisfaction for Acme fell to 2.67 of 5, below 4.5")
    if len(app.config.sources) == 2:  # each source's figures inside the one message
        assert source_lines == ["• acme-android: 2.67 from 6 ratings ⚠️ warning",
                                "• acme-tp: 2.67 from 6 ratings ⚠️ warning"]
    else:
        assert source_lines == []
    assert not telegram_standin.messages(chat_id=ANNA) and not telegram_standin.messages(chat_id=BORIS)
    assert telegram_standin.rejections() == []
