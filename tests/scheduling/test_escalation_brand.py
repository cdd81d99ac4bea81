"""A lead covers a brand however the config spells it: routing and escalation agree on who that is."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.services.cases import scheduler_tick
from review_watch.services.ingest import store_mention
from review_watch.services.triage import triage
from review_watch.storage.orm import OutboxMessage
from spiders.items import MentionItem
from tests.support.configs import write_config
from tests.support.fakes import KeywordClassifier, ManualClock

ARRIVAL = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STAFF = """
[[brands]]
name = "Globex"

[[staff]]
name = "Anna"
telegram_id = 1001
languages = ["en"]
brands = ["ACME"]

[[staff]]
name = "Lena"
telegram_id = 1004
role = "lead"
languages = ["en"]
brands = ["acme"]

[[staff]]
name = "Olga"
telegram_id = 1005
role = "lead"
languages = ["en"]
brands = ["Globex"]
"""


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> App:
    path = write_config(tmp_path, database_url=database_url, staff=STAFF, sla_calendar="always",
                        response="1 business hours")
    path.write_text(path.read_text(encoding="utf-8") + '\n[[sources]]\nname = "acme-tp"\ntype = "trustpilot"\n'
                    'url = "https://www.trustpilot.com/review/acme.com"\nbrand = "acme"\n', encoding="utf-8")
    return App(load_config(path), clock=ManualClock(ARRIVAL))


def test_the_escalation_reaches_the_lead_whose_brand_is_written_in_another_case_only(app: App) -> None:
    clock = app.clock
    assert isinstance(clock, ManualClock)
    item = MentionItem(source="acme-tp", source_type="trustpilot", external_id="r1", url=None, author="Kim",
                       published_at=None, rating=1, rating_max=5, title=None, text="Terrible, never again",
                       language="en", brand="Acme")
    with app.unit_of_work() as uow:
        store_mention(uow, item, app.config.sources[0].brand, clock)
        assert triage(uow, app.config, KeywordClassifier, clock).cases_opened == 1
    clock.advance(hours=1, minutes=1)
    with app.unit_of_work() as uow:
        assert scheduler_tick(uow, app.config, clock).escalations == {1: 1}
        told = {(m.kind, m.staff.name) for m in uow.session.scalars(select(OutboxMessage)) if m.staff}
    assert told == {("alert", "Anna"), ("escalation", "Lena")}  # not Olga, who leads another brand
