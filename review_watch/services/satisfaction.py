"""The satisfaction check after a crawl: each brand's index, and each of its sources', against the warning rule
(the state is stored per brand and source). The leads of the brand get one message per fall: about the brand
when it fell, else about its first source that fell while the brand's own warning does not stand, with every
source's figures when the brand has more than one. A brand with one source falls once, not once per scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from review_watch.config import Config
from review_watch.domain.brand_matching import covers_brand
from review_watch.domain.permissions import is_lead
from review_watch.domain.satisfaction import (
    Rating,
    SatisfactionIndex,
    WarningReason,
    WarningRule,
    decide_warning,
    satisfaction_index,
    scaled_to_five,
)
from review_watch.services.triage import queue_message
from review_watch.storage.orm import Brand, Mention, SatisfactionState, Source, Staff
from review_watch.storage.unit_of_work import UnitOfWork

WHOLE_BRAND = ""  # the state's source for the brand's index over all its sources


@dataclass(frozen=True)
class SourceFigures:
    source: str
    index: SatisfactionIndex
    warned: bool  # the source's own warning stands (given now or before)


@dataclass(frozen=True)
class SatisfactionWarningView:
    brand: str
    source: str | None  # the scope that fell: None for the brand over all its sources
    reason: WarningReason
    index: SatisfactionIndex
    sources: tuple[SourceFigures, ...]  # each source's figures, when the brand has more than one


@dataclass(frozen=True)
class BrandSatisfaction:
    brand: str
    index: SatisfactionIndex
    by_source: dict[str, SatisfactionIndex]
    warned: frozenset[str]  # scopes with a standing warning: source names, WHOLE_BRAND for the brand


def _ratings(uow: UnitOfWork, brand_id: int, since: datetime, until: datetime) -> dict[str, list[Rating]]:
    ratings: dict[str, list[Rating]] = {}
    for source, published, arrived, rating, rating_max in uow.session.execute(
            select(Source.name, Mention.published_at, Mention.arrived_at, Mention.rating, Mention.rating_max)
            .join(Source, Source.id == Mention.source_id)
            .where(Mention.brand_id == brand_id, Mention.rating.is_not(None), Mention.duplicate_of_id.is_(None),
                   ((Mention.published_at > since) & (Mention.published_at <= until))
                   | (Mention.published_at.is_(None) & (Mention.arrived_at > since)
                      & (Mention.arrived_at <= until)))):
        stars = scaled_to_five(rating, rating_max)
        if stars is not None:
            ratings.setdefault(source, []).append(Rating(published or arrived, stars))
    return ratings


def brand_satisfaction(uow: UnitOfWork, config: Config, now: datetime) -> list[BrandSatisfaction]:
    """Each brand's index and its sources' (for /stats), with the warnings that stand."""
    window = timedelta(days=config.leads.satisfaction_window_days)
    states = {(s.brand, s.source): s.warned for s in uow.session.scalars(select(SatisfactionState))}
    result = []
    for brand_id, brand in uow.session.execute(select(Brand.id, Brand.name).order_by(Brand.name)):
        by_source = _ratings(uow, brand_id, now - 2 * window, now)
        everything = [r for ratings in by_source.values() for r in ratings]
        result.append(BrandSatisfaction(
            brand, satisfaction_index(everything, now, window),
            {source: satisfaction_index(ratings, now, window) for source, ratings in sorted(by_source.items())},
            frozenset(scope for (b, scope), warned in states.items() if b == brand and warned)))
    return result


def check_satisfaction(uow: UnitOfWork, config: Config, now: datetime) -> list[SatisfactionWarningView]:
    """Decide each brand's and source's warning, store the state, and queue one warning to the brand's leads
    when any of them fell. Called after a crawl; calling it again changes nothing until the ratings do."""
    states = {(s.brand, s.source): s for s in uow.session.scalars(select(SatisfactionState))}
    leads = [member for member in uow.session.scalars(select(Staff).where(Staff.active.is_(True))
                                                      .order_by(Staff.name)) if is_lead(member.role)]
    warnings = []
    for figures in brand_satisfaction(uow, config, now):
        fell, warned = _decide(uow, states, figures, config.leads.warning_rule, now)
        if not fell or (warned[WHOLE_BRAND] and fell[0][0] != WHOLE_BRAND):
            continue  # nothing fell, or a source of a brand whose own warning stands: its leads know
        scope, reason, index = fell[0]  # the brand's own fall comes first
        sources = tuple(SourceFigures(source, source_index, warned[source])
                        for source, source_index in figures.by_source.items()) if len(figures.by_source) > 1 else ()
        warning = SatisfactionWarningView(figures.brand, scope or None, reason, index, sources)
        warnings.append(warning)
        brand_leads = [lead for lead in leads if covers_brand(lead.brands, figures.brand)] or leads
        for lead in brand_leads:
            queue_message(uow, kind="notice", staff_id=lead.id, case_id=None, now=now,
                          dedupe_key=f"satisfaction:{figures.brand}:{now.isoformat()}:{lead.id}",
                          payload=warning_payload(warning, config))
    uow.commit()
    return warnings


def _decide(uow: UnitOfWork, states: dict[tuple[str, str], SatisfactionState], figures: BrandSatisfaction,
            rule: WarningRule, now: datetime) -> tuple[list[tuple[str, WarningReason, SatisfactionIndex]],
                                                       dict[str, bool]]:
    """The brand's and each source's decision, stored: the scopes that fell now (the brand first), and
    whether each scope's warning stands."""
    fell = []
    warned = {}
    for scope, index in [(WHOLE_BRAND, figures.index), *figures.by_source.items()]:
        state = states.get((figures.brand, scope))
        decision = decide_warning(index, state.warned if state else False, rule)
        if state is None:
            state = SatisfactionState(brand=figures.brand, source=scope, warned=False, changed_at=now)
            uow.session.add(state)
        if decision.warned != state.warned:
            state.warned, state.changed_at = decision.warned, now
        state.average = index.average
        warned[scope] = decision.warned
        if decision.warn is not None:
            fell.append((scope, decision.warn, index))
    return fell, warned


def warning_payload(warning: SatisfactionWarningView, config: Config) -> dict[str, object]:
    index = warning.index
    return {"notice": "satisfaction", "brand": warning.brand, "source": warning.source,
            "reason": warning.reason.value, "average": round(index.average or 0.0, 2), "count": index.count,
            "previous": _rounded(index.previous_average),
            "threshold": config.leads.satisfaction_warning,
            "window_days": config.leads.satisfaction_window_days,
            "sources": [{"source": s.source, "average": _rounded(s.index.average), "count": s.index.count,
                         "trend": _rounded(s.index.trend), "warned": s.warned} for s in warning.sources]}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
