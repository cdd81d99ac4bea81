"""Judgements left to a person, on the fake unit of work: the leads' "please look" lists, their answers and
a lead's /missed."""

from __future__ import annotations

import pytest

from review_watch.services.cases import ActionRefused
from review_watch.services.feedback import MISSED, UNSURE_ANSWER
from review_watch.services.review_queue import (
    ITEMS_PER_MESSAGE,
    AlreadyACase,
    answer_unsure,
    queue_please_look,
    report_missed,
    waiting_items,
)
from tests.unit.world import World


def test_each_lead_on_duty_gets_the_unsure_mentions_of_their_brands_at_most_hourly(world: World) -> None:
    world.hire("Anna")
    world.hire("Lena", role="lead", brands=["Acme"])
    world.hire("Greta", role="lead", brands=["Globex"])
    acme = [world.mention(f"hmm, acme {n}", unsure=True) for n in range(ITEMS_PER_MESSAGE + 1)]
    globex = world.mention("hmm, globex", brand="Globex", unsure=True)
    world.mention("terrible", unsure=False)  # sure: it becomes a case, not a question

    assert queue_please_look(world.uow, world.config, world.clock) == 3  # Greta's one message, Lena's two
    lists = [(m.staff_id, m.payload["items"]) for m in world.repo.outbox]
    lena, greta = (world.repo.active_staff_named(name) for name in ("Lena", "Greta"))
    assert lena is not None and greta is not None
    assert lists == [(greta.id, [globex.id]), (lena.id, [m.id for m in acme[:ITEMS_PER_MESSAGE]]),
                     (lena.id, [acme[-1].id])]

    world.clock.advance(minutes=30)
    world.mention("hmm, a new one", unsure=True)
    assert queue_please_look(world.uow, world.config, world.clock) == 0  # not within the hour
    world.clock.advance(minutes=31)
    assert queue_please_look(world.uow, world.config, world.clock) == 1  # only what Lena was not shown
    assert world.repo.outbox[-1].payload["items"] == [len(acme) + 3]


def test_no_list_out_of_hours(world: World) -> None:
    world.hire("Lena", role="lead")
    world.mention("hmm", unsure=True)
    world.clock.advance(hours=12)  # 21:00 in Stockholm

    assert queue_please_look(world.uow, world.config, world.clock) == 0


def test_a_complaint_answer_opens_a_routed_case_and_not_a_complaint_closes_the_item(world: World) -> None:
    world.hire("Anna")
    lena = world.hire("Lena", role="lead")
    complaint = world.mention("hmm, the lid cracked", unsure=True)
    fine = world.mention("hmm, it is ok", unsure=True)

    verdict = answer_unsure(world.uow, world.config, complaint.id, True, lena, world.clock)
    answer_unsure(world.uow, world.config, fine.id, False, lena, world.clock)

    assert (verdict.case_id, verdict.assignee) == (complaint.id, "Anna")
    assert world.event_kinds(complaint.id) == ["opened", "assigned"]
    assert [(e.mention_id, e.kind, e.label, e.actor) for e in world.repo.feedback] == [
        (complaint.id, UNSURE_ANSWER, "negative", "Lena"), (fine.id, UNSURE_ANSWER, "neutral", "Lena")]
    assert waiting_items(world.uow, [complaint.id, fine.id]) == []
    with pytest.raises(ActionRefused, match="not waiting"):
        answer_unsure(world.uow, world.config, fine.id, True, lena, world.clock)


def test_an_agent_may_not_answer_the_list(world: World) -> None:
    anna = world.hire("Anna")
    item = world.mention("hmm", unsure=True)

    with pytest.raises(ActionRefused):
        answer_unsure(world.uow, world.config, item.id, True, anna, world.clock)
    assert world.repo.cases == [] and world.repo.feedback == []


def test_missed_opens_the_case_of_the_mention_at_that_url_once(world: World) -> None:
    world.hire("Anna")
    lena = world.hire("Lena", role="lead")
    missed = world.mention("a quiet complaint", negative=False)

    verdict = report_missed(world.uow, world.config, f"{missed.url}/", lena, world.clock)  # a trailing slash

    assert (verdict.case_id, verdict.assignee) == (missed.id, "Anna")
    assert [(e.kind, e.label, e.model_label) for e in world.repo.feedback] == [(MISSED, "negative", "positive")]
    # judged again: the lead's judgement is the mention's now, as export and the figures show it
    judgement = missed.sentiment
    assert judgement is not None and (judgement.label, judgement.negative, judgement.model) == (
        "negative", True, "judged by Lena")
    with pytest.raises(AlreadyACase):
        report_missed(world.uow, world.config, missed.url or "", lena, world.clock)
    with pytest.raises(ActionRefused, match="no crawled mention"):
        report_missed(world.uow, world.config, "https://elsewhere.example/1", lena, world.clock)
