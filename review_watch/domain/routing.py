"""Choosing who handles a case.

In order: the author's previous handler on the same brand ("one personal manager"), when that person is
available, still covers the brand and reads the language; else the available agent covering the brand who
reads the language and has the fewest open cases (ties by name); else a lead of the brand, else any lead,
with a note to the leads saying why. Available means on duty, reachable and not muted; the previous
handler must be on duty too, because the SLA clock does not wait for their shift.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from review_watch.domain.brand_matching import covers_brand
from review_watch.domain.permissions import AGENT, is_lead

RoutingRule = Literal["sticky", "match", "lead_of_brand", "any_lead", "nobody"]


@dataclass(frozen=True)
class StaffMember:
    name: str
    telegram_id: int
    role: str
    """"agent" or "lead"."""
    languages: frozenset[str]
    brands: frozenset[str] | None
    """None means all brands."""
    on_duty: bool
    reachable: bool = True
    muted: bool = False

    @property
    def available(self) -> bool:
        return self.on_duty and self.reachable and not self.muted

    @property
    def contactable(self) -> bool:
        return self.reachable and not self.muted

    def covers(self, brand: str) -> bool:
        return covers_brand(self.brands, brand)

    def reads(self, language: str | None) -> bool:
        return language is None or language.casefold() in {lang.casefold() for lang in self.languages}


@dataclass(frozen=True)
class RoutingDecision:
    assignee: str | None
    notify_leads: tuple[str, ...]
    """Leads to tell why the case went where it went; never includes the assignee."""
    reason: str
    rule: RoutingRule


@dataclass(frozen=True)
class CaseToRoute:
    case_id: int
    brand: str
    language: str | None


def _least_loaded(candidates: Sequence[StaffMember], open_cases: Mapping[str, int]) -> StaffMember:
    return min(candidates, key=lambda m: (open_cases.get(m.name, 0), m.name))


def _why_no_agent(brand: str, language: str | None, staff: Sequence[StaffMember]) -> str:
    agents = [m for m in staff if m.role == AGENT and m.covers(brand)]
    if not agents:
        return f"no agent covers brand {brand}"
    readers = [m for m in agents if m.reads(language)]
    if not readers:
        return f"no agent for brand {brand} reads {language!r}"
    if not any(m.contactable for m in readers):
        return f"no agent for brand {brand} who reads {language!r} is reachable"
    return f"no agent for brand {brand} who reads {language!r} is on duty"


def _lead_decision(brand: str, reason: str, staff: Sequence[StaffMember],
                   open_cases: Mapping[str, int]) -> RoutingDecision:
    leads = [m for m in staff if is_lead(m.role) and m.contactable]
    brand_leads = [m for m in leads if m.covers(brand)]
    rule: RoutingRule = "lead_of_brand" if brand_leads else "any_lead"
    pool = brand_leads or leads
    if not pool:
        return RoutingDecision(None, (), f"{reason}; no reachable lead either", "nobody")
    on_duty = [m for m in pool if m.on_duty]
    chosen = _least_loaded(on_duty or pool, open_cases)
    others = tuple(sorted(m.name for m in pool if m.name != chosen.name))
    where = "a lead of the brand" if rule == "lead_of_brand" else f"a lead (no lead covers brand {brand})"
    return RoutingDecision(chosen.name, others, f"{reason}; given to {where}", rule)


def route(brand: str, language: str | None, staff: Sequence[StaffMember], open_cases: Mapping[str, int],
          previous_handler: str | None) -> RoutingDecision:
    """Choose the assignee of a case about `brand` written in `language` (None when unknown).

    `open_cases` counts each staff member's open cases by name; `previous_handler` is the name of whoever
    last handled this author on this brand.
    """
    if previous_handler is not None:
        for member in staff:
            if (member.name == previous_handler and member.available and member.covers(brand)
                    and member.reads(language)):
                return RoutingDecision(member.name, (), f"{member.name} handled this author before", "sticky")
    fitting = [m for m in staff
               if m.role == AGENT and m.available and m.covers(brand) and m.reads(language)]
    if fitting:
        chosen = _least_loaded(fitting, open_cases)
        return RoutingDecision(chosen.name, (), f"fewest open cases among {len(fitting)} fitting agents",
                               "match")
    return _lead_decision(brand, _why_no_agent(brand, language, staff), staff, open_cases)


def reroute_open_cases(unreachable: str, cases: Sequence[CaseToRoute], staff: Sequence[StaffMember],
                       open_cases: Mapping[str, int], why: str = "is unreachable") -> list[RoutingDecision]:
    """Route again the open cases of someone who can no longer be reached, one decision per case in order.

    The leads of each case's brand (any leads when the brand has none) are always told, with a reason that
    starts "{unreachable} {why}; ". Each decision counts the cases already moved, so the load spreads.
    """
    others = [replace(m, reachable=False) if m.name == unreachable else m for m in staff]
    load = dict(open_cases)
    load.pop(unreachable, None)
    leads = [m for m in others if is_lead(m.role) and m.contactable]
    decisions = []
    for case in cases:
        decision = route(case.brand, case.language, others, load, previous_handler=None)
        brand_leads = [m.name for m in leads if m.covers(case.brand)] or [m.name for m in leads]
        told = tuple(sorted({*decision.notify_leads, *brand_leads} - {decision.assignee}))
        decisions.append(replace(decision, notify_leads=told, reason=f"{unreachable} {why}; {decision.reason}"))
        if decision.assignee is not None:
            load[decision.assignee] = load.get(decision.assignee, 0) + 1
    return decisions
