"""The bot's way into the services: ids and plain values in, frozen views out, permissions decided inside."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from review_watch.config import load_config
from review_watch.domain import cases as domain
from review_watch.entrypoints.bootstrap import App
from review_watch.services import staff_actions
from review_watch.services.cases import ActionRefused
from review_watch.services.ingest import store_mention
from review_watch.services.triage import open_cases, triage
from review_watch.services.views import staff_view
from spiders.items import MentionItem
from tests.support.configs import source_block, write_config
from tests.support.fakes import KeywordClassifier, ManualClock
from tests.unit.world import World, unit_config

ARRIVAL = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Stockholm


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> App:
    path = write_config(tmp_path, database_url=database_url,
                        sources=source_block("acme-tp", "trustpilot", "https://www.trustpilot.com/review/acme.com"))
    return App(load_config(path), clock=ManualClock(ARRIVAL))


def _case(app: App) -> int:
    with app.unit_of_work() as uow:
        item = MentionItem(source="acme-tp", source_type="trustpilot", external_id="n1",
                           url="https://www.trustpilot.com/reviews/n1", author="Kim", published_at=None, rating=None,
                           rating_max=None, title=None, text="Terrible, never again", language="en", brand="Acme")
        case_id = store_mention(uow, item, "Acme", app.clock).mention_id
        triage(uow, app.config, KeywordClassifier, app.clock)
    return case_id


def _who(app: App, telegram_id: int) -> staff_actions.StaffView:
    with app.unit_of_work() as uow:
        member = staff_actions.identify(uow, telegram_id)
    assert member is not None
    return member


def test_views_are_frozen_and_outlive_their_unit_of_work(app: App) -> None:
    anna = _who(app, 1001)
    assert (anna.name, anna.role, anna.locale) == ("Anna", "agent", "en")
    with pytest.raises(dataclasses.FrozenInstanceError):
        anna.name = "Mallory"  # type: ignore[misc]
    with app.unit_of_work() as uow:
        assert staff_actions.identify(uow, 999) is None


def test_permissions_are_decided_by_the_service(app: App) -> None:
    case_id = _case(app)  # routed to Anna, the agent who reads English
    anna, boris, lena = _who(app, 1001), _who(app, 1002), _who(app, 1004)
    now = app.clock()
    with app.unit_of_work() as uow:
        assert staff_actions.view_case(uow, app.config, case_id, anna.staff_id, now).assignee == "Anna"
        assert staff_actions.view_case(uow, app.config, case_id, lena.staff_id, now).case_id == case_id
        with pytest.raises(ActionRefused) as refused:
            staff_actions.view_case(uow, app.config, case_id, boris.staff_id, now)
        assert refused.value.key == "not_your_case"
        with pytest.raises(ActionRefused) as refused:
            staff_actions.view_case(uow, app.config, case_id + 1000, lena.staff_id, now)
        assert refused.value.key == "no_such_case"
        for leads_only in (lambda: staff_actions.team_figures(uow, anna.staff_id, now),
                           lambda: staff_actions.assignees(uow, anna.staff_id),
                           lambda: staff_actions.invite(uow, anna.staff_id, now)):
            with pytest.raises(ActionRefused) as refused:
                leads_only()
            assert refused.value.key == "leads_only"
        assert staff_actions.assignees(uow, lena.staff_id) == ["Anna", "Boris", "Lena"]
    with app.unit_of_work() as uow:
        result = staff_actions.act(uow, app.config, case_id, domain.Claim(), anna.staff_id, app.clock)
    assert (result.case_id, result.status, result.assignee) == (case_id, "claimed", "Anna")
    with app.unit_of_work() as uow:
        assert [v.case_id for v in staff_actions.queue(uow, app.config, anna.staff_id, now)] == [case_id]
        result = staff_actions.assign(uow, app.config, case_id, "@boris", lena.staff_id, app.clock)
    assert result.assignee == "Boris"


def test_the_bots_actions_run_on_the_fake_unit_of_work_by_ids(tmp_path: Path) -> None:
    world = World(unit_config(tmp_path))
    anna, carl, lena = world.hire("Anna"), world.hire("Carl"), world.hire("Lena", role="lead")
    world.mention("terrible, order 1")
    open_cases(world.uow, world.config, world.clock)
    (case,) = world.repo.cases
    assert world.assignee(case.id) == "Anna"

    assert staff_actions.identify(world.uow, lena.telegram_id) == staff_view(lena)
    with pytest.raises(ActionRefused) as refused:
        staff_actions.act(world.uow, world.config, case.id, domain.Claim(), carl.id, world.clock)
    assert refused.value.key == "not_your_case"
    result = staff_actions.act(world.uow, world.config, case.id, domain.Claim(), anna.id, world.clock)
    assert (result.status, result.assignee) == ("claimed", "Anna")
    assert staff_actions.assign(world.uow, world.config, case.id, "carl", lena.id, world.clock).assignee == "Carl"
    with pytest.raises(ActionRefused) as refused:
        staff_actions.invite(world.uow, anna.id, world.clock())
    assert refused.value.key == "leads_only"
    assert staff_actions.assignees(world.uow, lena.id) == ["Anna", "Carl", "Lena"]
    assert staff_actions.set_muted(world.uow, world.config, carl.id, True, world.clock) == 1
    with pytest.raises(ActionRefused) as refused:
        staff_actions.act(world.uow, world.config, case.id, domain.Resolve(), 999, world.clock)
    assert refused.value.key == "refused"
