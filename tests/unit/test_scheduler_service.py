"""The scheduler's due-work decisions on the fake unit of work: reminders to the assignee, escalations to the
right leads, snoozes ending, each once."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from review_watch.domain import cases as domain
from review_watch.services.cases import perform, record_alert_message, scheduler_tick
from review_watch.services.triage import open_cases
from tests.unit.world import World

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY = datetime(2026, 11, 23, tzinfo=STOCKHOLM)


@pytest.fixture
def case_id(world: World) -> int:
    """Anna's complaint, arrived Monday 09:00 in Stockholm: reminder 15:45, deadline 18:00. Lena leads every
    brand, Olga leads Acme, Gus leads Globex only."""
    world.hire("Anna")
    world.hire("Lena", role="lead")
    world.hire("Olga", role="lead", brands=["Acme"])
    world.hire("Gus", role="lead", brands=["Globex"])
    mention = world.mention("terrible")
    open_cases(world.uow, world.config, world.clock)
    world.repo.outbox.clear()
    return mention.id


def at(world: World, hours: int, minutes: int = 0, days: int = 0) -> None:
    world.clock.now = MONDAY + timedelta(days=days, hours=hours, minutes=minutes)


def test_nothing_is_sent_before_anything_is_due(world: World, case_id: int) -> None:
    at(world, 15, 44)
    figures = scheduler_tick(world.uow, world.config, world.clock)

    assert figures.examined == 0 and world.repo.outbox == []


def test_the_assignee_is_reminded_once_at_three_quarters_of_the_time(world: World, case_id: int) -> None:
    at(world, 15, 45)
    figures = scheduler_tick(world.uow, world.config, world.clock)

    assert (figures.examined, figures.reminders) == (1, 1)
    assert world.repo.queued() == [("reminder", "Anna", case_id)]
    assert world.event_kinds(case_id)[-1] == "reminded"
    assert world.case(case_id).reminded_at == world.clock()
    assert world.case(case_id).next_due_at == datetime(2026, 11, 23, 18, 0, tzinfo=STOCKHOLM)  # the deadline

    at(world, 16)
    again = scheduler_tick(world.uow, world.config, world.clock)
    assert again.examined == 0 and len(world.repo.outbox) == 1


def test_an_overdue_case_goes_to_the_brands_leads_then_to_the_named_lead(world: World, case_id: int) -> None:
    record_alert_message(world.uow, case_id, chat_id=1001, message_id=77)
    at(world, 18)
    figures = scheduler_tick(world.uow, world.config, world.clock)  # missed the reminder: no late one

    assert figures.escalations == {1: 1}
    assert world.case(case_id).status == "escalated" and world.case(case_id).escalation_level == 1
    assert figures.reminders == 0
    assert world.repo.queued() == [("escalation", "Lena", case_id), ("escalation", "Olga", case_id),
                                   ("edit", None, case_id)]
    # Level 2: four business hours after the deadline, Tuesday 13:00; to Lena only.
    assert world.case(case_id).next_due_at == datetime(2026, 11, 24, 13, 0, tzinfo=STOCKHOLM)
    world.repo.outbox.clear()
    at(world, 13, days=1)
    later = scheduler_tick(world.uow, world.config, world.clock)

    assert later.escalations == {2: 1}
    assert [(kind, name) for kind, name, _ in world.repo.queued()] == [("escalation", "Lena"), ("edit", None)]
    assert world.repo.outbox[0].payload == {"level": 2}
    assert world.case(case_id).next_due_at is None
    assert world.event_kinds(case_id).count("escalated") == 2


def test_a_replied_case_is_neither_reminded_nor_escalated(world: World, case_id: int) -> None:
    anna = world.repo.active_staff_named("Anna")
    assert anna is not None
    at(world, 10)
    perform(world.uow, world.config, case_id, domain.Reply(domain.ReplyChannel.SENT_OUTSIDE), anna, world.clock)
    world.repo.outbox.clear()

    for hours in (15, 18, 30):
        at(world, hours)
        scheduler_tick(world.uow, world.config, world.clock)

    assert world.repo.outbox == []
    assert "reminded" not in world.event_kinds(case_id) and "escalated" not in world.event_kinds(case_id)


def test_a_snoozed_case_wakes_when_its_snooze_ends(world: World, case_id: int) -> None:
    anna = world.repo.active_staff_named("Anna")
    assert anna is not None
    at(world, 10)
    perform(world.uow, world.config, case_id, domain.Snooze(MONDAY + timedelta(hours=11)), anna, world.clock)

    at(world, 11)
    scheduler_tick(world.uow, world.config, world.clock)

    case = world.case(case_id)
    assert case.status == "assigned" and case.snoozed_until is None
    assert world.event_kinds(case_id)[-2:] == ["snoozed", "woke"]
    assert case.next_due_at == datetime(2026, 11, 23, 15, 45, tzinfo=STOCKHOLM)  # the reminder again
