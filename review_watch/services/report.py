"""The leads' report for one brand and one period: what the digests send and `review-watch report` prints.

The period's mentions are those Review Watch found in it (their arrival); ratings count at the review's own
date (the satisfaction index, domain/satisfaction); per-person figures count the cases answered in the period
(domain/team_figures); overdue cases are those overdue at the period's end, in priority order; the complaint
themes are those of domain/themes against the brand's mentions that are not complaints.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from review_watch.config import Config
from review_watch.domain.cases import OPEN_STATUSES
from review_watch.domain.priority import Priority, by_priority
from review_watch.domain.satisfaction import Rating, SatisfactionIndex, satisfaction_index, scaled_to_five
from review_watch.domain.team_figures import (
    AnsweredCase,
    OpenCase,
    PersonFigures,
    fastest_responders,
    person_figures,
)
from review_watch.domain.themes import Text, shared_themes
from review_watch.services.incidents import stop_words
from review_watch.services.priorities import case_priorities
from review_watch.storage.orm import Brand, Case, Incident, Mention, SentimentResult, Source, Staff
from review_watch.storage.unit_of_work import UnitOfWork

OVERDUE_LISTED = 10
THEMES_LISTED = 8
THEMES_BACKGROUND = timedelta(days=30)  # the brand's other mentions the period's complaints are set against
THEMES_TEXTS_LIMIT = 1000  # the latest texts of each side
THEMES_MIN_SHARE = 0.05  # a period's complaints are about many things, unlike an incident's


@dataclass(frozen=True)
class SourceSatisfaction:
    source: str
    index: SatisfactionIndex


@dataclass(frozen=True)
class DayFigures:
    day_end: datetime
    mentions: int
    negative: int
    satisfaction: float | None  # the rolling average at the day's end


@dataclass(frozen=True)
class OverdueCase:
    case_id: int
    assignee: str | None
    deadline_at: datetime
    priority: Priority
    source: str
    snippet: str


@dataclass(frozen=True)
class BrandReport:
    brand: str
    start: datetime
    end: datetime
    mentions: int
    negative: int
    satisfaction: SatisfactionIndex
    satisfaction_window_days: float
    by_source: tuple[SourceSatisfaction, ...]
    days: tuple[DayFigures, ...]
    people: tuple[PersonFigures, ...]
    fastest: tuple[PersonFigures, ...]
    overdue_total: int
    overdue: tuple[OverdueCase, ...]  # the first OVERDUE_LISTED, by priority
    open_incidents: tuple[str, ...]
    themes: tuple[tuple[str, int], ...]
    broken_sources: tuple[str, ...]

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.mentions if self.mentions else None


def brands(uow: UnitOfWork) -> list[str]:
    return list(uow.session.scalars(select(Brand.name).order_by(Brand.name)))


def _brand_id(uow: UnitOfWork, name: str) -> int:
    brand_id = uow.session.scalar(select(Brand.id).where(func.lower(Brand.name) == name.lower()))
    if brand_id is None:
        raise LookupError(f"no brand {name!r} (known: {', '.join(brands(uow)) or 'none'})")
    return brand_id


def brand_report(uow: UnitOfWork, config: Config, brand: str, start: datetime, end: datetime) -> BrandReport:
    """The report of `brand` for [start, end); `end` is also "now" for what is overdue."""
    brand_id = _brand_id(uow, brand)
    brand = uow.session.scalar(select(Brand.name).where(Brand.id == brand_id)) or brand
    session = uow.session
    window = timedelta(days=config.leads.satisfaction_window_days)
    in_period = and_(Mention.brand_id == brand_id, Mention.arrived_at >= start, Mention.arrived_at < end)
    volume = list(session.execute(
        select(Mention.arrived_at, SentimentResult.negative, SentimentResult.unsure, Mention.duplicate_of_id)
        .outerjoin(SentimentResult, SentimentResult.mention_id == Mention.id).where(in_period)))
    negative = sum(1 for row in volume if row.negative and not row.unsure)
    ratings_by_source = _ratings(uow, brand_id, min(start, end - window) - window, end)
    all_ratings = [r for ratings in ratings_by_source.values() for r in ratings]
    day_ends = _day_ends(start, end)
    days = tuple(DayFigures(
        day_end, sum(1 for row in volume if day_end - timedelta(days=1) <= row.arrived_at < day_end),
        sum(1 for row in volume if row.negative and not row.unsure
            and day_end - timedelta(days=1) <= row.arrived_at < day_end),
        satisfaction_index(all_ratings, day_end, window).average) for day_end in day_ends)
    answered = [AnsweredCase(name, arrived, due, answered_at) for name, arrived, due, answered_at in session.execute(
        select(Staff.name, Case.arrived_at, Case.deadline_at, Case.answered_at)
        .outerjoin(Staff, Staff.id == Case.assignee_id)
        .where(Case.brand == brand, Case.answered_at >= start, Case.answered_at < end)) if answered_at is not None]
    open_rows = list(session.execute(
        select(Case.id, Staff.name, Case.deadline_at).outerjoin(Staff, Staff.id == Case.assignee_id)
        .where(Case.brand == brand, Case.status.in_(OPEN_STATUSES))))
    people = person_figures(answered, [OpenCase(name, due) for _, name, due in open_rows], config.calendar(), end)
    overdue_ids = [case_id for case_id, _, due in open_rows if due < end]
    return BrandReport(
        brand=brand, start=start, end=end, mentions=len(volume), negative=negative,
        satisfaction=satisfaction_index(all_ratings, end, window),
        satisfaction_window_days=config.leads.satisfaction_window_days,
        by_source=tuple(SourceSatisfaction(source, satisfaction_index(ratings, end, window))
                        for source, ratings in sorted(ratings_by_source.items())),
        days=days, people=tuple(people), fastest=tuple(fastest_responders(people)),
        overdue_total=len(overdue_ids), overdue=tuple(_overdue(uow, overdue_ids)),
        open_incidents=tuple(_open_incidents(uow, brand, end)),
        themes=tuple(_complaint_themes(uow, brand_id, start, end)),
        broken_sources=tuple(_broken_sources(uow, config, brand_id)))


def _day_ends(start: datetime, end: datetime) -> list[datetime]:
    """Day boundaries counted back from the end (at most 31 points)."""
    ends: list[datetime] = []
    at = end
    while at > start and len(ends) < 31:
        ends.append(at)
        at -= timedelta(days=1)
    return ends[::-1]


def _ratings(uow: UnitOfWork, brand_id: int, since: datetime, until: datetime) -> dict[str, list[Rating]]:
    dated = or_(and_(Mention.published_at >= since, Mention.published_at <= until),
                and_(Mention.published_at.is_(None), Mention.arrived_at >= since, Mention.arrived_at <= until))
    ratings: dict[str, list[Rating]] = {}
    for source, published, arrived, rating, rating_max in uow.session.execute(
            select(Source.name, Mention.published_at, Mention.arrived_at, Mention.rating, Mention.rating_max)
            .join(Source, Source.id == Mention.source_id)
            .where(Mention.brand_id == brand_id, Mention.rating.is_not(None), Mention.duplicate_of_id.is_(None),
                   dated)):
        stars = scaled_to_five(rating, rating_max)
        if stars is not None:
            ratings.setdefault(source, []).append(Rating(published or arrived, stars))
    return ratings


def _complaint_themes(uow: UnitOfWork, brand_id: int, start: datetime, end: datetime) -> list[tuple[str, int]]:
    """The words and phrases the period's complaints share (domain/themes, as an incident's), set against the
    brand's mentions that are not complaints, of the period and the THEMES_BACKGROUND before it: what the
    complaints are about, not what everyone says of the brand. Each theme with the number of complaints
    holding it."""
    complaint = and_(SentimentResult.negative.is_(True), SentimentResult.unsure.is_(False))
    not_a_complaint = SentimentResult.negative.is_(False)

    def texts(since: datetime, which: ColumnElement[bool]) -> list[Text]:
        query = (select(Mention.title, Mention.text, SentimentResult.language, Mention.language)
                 .join(SentimentResult, SentimentResult.mention_id == Mention.id)
                 .where(Mention.brand_id == brand_id, Mention.duplicate_of_id.is_(None),
                        Mention.arrived_at >= since, Mention.arrived_at < end, which)
                 .order_by(Mention.arrived_at.desc()).limit(THEMES_TEXTS_LIMIT))
        return [Text(" ".join(part for part in (title, text) if part), judged or given)
                for title, text, judged, given in uow.session.execute(query)]

    themes = shared_themes(texts(start, complaint), texts(start - THEMES_BACKGROUND, not_a_complaint), stop_words(),
                           limit=THEMES_LISTED, min_share=THEMES_MIN_SHARE)
    return [(theme.term, theme.support) for theme in themes]


def _open_incidents(uow: UnitOfWork, brand: str, end: datetime) -> list[str]:
    """The brand's incidents open at the period's end, each as "since <opened>: <count> complaints (<themes>)"."""
    lines = []
    for incident in uow.session.scalars(select(Incident).where(
            Incident.brand == brand, Incident.opened_at < end,
            or_(Incident.closed_at.is_(None), Incident.closed_at >= end)).order_by(Incident.opened_at)):
        themes = f" ({', '.join(incident.themes[:5])})" if incident.themes else ""
        scope = f" on {incident.source}" if incident.source else ""
        lines.append(f"#{incident.id}{scope} since {_iso(incident.opened_at)}: {incident.peak_count} complaints"
                     f" at the peak{themes}")
    return lines


def _overdue(uow: UnitOfWork, case_ids: list[int]) -> list[OverdueCase]:
    if not case_ids:
        return []
    priorities = case_priorities(uow, case_ids)
    rows = {row.id: row for row in uow.session.execute(
        select(Case.id, Staff.name, Case.deadline_at, Source.name.label("source"), Mention.text)
        .join(Mention, Mention.id == Case.id).join(Source, Source.id == Mention.source_id)
        .outerjoin(Staff, Staff.id == Case.assignee_id).where(Case.id.in_(case_ids)))}
    ordered = by_priority((case_id, priorities[case_id], rows[case_id].deadline_at, case_id) for case_id in rows)
    return [OverdueCase(case_id, rows[case_id].name, rows[case_id].deadline_at, priorities[case_id],
                        rows[case_id].source, _snippet(rows[case_id].text)) for case_id in ordered[:OVERDUE_LISTED]]


def _snippet(text: str, length: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[:length - 1] + "…"


def _broken_sources(uow: UnitOfWork, config: Config, brand_id: int) -> list[str]:
    return list(uow.session.scalars(
        select(Source.name).where(or_(Source.brand_id == brand_id, Source.brand_id.is_(None)),
                                  or_(Source.broken_alert_sent.is_(True),
                                      Source.empty_runs_in_a_row >= config.crawl.broken_after_empty_runs))
        .order_by(Source.name)))


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _index_dict(index: SatisfactionIndex) -> dict[str, object]:
    return {"average": _round(index.average), "ratings": index.count,
            "previous_average": _round(index.previous_average), "trend": _round(index.trend)}


def report_dict(report: BrandReport) -> dict[str, Any]:
    """The report as JSON values: `review-watch report --format json` and the digest's outbox payload."""
    return {
        "brand": report.brand, "start": _iso(report.start), "end": _iso(report.end),
        "mentions": report.mentions, "negative": report.negative, "negative_share": _round(report.negative_share, 4),
        "satisfaction": {**_index_dict(report.satisfaction), "window_days": report.satisfaction_window_days},
        "satisfaction_by_source": {s.source: _index_dict(s.index) for s in report.by_source},
        "days": [{"end": _iso(d.day_end), "mentions": d.mentions, "negative": d.negative,
                  "satisfaction": _round(d.satisfaction)} for d in report.days],
        "people": [{"name": p.name, "answered": p.answered, "answered_in_time": p.answered_in_time,
                    "in_time_share": _round(p.in_time_share, 4),
                    "median_first_reply_business_hours": _round(p.median_first_reply_hours),
                    "overdue_now": p.overdue_now} for p in report.people],
        "fastest": [p.name for p in report.fastest],
        "overdue_total": report.overdue_total,
        "overdue": [{"case_id": c.case_id, "assignee": c.assignee, "deadline": _iso(c.deadline_at),
                     "priority": c.priority.score, "reasons": [r.value for r in c.priority.reasons],
                     "source": c.source, "text": c.snippet} for c in report.overdue],
        "open_incidents": list(report.open_incidents),
        "themes": [{"word": word, "mentions": n} for word, n in report.themes],
        "broken_sources": list(report.broken_sources),
    }


CSV_FIELDS = ("brand", "start", "end", "section", "item", "metric", "value")


def report_rows(report: BrandReport) -> Iterator[dict[str, Any]]:
    """The report in long form for a spreadsheet: one figure per row (section, item, metric, value)."""
    data = report_dict(report)
    base = {"brand": data["brand"], "start": data["start"], "end": data["end"]}

    def row(section: str, item: str, metric: str, value: object) -> dict[str, Any]:
        return {**base, "section": section, "item": item, "metric": metric, "value": value}

    for metric in ("mentions", "negative", "negative_share", "overdue_total"):
        yield row("summary", "", metric, data[metric])
    for metric, value in data["satisfaction"].items():
        yield row("satisfaction", "", metric, value)
    for source, index in data["satisfaction_by_source"].items():
        for metric, value in index.items():
            yield row("satisfaction", source, metric, value)
    for day in data["days"]:
        for metric in ("mentions", "negative", "satisfaction"):
            yield row("day", day["end"], metric, day[metric])
    for person in data["people"]:
        for metric, value in person.items():
            if metric != "name":
                yield row("person", person["name"], metric, value)
    for rank, name in enumerate(data["fastest"], 1):
        yield row("fastest", name, "rank", rank)
    for case in data["overdue"]:
        for metric in ("assignee", "deadline", "priority", "source", "text"):
            yield row("overdue", str(case["case_id"]), metric, case[metric])
    for title in data["open_incidents"]:
        yield row("incident", title, "open", True)
    for theme in data["themes"]:
        yield row("theme", theme["word"], "mentions", theme["mentions"])
    for source in data["broken_sources"]:
        yield row("broken_source", source, "broken", True)
