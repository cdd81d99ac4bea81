"""Joining with an invite: a lead's one-time code, or the config's shared code."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.services.cases import ActionRefused, create_invite, join_with_invite, staff_by_telegram_id
from review_watch.storage.orm import Staff
from tests.support.configs import write_config
from tests.support.fakes import ManualClock


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> App:
    return App(load_config(write_config(tmp_path, database_url=database_url)), clock=ManualClock())


def _staff(app: App, name: str) -> Staff:
    with app.unit_of_work() as uow:
        return uow.session.scalars(select(Staff).where(Staff.name == name)).one()


def test_a_lead_invite_lets_one_person_join_once(app: App) -> None:
    with app.unit_of_work() as uow:
        code = create_invite(uow, _staff(app, "Lena"), "agent", app.clock())
        assert staff_by_telegram_id(uow, 5005) is None
        joined = join_with_invite(uow, app.config, code, 5005, 5005, "Nadia")
        assert joined is not None and (joined.name, joined.role, joined.invited) == ("Nadia", "agent", True)
        assert staff_by_telegram_id(uow, 5005) is not None
        assert join_with_invite(uow, app.config, code, 6006, 6006, "Mallory") is None  # used up
        assert join_with_invite(uow, app.config, "guessed", 6006, 6006, "Mallory") is None
        assert staff_by_telegram_id(uow, 6006) is None


def test_an_agent_cannot_invite(app: App) -> None:
    with app.unit_of_work() as uow, pytest.raises(ActionRefused) as refused:
        create_invite(uow, _staff(app, "Anna"), "agent", app.clock())
    assert refused.value.key == "leads_only"
