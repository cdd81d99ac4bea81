"""Triage on the fake unit of work: who a new complaint goes to, its deadline, what is recorded and queued."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from review_watch.services.triage import Classifier, open_cases, triage
from tests.support.fakes import KeywordClassifier
from tests.unit.world import World

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_a_complaint_goes_to_the_agent_who_reads_it_with_a_business_day_deadline_and_one_alert(world: World
                                                                                              ) -> None:
    world.hire("Anna", languages=("en", "sv"))
    world.hire("Boris", languages=("ru",))
    world.hire("Lena", role="lead")
    english = world.mention("The delivery was terrible")
    russian = world.mention("Ужасный сервис", language="ru")

    assert open_cases(world.uow, world.config, world.clock) == 2

    assert world.assignee(english.id) == "Anna"
    assert world.assignee(russian.id) == "Boris"
    case = world.case(english.id)
    assert case.status == "assigned"
    # Monday 09:00 in Stockholm plus one business day of nine hours; the reminder at 75% of it.
    assert case.deadline_at == datetime(2026, 11, 23, 18, 0, tzinfo=STOCKHOLM)
    assert case.remind_at == datetime(2026, 11, 23, 15, 45, tzinfo=STOCKHOLM)
    assert case.next_due_at == case.remind_at  # the scheduler looks at it again at the reminder
    assert world.event_kinds(english.id) == ["opened", "assigned"]
    assert world.repo.queued() == [("alert", "Anna", english.id), ("alert", "Boris", russian.id)]
    assert world.uow.commits == 2  # one transaction per case


def test_the_next_complaint_goes_to_the_agent_with_fewer_open_cases(world: World) -> None:
    world.hire("Anna")
    world.hire("Carl")
    first, second, third = (world.mention(f"terrible order {n}") for n in range(3))

    open_cases(world.uow, world.config, world.clock)

    assignees = [world.assignee(m.id) or "" for m in (first, second, third)]
    assert sorted(assignees[:2]) == ["Anna", "Carl"]  # one each, then the third to either
    assert world.repo.open_case_counts() in ({"Anna": 2, "Carl": 1}, {"Anna": 1, "Carl": 2})


def test_an_author_who_complains_again_gets_the_same_person(world: World) -> None:
    world.hire("Anna")
    world.hire("Carl")
    world.mention("terrible, order 1", author_id=7)
    open_cases(world.uow, world.config, world.clock)
    first_handler = world.assignee(1)
    world.clock.advance(hours=1)
    world.mention("still broken, order 1", author_id=7)  # the other agent now has fewer open cases

    open_cases(world.uow, world.config, world.clock)

    assert world.assignee(2) == first_handler
    assert world.case(2).routing_note == f"{first_handler} handled this author before"


def test_a_language_no_agent_reads_goes_to_a_lead_of_the_brand(world: World) -> None:
    world.hire("Anna", languages=("en",))
    world.hire("Gus", role="lead", brands=["Globex"])
    world.hire("Lena", role="lead", brands=["Acme"])
    mention = world.mention("Schrecklicher Service", language="de")

    open_cases(world.uow, world.config, world.clock)

    assert world.assignee(mention.id) == "Lena"
    assert "de" in (world.case(mention.id).routing_note or "")
    assert ("alert", "Lena", mention.id) in world.repo.queued()
    assert not any(name == "Gus" for _, name, _ in world.repo.queued())


def test_muted_and_unreachable_agents_get_no_new_cases(world: World) -> None:
    world.hire("Anna").muted = True
    world.hire("Boris", languages=("en",)).reachable = False
    world.hire("Carl")
    mention = world.mention("awful")

    open_cases(world.uow, world.config, world.clock)

    assert world.assignee(mention.id) == "Carl"


def test_praise_unsure_unbranded_and_duplicate_mentions_open_no_case(world: World) -> None:
    world.hire("Anna")
    world.mention("lovely", negative=False)
    world.mention("hmm, not sure", unsure=True)  # waits on the leads' "please look" list instead
    world.mention("terrible, says someone about another company", brand=None)
    world.mention("terrible").duplicate_of_id = 1

    assert open_cases(world.uow, world.config, world.clock) == 0
    assert world.repo.cases == [] and world.repo.outbox == []


def test_triage_judges_what_is_new_and_builds_the_model_only_when_there_is_something(world: World) -> None:
    world.hire("Anna")
    world.mention("Broken on arrival, never again", negative=None)
    world.mention("Lovely people", negative=None)
    built: list[KeywordClassifier] = []

    def build() -> Classifier:
        built.append(KeywordClassifier())
        return built[-1]

    loader: Callable[[], Classifier] = build
    figures = triage(world.uow, world.config, loader, world.clock)

    assert (figures.classified, figures.negative, figures.cases_opened) == (2, 1, 1)
    assert [s.label for s in world.repo.sentiments] == ["negative", "positive"]
    assert world.repo.queued() == [("alert", "Anna", 1)]
    again = triage(world.uow, world.config, loader, world.clock)
    assert (again.classified, again.cases_opened) == (0, 0)
    assert len(built) == 1  # nothing new: the model was not loaded a second time
    assert len(world.repo.outbox) == 1  # and nothing was queued twice
