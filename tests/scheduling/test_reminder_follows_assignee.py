"""When a case changes hands, its reminder is scheduled by the new assignee's hours, not the old one's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.services.cases import mark_unreachable, reassign_by_lead, scheduler_tick
from review_watch.services.ingest import store_mention
from review_watch.services.triage import triage
from review_watch.storage.orm import Case, CaseEvent, OutboxMessage, Staff
from spiders.items import MentionItem
from tests.domain.calendars import NEW_YORK, STOCKHOLM
from tests.scheduling.calendar_toml import calendar_toml
from tests.support.fakes import KeywordClassifier, ManualClock

ARRIVAL = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 16:00 in Stockholm, 10:00 in New York
# 6.75 of 9 business hours: Monday 16-18, then Tuesday 09:00-13:45 in Stockholm.
REMIND_AT = datetime(2026, 11, 24, 12, 45, tzinfo=UTC)
NEW_YORK_OPENS = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # Tuesday 09:00 in New York
DEADLINE = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 16:00 in Stockholm
CONFIG = """\
[database]
url = "{database_url}"

{calendars}
[sla]
calendar = "stockholm"
response = "1 business day"
business_day_hours = 9
remind_at = 0.75

[[brands]]
name = "Acme"

[[sources]]
name = "acme-trustpilot"
type = "trustpilot"
url = "https://www.trustpilot.com/review/acme.com"
brand = "Acme"

[[staff]]
name = "Mike"
telegram_id = 1
languages = ["en"]
calendar = "new_york"

[[staff]]
name = "Anna"
telegram_id = 2
languages = ["sv"]
calendar = "stockholm"

[[staff]]
name = "Lena"
telegram_id = 3
role = "lead"
languages = ["sv"]
"""


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> App:
    path = tmp_path / "review-watch.toml"
    calendars = calendar_toml(STOCKHOLM) + calendar_toml(NEW_YORK)
    path.write_text(CONFIG.format(database_url=database_url, calendars=calendars), encoding="utf-8")
    return App(load_config(path), clock=ManualClock(ARRIVAL))


@pytest.mark.parametrize(("move", "new_assignee"), [("reassigned_by_lead", "Anna"),
                                                     ("assignee_unreachable", "Lena")])
def test_the_reminder_follows_the_new_assignees_hours(app: App, move: str, new_assignee: str) -> None:
    clock = app.clock
    assert isinstance(clock, ManualClock)
    item = MentionItem(source="acme-trustpilot", source_type="trustpilot", external_id="r1", url=None,
                       author="Kim", published_at=None, rating=1, rating_max=5, title=None,
                       text="Terrible, never again", language="en", brand="Acme")
    with app.unit_of_work() as uow:
        case_id = store_mention(uow, item, "Acme", clock).mention_id
        triage(uow, app.config, KeywordClassifier, clock)
        case = uow.session.get_one(Case, case_id)
        assert case.assignee is not None and case.assignee.name == "Mike"  # the one who reads English
        assert case.next_due_at == NEW_YORK_OPENS  # Mike's reminder waits for New York to open

    clock.advance(minutes=30)
    with app.unit_of_work() as uow:
        staff = {s.name: s for s in uow.session.scalars(select(Staff))}
        if move == "reassigned_by_lead":
            reassign_by_lead(uow, app.config, case_id, new_assignee, staff["Lena"], clock)
        else:
            assert mark_unreachable(uow, app.config, staff["Mike"].id, clock) == 1

    reminded_at = None
    while clock.now < DEADLINE and reminded_at is None:
        clock.advance(minutes=1)
        with app.unit_of_work() as uow:
            if scheduler_tick(uow, app.config, clock).reminders:
                reminded_at = clock.now
    assert reminded_at == REMIND_AT
    with app.unit_of_work() as uow:
        reminder = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")).one()
        assert reminder.staff is not None and reminder.staff.name == new_assignee
        event = uow.session.scalars(select(CaseEvent).where(CaseEvent.kind == "reminded")).one()
        assert event.at == REMIND_AT
