"""Changes in the team on the fake unit of work: going off duty, blocking the bot, invites and joining."""

from __future__ import annotations

import pytest

from review_watch.domain import cases as domain
from review_watch.services.cases import (
    ActionRefused,
    create_invite,
    join_with_invite,
    mark_unreachable,
    perform,
    register_chat,
    set_muted,
)
from review_watch.services.triage import open_cases
from review_watch.storage.orm import Staff
from tests.unit.world import World


@pytest.fixture
def team(world: World) -> dict[str, Staff]:
    members = {name: world.hire(name) for name in ("Anna", "Carl")}
    members["Lena"] = world.hire("Lena", role="lead")
    return members


def annas_cases(world: World, count: int) -> list[int]:
    carl = world.repo.active_staff_named("Carl")
    assert carl is not None
    carl.muted = True  # so that every complaint goes to Anna
    ids = [world.mention(f"terrible, order {n}").id for n in range(count)]
    open_cases(world.uow, world.config, world.clock)
    carl.muted = False
    world.repo.outbox.clear()
    return ids


def test_going_off_duty_hands_open_cases_to_someone_on_duty_and_tells_the_lead(world: World,
                                                                               team: dict[str, Staff]) -> None:
    ids = annas_cases(world, 2)
    perform(world.uow, world.config, ids[0], domain.Claim(), team["Anna"], world.clock)
    world.repo.outbox.clear()

    moved = set_muted(world.uow, world.config, team["Anna"], True, world.clock)

    assert moved == 2
    assert [world.assignee(i) for i in ids] == ["Carl", "Carl"]
    assert world.case(ids[0]).status == "assigned"  # Anna's claim does not pass to Carl
    assert ("alert", "Carl", ids[0]) in world.repo.queued()
    [notice] = [m for m in world.repo.outbox if m.payload.get("notice") == "unreachable"]
    assert notice.staff_id == team["Lena"].id
    assert notice.payload == {"notice": "unreachable", "staff": "Anna", "why": "went off duty", "cases": ids}
    newest = world.mention("awful").id
    open_cases(world.uow, world.config, world.clock)
    assert world.assignee(newest) == "Carl"  # no new cases while muted


def test_someone_who_blocked_the_bot_loses_their_open_cases_once(world: World, team: dict[str, Staff]) -> None:
    ids = annas_cases(world, 1)

    assert mark_unreachable(world.uow, world.config, team["Anna"].id, world.clock) == 1
    assert world.assignee(ids[0]) == "Carl" and team["Anna"].reachable is False
    assert "blocked the bot" in (world.case(ids[0]).routing_note or "")
    assert mark_unreachable(world.uow, world.config, team["Anna"].id, world.clock) == 0

    register_chat(world.uow, team["Anna"].telegram_id, chat_id=4242)  # she wrote to the bot again
    assert team["Anna"].reachable is True and team["Anna"].chat_id == 4242


def test_only_a_lead_invites_and_an_invite_lets_one_person_join_once(world: World,
                                                                     team: dict[str, Staff]) -> None:
    with pytest.raises(ActionRefused) as refused:
        create_invite(world.uow, team["Anna"], "agent", world.clock())
    assert refused.value.key == "leads_only" and world.repo.invites == []

    code = create_invite(world.uow, team["Lena"], "agent", world.clock())
    joined = join_with_invite(world.uow, world.config, code, telegram_id=2001, chat_id=2001, name="Anna")

    assert joined is not None
    assert (joined.name, joined.role, joined.invited) == ("Anna (2001)", "agent", True)  # the name was taken
    assert join_with_invite(world.uow, world.config, code, telegram_id=2002, chat_id=2002, name="Zed") is None
    assert [s.name for s in world.repo.active_staff()] == ["Anna", "Anna (2001)", "Carl", "Lena"]
