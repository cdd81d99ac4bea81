"""Routing table tests: language, brand, load, duty, the sticky author, nobody fits, unreachable staff."""

from dataclasses import replace

import pytest

from review_watch.domain.routing import CaseToRoute, RoutingDecision, StaffMember, reroute_open_cases, route


def member(name: str, role: str = "agent", languages: str = "en", brands: str | None = "Acme",
           on_duty: bool = True, reachable: bool = True, muted: bool = False) -> StaffMember:
    return StaffMember(name=name, telegram_id=hash(name) % 10_000, role=role,
                       languages=frozenset(languages.split()),
                       brands=None if brands is None else frozenset(brands.split()),
                       on_duty=on_duty, reachable=reachable, muted=muted)


ANNA = member("Anna", languages="en sv")
BERT = member("Bert", languages="en ar")
CARL = member("Carl", languages="en", brands="Globex")
DORA = member("Dora", languages="ru en", brands=None)
LENA = member("Lena", role="lead", languages="en sv")
OLLE = member("Olle", role="lead", languages="en", brands="Globex")
TEAM = [ANNA, BERT, CARL, DORA, LENA, OLLE]
NO_LOAD: dict[str, int] = {}

# (what, brand, language, staff, open cases, previous handler, assignee, rule, leads told, reason contains)
TABLE = [
    ("language: Arabic goes to the one who reads it", "Acme", "ar", TEAM, NO_LOAD, None, "Bert", "match", (),
     "fitting agents"),
    ("language: Swedish", "Acme", "sv", TEAM, NO_LOAD, None, "Anna", "match", (), ""),
    ("language: unknown means anyone", "Acme", None, TEAM, {"Anna": 3, "Bert": 1, "Dora": 2}, None, "Bert",
     "match", (), ""),
    ("language: codes compare without case", "Acme", "AR", TEAM, NO_LOAD, None, "Bert", "match", (), ""),
    ("brand: only staff of the brand, or of all brands", "Globex", "ru", TEAM, NO_LOAD, None, "Dora", "match",
     (), ""),
    ("brand: Carl covers Globex", "Globex", "en", TEAM, {"Dora": 1}, None, "Carl", "match", (), ""),
    ("load: fewest open cases", "Acme", "en", TEAM, {"Anna": 2, "Bert": 1, "Dora": 5}, None, "Bert", "match",
     (), ""),
    ("load: ties go by name", "Acme", "en", TEAM, {"Anna": 1, "Bert": 1, "Dora": 1}, None, "Anna", "match",
     (), ""),
    ("duty: off-duty agents are skipped", "Acme", "en", [replace(ANNA, on_duty=False), BERT, LENA], NO_LOAD,
     None, "Bert", "match", (), ""),
    ("sticky: the previous handler, even when busier", "Acme", "en", TEAM, {"Dora": 9, "Anna": 0}, "Dora",
     "Dora", "sticky", (), "handled this author before"),
    ("sticky: not when off duty", "Acme", "en", [ANNA, replace(DORA, on_duty=False)], {"Anna": 5}, "Dora",
     "Anna", "match", (), ""),
    ("sticky: not when not on the brand", "Globex", "en", [CARL, ANNA], {"Carl": 4}, "Anna", "Carl", "match",
     (), ""),
    ("sticky: not when they cannot read it", "Acme", "ar", TEAM, NO_LOAD, "Anna", "Bert", "match", (), ""),
    ("sticky: not when unreachable", "Acme", "en", [replace(ANNA, reachable=False), BERT], NO_LOAD, "Anna",
     "Bert", "match", (), ""),
    ("sticky: a lead who handled the author keeps them", "Acme", "en", TEAM, NO_LOAD, "Lena", "Lena", "sticky",
     (), ""),
    ("nobody fits: no agent reads the language", "Acme", "ja", TEAM, NO_LOAD, None, "Lena", "lead_of_brand", (),
     "no agent for brand Acme reads 'ja'; given to a lead of the brand"),
    ("nobody fits: no agent covers the brand", "Initech", "en", [ANNA, LENA, OLLE], NO_LOAD, None, "Lena",
     "any_lead", ("Olle",), "no agent covers brand Initech; given to a lead (no lead covers brand Initech)"),
    ("nobody fits: all off duty, lead of the brand", "Globex", "en",
     [replace(CARL, on_duty=False), LENA, OLLE], NO_LOAD, None, "Olle", "lead_of_brand", (),
     "no agent for brand Globex who reads 'en' is on duty"),
    ("nobody fits: an on-duty lead before an off-duty one", "Acme", "ja",
     [ANNA, replace(LENA, on_duty=False), member("Mats", role="lead", brands=None)], NO_LOAD, None, "Mats",
     "lead_of_brand", ("Lena",), ""),
    ("nobody fits: an off-duty lead rather than nobody", "Acme", "ja", [ANNA, replace(LENA, on_duty=False)],
     NO_LOAD, None, "Lena", "lead_of_brand", (), ""),
    ("nobody fits: no reachable lead either", "Acme", "ja", [ANNA, replace(LENA, muted=True)], NO_LOAD, None,
     None, "nobody", (), "no reachable lead either"),
    ("unreachable: never chosen", "Acme", "ar", [replace(BERT, reachable=False), ANNA, LENA], NO_LOAD, None,
     "Lena", "lead_of_brand", (), "is reachable"),
    ("muted: never chosen", "Acme", "en", [replace(ANNA, muted=True), BERT], NO_LOAD, None, "Bert", "match", (),
     ""),
]


@pytest.mark.parametrize(
    ("what", "brand", "language", "staff", "load", "previous", "assignee", "rule", "told", "reason"),
    TABLE, ids=[row[0] for row in TABLE])
def test_route(what: str, brand: str, language: str | None, staff: list[StaffMember], load: dict[str, int],
               previous: str | None, assignee: str | None, rule: str, told: tuple[str, ...], reason: str) -> None:
    decision = route(brand, language, staff, load, previous)
    assert (decision.assignee, decision.rule, decision.notify_leads) == (assignee, rule, told)
    assert reason in decision.reason


def test_reroute_spreads_the_unreachable_assignees_cases_and_tells_the_leads() -> None:
    cases = [CaseToRoute(1, "Acme", "en"), CaseToRoute(2, "Acme", "en"), CaseToRoute(3, "Acme", "ar"),
             CaseToRoute(4, "Globex", "en"), CaseToRoute(5, "Acme", "ja")]
    decisions = dict(zip([c.case_id for c in cases],
                         reroute_open_cases("Bert", cases, TEAM, {"Anna": 1, "Bert": 5, "Dora": 1}), strict=True))
    assert {k: d.assignee for k, d in decisions.items()} == {1: "Anna", 2: "Dora", 3: "Lena", 4: "Carl", 5: "Lena"}
    assert decisions[1].notify_leads == ("Lena",)
    assert decisions[3].notify_leads == ()  # Lena, the only lead of Acme, gets it herself
    assert decisions[4].notify_leads == ("Olle",)
    assert all(d.reason.startswith("Bert is unreachable; ") for d in decisions.values())
    assert "no agent for brand Acme who reads 'ar' is reachable" in decisions[3].reason


def test_reroute_with_nobody_left() -> None:
    decisions = reroute_open_cases("Anna", [CaseToRoute(7, "Acme", "sv")], [ANNA], {"Anna": 1},
                                   why="blocked the bot")
    assert decisions == [RoutingDecision(None, (), "Anna blocked the bot; no agent for brand Acme who "
                                         "reads 'sv' is reachable; no reachable lead either", "nobody")]
