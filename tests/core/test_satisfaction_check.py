"""The satisfaction check after each day's crawl, on generated ratings stored in the database: the leads get
one warning when the brand's rolling average crosses 4.5 downwards, none while it wavers, and a new one only
after it has recovered; one message per brand, however many of its sources fell with it; /stats shows the
index."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.formatting import plain_text, render_notice
from bot.messages import stats as render_stats
from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.services import staff_actions
from review_watch.services.satisfaction import SatisfactionWarningView, check_satisfaction
from review_watch.storage.orm import OutboxMessage, Staff
from review_watch.storage.unit_of_work import UnitOfWork
from tests.support.configs import source_block, write_config
from tests.support.fakes import ManualClock
from tests.support.seed import mention

START = datetime(2026, 5, 4, 6, tzinfo=UTC)
LEADS = "\n[leads]\nsatisfaction_window_days = 7\nsatisfaction_min_ratings = 5\nsatisfaction_drop = 1.0\n"


TRUSTPILOT = source_block("acme-tp", "trustpilot", "http://127.0.0.1:9/review/acme.com")
GOOGLE_PLAY = source_block("acme-android", "googleplay", "https://play.google.com/store/apps/details?id=com.acme")


def make_app(tmp_path: Path, database_url: str, sources: str) -> App:
    config = write_config(tmp_path, database_url=database_url, extra=LEADS, sources=sources)
    app = App(load_config(config), clock=ManualClock(START))
    app.sessions  # noqa: B018
    return app


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> App:
    return make_app(tmp_path, database_url, TRUSTPILOT)


def day_of_reviews(app: App, day: int, mean: float, rng: random.Random, count: int = 6,
                   source: str = "acme-tp") -> None:
    total = round(mean * count)
    stars = [total // count + (1 if i < total % count else 0) for i in range(count)]
    rng.shuffle(stars)
    for i, star in enumerate(stars):
        mention(app, source, arrived_at=START + timedelta(days=day, minutes=50 * i), rating=float(star),
                text=f"{source} review {day}-{i}", negative=star <= 2)


def check_after_the_crawl_of(app: App, day: int) -> list[SatisfactionWarningView]:
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.now = START + timedelta(days=day, hours=12)
    with app.unit_of_work() as uow:
        return check_satisfaction(uow, app.config, clock.now)


def lena(uow: UnitOfWork) -> int:
    return uow.session.scalars(select(Staff.id).where(Staff.name == "Lena")).one()


def warnings_sent(app: App) -> list[dict[str, object]]:
    with app.unit_of_work() as uow:
        return [m.payload for m in uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                if m.payload.get("notice") == "satisfaction"]


def test_one_warning_per_fall_through_the_line(app: App) -> None:
    clock = app.clock
    assert isinstance(clock, ManualClock)
    rng = random.Random(3)
    means = [4.85] * 10 + [4.35 if day % 2 else 4.65 for day in range(14)] + [4.85] * 10 + [4.0] * 8
    told_on = []
    for day, mean in enumerate(means):
        day_of_reviews(app, day, mean, rng)
        if check_after_the_crawl_of(app, day):
            told_on.append(day)
    assert len(told_on) == 2 and 10 <= told_on[0] < 24 and told_on[1] >= 34
    sent = warnings_sent(app)
    assert len(sent) == 2  # to Lena, the only lead, once per fall: the brand and its one source are one warning
    assert all(w["source"] is None and w["sources"] == [] for w in sent)
    assert sent[0]["reason"] == "below" and float(str(sent[0]["average"])) < 4.5

    with app.unit_of_work() as uow:
        figures = staff_actions.team_figures(uow, lena(uow), clock.now)
        satisfaction = staff_actions.satisfaction_figures(uow, app.config, lena(uow), clock.now)
    text = plain_text(render_stats(figures, "en", satisfaction, 7))
    assert "Acme" in text and "satisfaction" in text.lower() and "warning" in text.lower()


def source_rows(warning: dict[str, object]) -> list[tuple[object, object]]:
    rows = warning["sources"]
    assert isinstance(rows, list)
    return [(row["source"], row["warned"]) for row in rows]


def test_one_message_per_brand_fall_with_its_sources_inside(tmp_path: Path, database_url: str) -> None:
    app = make_app(tmp_path, database_url, TRUSTPILOT + GOOGLE_PLAY)
    rng = random.Random(5)
    for day in range(7):
        day_of_reviews(app, day, 5.0, rng, count=18)
        day_of_reviews(app, day, 5.0, rng, count=2, source="acme-android")
        assert check_after_the_crawl_of(app, day) == []
    for day in range(7, 14):  # the app falls; the brand, carried by eighteen five-star reviews a day, does not
        day_of_reviews(app, day, 5.0, rng, count=18)
        day_of_reviews(app, day, 2.0, rng, count=2, source="acme-android")
        check_after_the_crawl_of(app, day)
    (alone,) = warnings_sent(app)
    assert (alone["brand"], alone["source"], alone["reason"]) == ("Acme", "acme-android", "below")
    assert source_rows(alone) == [("acme-android", True), ("acme-tp", False)]

    for day in range(14, 24):  # then the brand falls, and a day later its Trustpilot page: one message
        day_of_reviews(app, day, 3.5, rng, count=18)
        day_of_reviews(app, day, 2.0, rng, count=2, source="acme-android")
        check_after_the_crawl_of(app, day)
    (_, brand) = warnings_sent(app)
    assert brand["source"] is None and float(str(brand["average"])) < 4.5
    assert source_rows(brand)[0] == ("acme-android", True)
    text = plain_text(render_notice(brand, None, "en"))
    assert text.startswith(f"📉 Satisfaction for Acme fell to {float(str(brand['average'])):g} of 5, below 4.5")
    assert "\n• acme-android: " in text and "\n• acme-tp: " in text
    with app.unit_of_work() as uow:
        figures = staff_actions.satisfaction_figures(uow, app.config, lena(uow), START + timedelta(days=24))
    assert figures[0].warned == {"", "acme-android", "acme-tp"}  # /stats marks the Trustpilot page's fall
