"""A simulated week: 2,000 mentions across three teams in three time zones, the scheduler ticking every minute.

The scenario is generated up front. What must happen (cases opened, reminders, escalations per level, and
the minute each was due) is computed from the scenario alone, by counting open minutes one by one as the
brute-force reference of tests/domain/calendars.py does, then compared with what the service layer stored
and queued.
"""

from __future__ import annotations

import json
import random
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import accumulate
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from review_watch.config import load_config
from review_watch.domain.cases import Action, Claim, Reply, ReplyChannel, Resolve
from review_watch.entrypoints.bootstrap import App
from review_watch.services.cases import mark_unreachable, perform, scheduler_tick
from review_watch.services.ingest import StoreOutcome, store_mention
from review_watch.services.triage import triage
from review_watch.storage.orm import Case, CaseEvent, OutboxMessage, Staff
from spiders.items import MentionItem
from tests.domain.calendars import JERUSALEM, NEW_YORK, STOCKHOLM, CalendarSpec, reference_deadline
from tests.scheduling.calendar_toml import calendar_toml
from tests.support.fakes import KeywordClassifier, ManualClock

MINUTE = timedelta(minutes=1)
WEEK_START = datetime(2026, 11, 23, tzinfo=UTC)  # Monday; Thursday 26 November is Thanksgiving in New York
MENTIONS = 2000
SLA_MINUTES = 9 * 60  # "1 business day" with business_day_hours = 9, on the Stockholm calendar
REMIND_MINUTES = SLA_MINUTES * 3 // 4  # remind_at = 0.75
LEVEL_2_DELAY_MINUTES = SLA_MINUTES  # the second level: "1 business day" after the deadline
DIRECTOR = "Dagny"
# Omar blocks the bot on Wednesday: his open cases go to his team (same hours), so no figure changes.
UNREACHABLE = ("Omar", datetime(2026, 11, 25, 10, 0, tzinfo=UTC))


@dataclass(frozen=True)
class Team:
    brand: str
    calendar: CalendarSpec
    agents: dict[str, tuple[str, ...]]  # name -> languages
    lead: str
    languages: tuple[str, ...]  # languages the brand's customers write in; a few nobody on the team reads
    sources: tuple[tuple[str, str], ...]  # (name, type)


TEAMS = (
    Team("Nordic", STOCKHOLM, {"Anna": ("sv", "en"), "Erik": ("sv", "en", "da")}, "Lena",
         ("sv", "sv", "en", "da", "fi"), (("nordic-trustpilot", "trustpilot"), ("nordic-play", "googleplay"))),
    Team("Levant", JERUSALEM, {"Dana": ("he", "en"), "Omar": ("ar", "en")}, "Yael",
         ("he", "ar", "ar", "en"), (("levant-trustpilot", "trustpilot"),)),
    Team("Americas", NEW_YORK, {"Mike": ("en",), "Sofia": ("es", "en")}, "Joe",
         ("en", "en", "es", "pt"), (("americas-trustpilot", "trustpilot"), ("americas-play", "googleplay"))),
)
LEAD_LANGUAGES = ("en", "sv", "he", "ar", "es")


def _config_toml(database_url: str) -> str:
    parts = [f'[database]\nurl = "{database_url}"\n\n[telegram]\ntoken = "123456:TEST-TOKEN"\n'
             'api_url = "http://127.0.0.1:9"\n\n[sentiment]\nmodel = "keywords"\n\n']
    parts += [calendar_toml(team.calendar) for team in TEAMS]
    parts.append('[sla]\ncalendar = "stockholm"\nresponse = "1 business day"\nbusiness_day_hours = 9\n'
                 'remind_at = 0.75\n\n[[sla.escalation]]\n\n'
                 f'[[sla.escalation]]\nafter = "1 business day"\nleads = ["{DIRECTOR}"]\n\n')
    telegram_id = 2000
    for team in TEAMS:
        parts.append(f'[[brands]]\nname = "{team.brand}"\naliases = ["{team.brand}"]\n\n')
        for source, type_ in team.sources:
            url = (f"https://play.google.com/store/apps/details?id=com.example.{source.replace('-', '.')}"
                   if type_ == "googleplay" else f"https://www.trustpilot.com/review/{source}.example")
            parts.append(f'[[sources]]\nname = "{source}"\ntype = "{type_}"\nurl = "{url}"\n'
                         f'brand = "{team.brand}"\n\n')
        people = [(name, "agent", languages) for name, languages in team.agents.items()]
        for name, role, languages in [*people, (team.lead, "lead", LEAD_LANGUAGES)]:
            telegram_id += 1
            parts.append(f'[[staff]]\nname = "{name}"\ntelegram_id = {telegram_id}\nrole = "{role}"\n'
                         f'languages = {json.dumps(list(languages))}\nbrands = ["{team.brand}"]\n'
                         f'calendar = "{team.calendar.name}"\n\n')
    # The director hears of level 2 only: a lead of no brand gets neither cases nor level-1 escalations.
    parts.append(f'[[staff]]\nname = "{DIRECTOR}"\ntelegram_id = 2999\nrole = "lead"\nlanguages = ["en"]\n'
                 "brands = []\n")
    return "".join(parts)


# The scenario -------------------------------------------------------------------------------------------


@dataclass
class PlannedMention:
    item: MentionItem
    team: Team
    arrives: datetime
    opens_case: bool  # negative, not a re-crawled duplicate, not a cross-post of an earlier text
    claim_at: datetime | None = None
    answer_at: datetime | None = None
    channel: ReplyChannel = ReplyChannel.VISIBLE_TO_CUSTOMER
    resolve_at: datetime | None = None


class OpenMinutes:
    """Every minute of the simulated fortnight classified open or closed by the reference's rule, once.

    Counting open minutes in this table gives what `reference_deadline` gives by walking (a test below
    checks that on a sample), in a fraction of the time that thousands of walks would take.
    """

    def __init__(self, spec: CalendarSpec, start: datetime = WEEK_START, days: int = 14) -> None:
        is_closed, zone = spec.closed_dates(), ZoneInfo(spec.zone)
        self.start = start
        open_flags = []
        for i in range(days * 24 * 60):
            local = (start + i * MINUTE).astimezone(zone)
            minute = local.hour * 60 + local.minute
            open_flags.append(not is_closed(local.date()) and any(
                s <= minute < e for s, e in spec.periods.get(local.weekday(), ())))
        self.counted = list(accumulate(open_flags, initial=0))  # counted[i]: open minutes before minute i

    def after(self, instant: datetime, business_minutes: int) -> datetime:
        """The end of the `business_minutes`-th open minute from `instant` on (a whole minute)."""
        index = (instant - self.start) // MINUTE
        end = bisect_left(self.counted, self.counted[index] + business_minutes)
        if end >= len(self.counted):
            raise ValueError(f"{instant} + {business_minutes} business minutes is past the simulated span")
        return self.start + end * MINUTE


@cache
def open_minutes(calendar: str) -> OpenMinutes:
    return OpenMinutes({spec.name: spec for spec in (STOCKHOLM, JERUSALEM, NEW_YORK)}[calendar])


@dataclass(frozen=True)
class ExpectedClock:
    """When the response clock of one case says its reminder and escalations fall due."""

    deadline: datetime
    reminder: datetime | None  # None: the assignee's team is closed from remind_at until the deadline
    level_2: datetime


def expected_clock(team: Team, arrival: datetime) -> ExpectedClock:
    sla = open_minutes(STOCKHOLM.name)
    deadline = sla.after(arrival, SLA_MINUTES)
    first_open_minute = open_minutes(team.calendar.name).after(sla.after(arrival, REMIND_MINUTES), 1) - MINUTE
    return ExpectedClock(deadline, first_open_minute if first_open_minute < deadline else None,
                         sla.after(deadline, LEVEL_2_DELAY_MINUTES))


def _whole_minute(start: datetime, end: datetime, rng: random.Random) -> datetime:
    return start + MINUTE * rng.randint(0, max(0, (end - start) // MINUTE))


def _plan_answer(plan: PlannedMention, clock: ExpectedClock, rng: random.Random) -> None:
    """Some answer quickly, some around the reminder or the deadline, some late, some never."""
    start = plan.arrives + MINUTE
    fate = rng.random()
    reminder_or_deadline = clock.reminder or clock.deadline
    if fate < 0.25:
        answer: datetime | None = start + MINUTE * rng.randint(0, 180)
    elif fate < 0.45:
        answer = _whole_minute(max(start, reminder_or_deadline - 60 * MINUTE), clock.deadline, rng)
    elif fate < 0.65:
        answer = _whole_minute(clock.deadline, clock.level_2 + 30 * MINUTE, rng)
    elif fate < 0.72:  # exactly when something falls due: the answer, recorded first, stops it
        answer = max(start, rng.choice([reminder_or_deadline, clock.deadline, clock.level_2]))
    else:
        answer = None
    if answer is None:
        return
    plan.answer_at = answer
    plan.channel = ReplyChannel.SENT_OUTSIDE if rng.random() < 0.15 else ReplyChannel.VISIBLE_TO_CUSTOMER
    if rng.random() < 0.4 and answer > start:
        plan.claim_at = _whole_minute(start, answer - MINUTE, rng)
    if rng.random() < 0.3:
        plan.resolve_at = answer + MINUTE * rng.randint(1, 120)


def _item(team: Team, serial: int, rng: random.Random, negative: bool, author: int) -> MentionItem:
    source, type_ = rng.choice(team.sources)
    text = (f"Terrible: order {serial} arrived broken and nobody answers" if negative
            else f"Lovely shop, order {serial} came on time")
    return MentionItem(source=source, source_type=type_, external_id=f"{source}-{serial}",
                       url=f"https://example.com/{source}/{serial}", author=f"customer {author}",
                       published_at=None, rating=rng.choice([1, 2]) if negative else rng.choice([4, 5]),
                       rating_max=5, title=None, text=text, language=rng.choice(team.languages),
                       author_id=f"{team.brand}-{author}", brand=team.brand)


def generate_scenario(seed: int = 20261123) -> list[PlannedMention]:
    rng = random.Random(seed)
    week_minutes = 7 * 24 * 60
    arrivals = sorted(WEEK_START + MINUTE * rng.randrange(week_minutes) for _ in range(MENTIONS))
    plans: list[PlannedMention] = []
    for serial, arrives in enumerate(arrivals):
        team = rng.choice(TEAMS)
        earlier = [p for p in plans[-200:] if p.team is team]
        roll = rng.random()
        if roll < 0.03 and earlier:  # the same review crawled again
            original = rng.choice(earlier)
            plans.append(PlannedMention(original.item, team, arrives, opens_case=False))
            continue
        item = _item(team, serial, rng, negative=rng.random() < 0.65, author=rng.randrange(250))
        if roll < 0.06 and earlier:  # the same words posted on another of the brand's sources
            original = rng.choice(earlier)
            item.text, item.rating = original.item.text, original.item.rating
            plans.append(PlannedMention(item, team, arrives, opens_case=False))
            continue
        plan = PlannedMention(item, team, arrives, opens_case=item.rating is not None and item.rating <= 2)
        if plan.opens_case:
            _plan_answer(plan, expected_clock(team, arrives), rng)
        plans.append(plan)
    return plans


@dataclass
class Expected:
    cases: int = 0
    answered: int = 0
    reminders: dict[str, datetime] = field(default_factory=dict)  # external id -> when
    escalations: dict[int, dict[str, datetime]] = field(default_factory=lambda: {1: {}, 2: {}})
    deadlines: dict[str, datetime] = field(default_factory=dict)


def expected_outcome(plans: list[PlannedMention]) -> Expected:
    """What must happen, given that at each minute answers are recorded before the scheduler ticks."""
    expected = Expected()
    for plan in plans:
        if not plan.opens_case:
            continue
        key = plan.item.external_id
        clock = expected_clock(plan.team, plan.arrives)
        expected.cases += 1
        expected.answered += plan.answer_at is not None
        expected.deadlines[key] = clock.deadline

        def unanswered_at(instant: datetime, answer: datetime | None = plan.answer_at) -> bool:
            return answer is None or answer > instant

        if clock.reminder is not None and unanswered_at(clock.reminder):
            expected.reminders[key] = clock.reminder
        for level, due in ((1, clock.deadline), (2, clock.level_2)):
            if unanswered_at(due):
                expected.escalations[level][key] = due
    return expected


def test_the_scenario_covers_what_the_week_must_exercise() -> None:
    plans = generate_scenario()
    expected = expected_outcome(plans)
    by_team = Counter(p.team.brand for p in plans if p.opens_case)
    assert len(plans) == MENTIONS and expected.cases > 1000 and min(by_team.values()) > 300
    assert sum(not p.opens_case and p.item.rating is not None and p.item.rating <= 2 for p in plans) > 20
    reminders_skipped = sum(1 for p in plans if p.opens_case
                            and expected_clock(p.team, p.arrives).reminder is None)
    assert reminders_skipped > 20  # remind_at falls while the team is closed until the deadline
    assert len(expected.reminders) > 200 and len(expected.escalations[2]) > 100
    assert len(expected.escalations[1]) - len(expected.escalations[2]) > 100  # answered between the levels
    assert expected.cases - expected.answered > 100  # never answered


def test_the_minute_table_agrees_with_the_walking_reference() -> None:
    rng = random.Random(7)
    for spec in (STOCKHOLM, JERUSALEM, NEW_YORK):
        closed = spec.closed_dates()
        for _ in range(40):
            arrival = WEEK_START + MINUTE * rng.randrange(7 * 24 * 60)
            minutes = rng.choice([1, REMIND_MINUTES, SLA_MINUTES, 2 * SLA_MINUTES])
            assert open_minutes(spec.name).after(arrival, minutes) == reference_deadline(
                spec, arrival, minutes, closed), (spec.name, arrival, minutes)


# The simulation -----------------------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> App:
    path = tmp_path / "review-watch.toml"
    path.write_text(_config_toml(database_url), encoding="utf-8")
    return App(load_config(path), clock=ManualClock(WEEK_START))


def _staff_actions(plans: list[PlannedMention]) -> dict[datetime, list[tuple[Action, PlannedMention]]]:
    actions: dict[datetime, list[tuple[Action, PlannedMention]]] = {}
    for plan in plans:
        steps: tuple[tuple[Action, datetime | None], ...] = (
            (Claim(), plan.claim_at), (Reply(plan.channel), plan.answer_at), (Resolve(), plan.resolve_at))
        for action, at in steps:
            if at is not None:
                actions.setdefault(at, []).append((action, plan))
    return actions


def _minutes(start: datetime, end: datetime) -> Iterator[datetime]:
    while start <= end:
        yield start
        start += MINUTE


def test_a_week_ends_with_every_case_answered_or_escalated_and_nothing_sent_twice(app: App) -> None:
    plans = generate_scenario()
    expected = expected_outcome(plans)
    clock = app.clock
    assert isinstance(clock, ManualClock)
    arrivals: dict[datetime, list[PlannedMention]] = {}
    for plan in plans:
        arrivals.setdefault(plan.arrives, []).append(plan)
    actions = _staff_actions(plans)
    mention_ids: dict[str, int] = {}
    classifier = KeywordClassifier()
    ticked: Counter[str] = Counter()
    last = max([*actions, *(due for level in expected.escalations.values() for due in level.values())])

    for minute in _minutes(WEEK_START, last + MINUTE):
        clock.now = minute
        with app.unit_of_work() as uow:
            for plan in arrivals.get(minute, ()):
                stored = store_mention(uow, plan.item, plan.team.brand, clock)
                assert (stored.outcome == StoreOutcome.NEW) == (plan.item.external_id not in mention_ids)
                mention_ids.setdefault(plan.item.external_id, stored.mention_id)
            if minute in arrivals:
                triage(uow, app.config, lambda: classifier, clock)
            for action, plan in actions.get(minute, ()):  # by the case's assignee
                case_id = mention_ids[plan.item.external_id]
                assignee = uow.session.get_one(Case, case_id).assignee
                assert assignee is not None
                perform(uow, app.config, case_id, action, assignee, clock)
            if minute == UNREACHABLE[1]:
                member = uow.session.scalars(select(Staff).where(Staff.name == UNREACHABLE[0])).one()
                assert mark_unreachable(uow, app.config, member.id, clock) > 0
            figures = scheduler_tick(uow, app.config, clock)
            assert figures.escalations is not None
            ticked.update(reminders=figures.reminders, level_1=figures.escalations.get(1, 0),
                          level_2=figures.escalations.get(2, 0))
            if minute.minute % 7 == 0:  # a second scheduler at the same minute finds nothing left to do
                assert scheduler_tick(uow, app.config, clock).examined == 0

    by_key = {mention_id: key for key, mention_id in mention_ids.items()}
    team_of = {plan.item.external_id: plan.team for plan in plans}
    language_of = {plan.item.external_id: plan.item.language for plan in plans}
    with app.unit_of_work() as uow:
        cases = list(uow.session.scalars(select(Case)))
        staff_of = {c.id: c.assignee.name if c.assignee else None for c in cases}
        events = list(uow.session.scalars(select(CaseEvent).where(CaseEvent.kind.in_(("reminded", "escalated")))))
        outbox = [(m.kind, m.dedupe_key, m.case_id, m.staff.name if m.staff else None, m.payload)
                  for m in uow.session.scalars(select(OutboxMessage))]

        assert len(cases) == expected.cases
        assert ticked == Counter(reminders=len(expected.reminders), level_1=len(expected.escalations[1]),
                                 level_2=len(expected.escalations[2]))
        assert {by_key[c.id]: c.deadline_at for c in cases} == expected.deadlines

        # Every case ends answered or escalated, and nothing is left for the scheduler.
        statuses = Counter(c.status for c in cases)
        assert set(statuses) <= {"replied", "resolved", "escalated"}
        assert statuses["replied"] + statuses["resolved"] == expected.answered
        unanswered = sum(c.answered_at is None for c in cases)
        assert all(c.answered_at is not None and c.answered_at <= UNREACHABLE[1]
                   for c in cases if staff_of[c.id] == UNREACHABLE[0])  # the rest went to someone else
        assert statuses["escalated"] == expected.cases - expected.answered == unanswered
        assert all(c.next_due_at is None for c in cases)

        # Each reminder and escalation went out once, to the right people, at the minute it fell due.
        reminded = [(by_key[e.mention_id], e.at) for e in events if e.kind == "reminded"]
        assert len(reminded) == len({key for key, _ in reminded}), "a case was reminded twice"
        assert dict(reminded) == expected.reminders
        for level in (1, 2):
            escalated = [(by_key[e.mention_id], e.at) for e in events
                         if e.kind == "escalated" and e.details["level"] == str(level)]
            assert len(escalated) == len({key for key, _ in escalated}), f"escalated twice at level {level}"
            assert dict(escalated) == expected.escalations[level]
        assert len({key for _, key, _, _, _ in outbox}) == len(outbox)
        reminders = [(by_key[case_id], to) for kind, _, case_id, to, _ in outbox
                     if kind == "reminder" and case_id is not None]
        reminded_whom = {(by_key[e.mention_id], e.details["assignee"], e.at) for e in events if e.kind == "reminded"}
        assert sorted(reminders) == sorted((key, to) for key, to, _ in reminded_whom)
        assert all(to in {*team_of[key].agents, team_of[key].lead} for key, to, _ in reminded_whom)
        assert not any(to == UNREACHABLE[0] and at > UNREACHABLE[1] for _, to, at in reminded_whom)
        escalations = Counter((payload["level"], to) for kind, _, _, to, payload in outbox if kind == "escalation")
        assert escalations == (Counter((1, team_of[key].lead) for key in expected.escalations[1])
                               + Counter({(2, DIRECTOR): len(expected.escalations[2])}))

        # Each case went to someone of its brand's team; the language nobody on a team reads went to its lead.
        for case in cases:
            plan_team = team_of[by_key[case.id]]
            assert staff_of[case.id] in {*plan_team.agents, plan_team.lead}
            if not any(language_of[by_key[case.id]] in langs for langs in plan_team.agents.values()):
                assert staff_of[case.id] == plan_team.lead
