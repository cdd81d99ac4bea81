"""The satisfaction check after each day's crawl, on generated ratings stored in the database: the leads get
one warning when the brand's rolling average crosses 4.5 downwards, none while it wavers, and a new one only
after it has recovered; /stats shows the index."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.formatting import plain_text
from bot.messages import stats as render_stats
from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.services import staff_actions
from review_watch.services.satisfaction import check_satisfaction
from review_watch.storage.orm import OutboxMessage, Staff
from tests.support.configs import source_block, write_config
from tests.support.fakes import ManualClock
from tests.support.seed import mention

START = datetime(2026, 5, 4, 6, tzinfo=UTC)
LEADS = "\n[leads]\nsatisfaction_window_days = 7\nsatisfaction_min_ratings = 5\nsatisfaction_drop = 1.0\n"


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> App:
    config = write_config(tmp_path, database_url=database_url, extra=LEADS,
                          sources=source_block("acme-tp", "trustpilot", "http://127.0.0.1:9/review/acme.com"))
    app = App(load_config(config), clock=ManualClock(START))
    app.sessions  # noqa: B018
    return app


def day_of_reviews(app: App, day: int, mean: float, rng: random.Random, count: int = 6) -> None:
    total = round(mean * count)
    stars = [total // count + (1 if i < total % count else 0) for i in range(count)]
    rng.shuffle(stars)
    for i, star in enumerate(stars):
        mention(app, "acme-tp", arrived_at=START + timedelta(days=day, minutes=50 * i), rating=float(star),
                text=f"review {day}-{i}", negative=star <= 2)


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
        clock.now = START + timedelta(days=day, hours=12)  # the day's crawl is done
        with app.unit_of_work() as uow:
            if [w for w in check_satisfaction(uow, app.config, clock.now) if w.source is None]:
                told_on.append(day)
    assert len(told_on) == 2 and 10 <= told_on[0] < 24 and told_on[1] >= 34
    whole_brand = [w for w in warnings_sent(app) if w["source"] is None]
    assert len(whole_brand) == 2  # to Lena, the only lead, once per fall
    assert whole_brand[0]["reason"] == "below" and float(str(whole_brand[0]["average"])) < 4.5

    with app.unit_of_work() as uow:
        lena = uow.session.scalars(select(Staff.id).where(Staff.name == "Lena")).one()
        figures = staff_actions.team_figures(uow, lena, clock.now)
        satisfaction = staff_actions.satisfaction_figures(uow, app.config, lena, clock.now)
    text = plain_text(render_stats(figures, "en", satisfaction, 7))
    assert "Acme" in text and "satisfaction" in text.lower() and "warning" in text.lower()
