"""Staff actions on cases (claim, reply, resolve, reassign, not actionable, snooze) on the fake unit of work:
the status, the assignee, the audit trail, what is queued to send, and refusals for those not allowed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from review_watch.domain import cases as domain
from review_watch.services.cases import ActionRefused, perform, reassign_by_lead, record_alert_message
from review_watch.services.feedback import FALSE_ALARM
from review_watch.services.triage import open_cases
from review_watch.storage.orm import Staff
from tests.unit.world import World


@pytest.fixture
def team(world: World) -> dict[str, Staff]:
    members = {name: world.hire(name) for name in ("Anna", "Carl")}
    members["Lena"] = world.hire("Lena", role="lead")
    return members


@pytest.fixture
def case_id(world: World, team: dict[str, Staff]) -> int:
    """The complaint assigned to Anna (Carl has the other one), its alert delivered to her chat."""
    world.mention("terrible, order 1")
    world.mention("awful, order 2")
    open_cases(world.uow, world.config, world.clock)
    annas = next(c.id for c in world.repo.cases if world.assignee(c.id) == "Anna")
    record_alert_message(world.uow, annas, chat_id=team["Anna"].chat_id or 0, message_id=555)
    world.repo.outbox.clear()
    world.clock.advance(minutes=30)
    return annas


def test_the_assignee_claims_the_case_and_the_alert_card_is_refreshed(world: World, team: dict[str, Staff],
                                                                       case_id: int) -> None:
    commits = world.uow.commits
    result = perform(world.uow, world.config, case_id, domain.Claim(), team["Anna"], world.clock)

    assert (result.status, result.assignee) == ("claimed", "Anna")
    claimed = world.repo.events_of(case_id)[-1]
    assert (claimed.kind, claimed.actor, claimed.at) == ("claimed", "Anna", world.clock())
    assert claimed.details["from"] == "assigned" and claimed.details["to"] == "claimed"
    assert world.repo.queued() == [("edit", None, case_id)]
    assert world.repo.outbox[0].payload == {"chat_id": team["Anna"].chat_id, "message_id": 555}
    assert world.uow.commits == commits + 1


@pytest.mark.parametrize("action", [domain.Claim(), domain.Resolve(), domain.NotActionable(),
                                    domain.Reply(domain.ReplyChannel.SENT_OUTSIDE)])
def test_an_agent_may_not_act_on_someone_elses_case(world: World, team: dict[str, Staff], case_id: int,
                                                   action: domain.Action) -> None:
    events, commits = len(world.repo.events), world.uow.commits

    with pytest.raises(ActionRefused) as refused:
        perform(world.uow, world.config, case_id, action, team["Carl"], world.clock)

    assert refused.value.key == "not_your_case"
    assert world.case(case_id).status == "assigned" and world.assignee(case_id) == "Anna"
    assert len(world.repo.events) == events and world.repo.outbox == [] and world.uow.commits == commits


def test_a_case_is_resolved_only_after_a_reply_is_recorded(world: World, team: dict[str, Staff],
                                                           case_id: int) -> None:
    with pytest.raises(ActionRefused) as refused:
        perform(world.uow, world.config, case_id, domain.Resolve(), team["Anna"], world.clock)
    assert refused.value.key == "illegal_transition"

    replied_at = world.clock()
    perform(world.uow, world.config, case_id, domain.Reply(domain.ReplyChannel.VISIBLE_TO_CUSTOMER), team["Anna"],
            world.clock, note="apologised and refunded")
    world.clock.advance(hours=1)
    result = perform(world.uow, world.config, case_id, domain.Resolve(), team["Anna"], world.clock)

    case = world.case(case_id)
    assert result.status == "resolved" and case.answered_at == replied_at
    assert case.next_due_at is None  # nothing more will be reminded or escalated
    assert world.event_kinds(case_id)[-2:] == ["replied", "resolved"]
    assert world.repo.events_of(case_id)[-2].details["note"] == "apologised and refunded"
    assert world.repo.open_case_counts() == {"Carl": 1}  # no longer Anna's load


def test_a_lead_reassigns_and_the_new_assignee_is_alerted(world: World, team: dict[str, Staff],
                                                          case_id: int) -> None:
    result = reassign_by_lead(world.uow, world.config, case_id, "@carl", team["Lena"], world.clock)

    assert (result.status, result.assignee) == ("assigned", "Carl")
    assert world.assignee(case_id) == "Carl"
    moved = world.repo.events_of(case_id)[-1]
    assert (moved.kind, moved.actor) == ("reassigned", "Lena")
    assert moved.details["previous_assignee"] == "Anna" and moved.details["reason"] == "by Lena"
    assert ("alert", "Carl", case_id) in world.repo.queued()


def test_reassigning_to_someone_not_on_the_staff_or_a_missing_case_is_refused(world: World,
                                                                             team: dict[str, Staff],
                                                                             case_id: int) -> None:
    with pytest.raises(ActionRefused) as nobody:
        reassign_by_lead(world.uow, world.config, case_id, "@zed", team["Lena"], world.clock)
    with pytest.raises(ActionRefused) as no_case:
        perform(world.uow, world.config, 999, domain.Claim(), team["Lena"], world.clock)

    assert (nobody.value.key, no_case.value.key) == ("no_such_staff", "no_such_case")
    assert world.assignee(case_id) == "Anna"


def test_an_agent_may_not_reassign(world: World, team: dict[str, Staff], case_id: int) -> None:
    with pytest.raises(ActionRefused) as refused:
        reassign_by_lead(world.uow, world.config, case_id, "Carl", team["Anna"], world.clock)

    assert refused.value.key == "leads_only"
    assert world.assignee(case_id) == "Anna"


def test_not_actionable_closes_the_case_and_keeps_a_false_alarm_example_for_the_model(
        world: World, team: dict[str, Staff], case_id: int) -> None:
    result = perform(world.uow, world.config, case_id, domain.NotActionable(), team["Anna"], world.clock)

    assert result.status == "not_actionable"
    [example] = world.repo.feedback
    assert (example.mention_id, example.kind, example.label, example.actor) == (case_id, FALSE_ALARM, "neutral",
                                                                               "Anna")


def test_a_snoozed_case_is_next_looked_at_when_the_snooze_ends(world: World, team: dict[str, Staff],
                                                               case_id: int) -> None:
    until = world.clock() + timedelta(hours=1)
    result = perform(world.uow, world.config, case_id, domain.Snooze(until), team["Anna"], world.clock)

    case = world.case(case_id)
    assert result.status == "snoozed" and case.resume_status == "assigned"
    assert case.next_due_at == until

    with pytest.raises(ActionRefused):
        perform(world.uow, world.config, case_id, domain.Snooze(world.clock() - timedelta(minutes=1)),
                team["Anna"], world.clock)
