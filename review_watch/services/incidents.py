"""Incidents: a spike of a brand's complaints handled as one thing (issue 17.1; the method: domain/crisis.py).

`check` runs after triage (the crawl) and on the bot's tick. It keeps each scope's usual rate (a brand, and
each source of the brand) in `crisis_baselines`, counts the complaints of the last window, and opens, widens
or closes the brand's incident as `domain/crisis.judge` says. Opening links the window's open cases to the
incident, withdraws their alerts not yet sent, and queues one incident card to each of the brand's leads
(the count against the usual, the shared themes, a few example posts, and buttons). While the incident is
open, `link_new_case` (called by triage as it opens a case) links each new case of the scope to it and
withholds its alert card, unless a lead switched individual cards back on; the leads' cards show a running
count instead, edited in place at most once per `card_interval` (the outbox's edits, superseded ones
skipped). Staff still find the cases in /queue. Closing tells the leads, with totals.

What a lead does with an incident (acknowledge it, switch individual cards, send the holding reply) is in
`services/incident_actions.py`; the platforms' refusals of its holding replies are gathered here into one
message to the lead.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError

from review_watch.clock import Clock
from review_watch.config import Config
from review_watch.domain.brand_matching import covers_brand
from review_watch.domain.cases import OPEN_STATUSES
from review_watch.domain.crisis import (
    Baseline,
    CrisisSettings,
    OpenIncident,
    RateCheck,
    bucket_start,
    counts_towards_rate,
    fold,
    fold_until,
    judge,
)
from review_watch.domain.permissions import is_lead
from review_watch.domain.themes import StopWords, Text, Theme, shared_themes
from review_watch.storage.orm import (
    Brand,
    Case,
    CaseEvent,
    CrisisBaseline,
    Incident,
    IncidentCard,
    Mention,
    OutboxMessage,
    SentimentResult,
    Source,
    Staff,
)
from review_watch.storage.unit_of_work import AbstractUnitOfWork, UnitOfWork

SYSTEM_ACTOR = "review-watch"
INCIDENT, INCIDENT_EDIT, INCIDENT_CLOSED = "incident", "incident_edit", "incident_closed"  # outbox kinds
INCIDENT_KINDS = frozenset({INCIDENT, INCIDENT_EDIT, INCIDENT_CLOSED})
WHOLE_BRAND = ""  # crisis_baselines.source of a brand's own usual rate
LOOKBACK_HALF_LIVES = 4  # a new scope's usual rate is learnt from this many half-lives of history
BACKGROUND = timedelta(days=30)  # the brand's usual complaints, for the themes
BACKGROUND_LIMIT = 1000
INCIDENT_TEXTS_LIMIT = 500  # the incident's latest complaints that its themes are drawn from
EXAMPLES = 3
EXAMPLE_CHARS = 200


def crisis_settings(config: Config) -> CrisisSettings:
    return config.crisis.settings


@cache
def _stop_words(languages: tuple[str, ...]) -> StopWords:
    import stopwordsiso

    return {code: frozenset(word.casefold() for word in stopwordsiso.stopwords(code)) for code in languages
            if stopwordsiso.has_lang(code)}


def stop_words() -> StopWords:
    """Per-language stop words (stopwords-iso) of every language it has."""
    import stopwordsiso

    return _stop_words(tuple(sorted(stopwordsiso.langs())))


# Views -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExamplePost:
    case_id: int
    source: str
    text: str  # cut to EXAMPLE_CHARS
    url: str | None


@dataclass(frozen=True)
class IncidentView:
    """An incident as its card shows it."""

    incident_id: int
    brand: str
    source: str | None  # None: the whole brand
    status: str  # open | closed
    opened_at: datetime
    closed_at: datetime | None
    count_at_open: int  # complaints in the window when it opened
    usual_at_open: float  # the usual count for a window that long
    window: timedelta
    themes: tuple[str, ...]
    examples: tuple[ExamplePost, ...]
    cases: int  # cases linked, in all
    open_cases: int  # of those, still waiting for a reply
    answered: int  # replied to or closed
    withheld: int  # cases whose alert card went to the incident's running count instead
    individual_cards: bool
    acknowledged_by: str | None
    holding_reply_by: str | None
    holding_reply_at: datetime | None
    holding_reply_configured: bool


def incident_view(uow: AbstractUnitOfWork, config: Config, incident_id: int) -> IncidentView | None:
    row = uow.repo.incident(incident_id)
    if row is None:
        return None
    cases = uow.repo.incident_cases(incident_id)
    open_cases = sum(1 for case in cases if case.status in OPEN_STATUSES)
    latest = sorted(cases, key=lambda case: (case.arrived_at, case.id), reverse=True)[:EXAMPLES]
    examples = tuple(ExamplePost(case.id, case.mention.source.name if case.mention.source else "",
                                 _cut(case.mention.text), case.mention.url) for case in latest)
    return IncidentView(
        incident_id=row.id, brand=row.brand, source=row.source, status=row.status, opened_at=row.opened_at,
        closed_at=row.closed_at, count_at_open=row.count_at_open, usual_at_open=row.usual_at_open,
        window=timedelta(seconds=row.window_seconds), themes=tuple(row.themes or ()), examples=examples,
        cases=len(cases), open_cases=open_cases, answered=len(cases) - open_cases,
        withheld=sum(1 for case in cases if case.alert_withheld), individual_cards=row.individual_cards,
        acknowledged_by=row.acknowledged_by, holding_reply_by=row.holding_reply_by,
        holding_reply_at=row.holding_reply_at, holding_reply_configured=bool(config.crisis.holding_reply))


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS - 1].rstrip() + "…"


def open_incident_case_ids(uow: UnitOfWork, case_ids: Collection[int]) -> frozenset[int]:
    """Which of these cases belong to an incident that is still open (a signal of a case's priority)."""
    if not case_ids:
        return frozenset()
    return frozenset(uow.session.scalars(
        select(Case.id).join(Incident, Incident.id == Case.incident_id)
        .where(Case.id.in_(list(case_ids)), Incident.status == "open")))


def open_incidents(uow: UnitOfWork) -> list[Incident]:
    return list(uow.session.scalars(select(Incident).where(Incident.status == "open").order_by(Incident.id)))


# The check ---------------------------------------------------------------------------------------------


@dataclass
class CheckFigures:
    opened: int = 0
    widened: int = 0
    closed: int = 0
    linked: int = 0


@dataclass(frozen=True)
class _Complaint:
    brand: str
    source: str
    arrived_at: datetime


def _complaints_since(uow: UnitOfWork, since: datetime, settings: CrisisSettings) -> list[_Complaint]:
    """Sure negative, first-seen complaints with a brand that arrived since then, as the rate counts them."""
    rows = uow.session.execute(
        select(Brand.name, Source.name, Mention.arrived_at, Mention.published_at)
        .join(SentimentResult, SentimentResult.mention_id == Mention.id)
        .join(Brand, Brand.id == Mention.brand_id).join(Source, Source.id == Mention.source_id)
        .where(Mention.arrived_at >= since, SentimentResult.negative.is_(True), SentimentResult.unsure.is_(False),
               Mention.duplicate_of_id.is_(None)))
    return [_Complaint(brand, source, arrived) for brand, source, arrived, published in rows
            if counts_towards_rate(arrived, published, settings)]


def check(uow: UnitOfWork, config: Config, clock: Clock, words: StopWords | None = None) -> CheckFigures:
    """Bring every scope's usual rate up to date, then open, widen, keep or close each brand's incident."""
    settings = crisis_settings(config)
    now = clock()
    figures = CheckFigures()
    until = fold_until(now, settings)
    lookback = bucket_start(until - LOOKBACK_HALF_LIVES * settings.half_life, settings.bucket)
    stored = {(brand, source): Baseline(raw, weight, through) for brand, source, raw, weight, through in
              uow.session.execute(select(CrisisBaseline.brand, CrisisBaseline.source, CrisisBaseline.raw_rate,
                                         CrisisBaseline.weight, CrisisBaseline.through))}
    brands = list(uow.session.scalars(select(Brand.name).order_by(Brand.name)))
    starts = [row.through or lookback for row in stored.values()]
    starts += [lookback for brand in brands if (brand, WHOLE_BRAND) not in stored]
    read_from = max(lookback, min([*starts, now - settings.window]))
    complaints = _complaints_since(uow, read_from, settings)

    window_start = now - settings.window
    in_window: Counter[tuple[str, str]] = Counter()
    buckets: dict[tuple[str, str], Counter[datetime]] = defaultdict(Counter)
    for item in complaints:
        for key in ((item.brand, WHOLE_BRAND), (item.brand, item.source)):
            if window_start < item.arrived_at <= now:
                in_window[key] += 1
            if item.arrived_at < until:
                buckets[key][bucket_start(item.arrived_at, settings.bucket)] += 1

    incidents = {row.brand: row for row in open_incidents(uow)}
    keys = set(stored) | {(brand, WHOLE_BRAND) for brand in brands} | set(buckets) | set(in_window)
    baselines: dict[tuple[str, str], Baseline] = {}
    changed: list[dict[str, Any]] = []
    for key in sorted(keys):
        # a new scope is learnt from the lookback when it was read, else from its first complaint on
        start = stored.get(key) or Baseline(through=lookback if read_from <= lookback else None)
        counts = {b: n for b, n in buckets.get(key, {}).items() if start.through is None or b >= start.through}
        baseline = fold(start, counts, until, settings, skip=key[0] in incidents)
        baselines[key] = baseline
        if key not in stored:
            uow.session.add(CrisisBaseline(brand=key[0], source=key[1], raw_rate=baseline.raw_rate,
                                           weight=baseline.weight, through=baseline.through))
        elif baseline != start:
            changed.append({"brand": key[0], "source": key[1], "raw_rate": baseline.raw_rate,
                            "weight": baseline.weight, "through": baseline.through})
    if changed:  # one statement for all (once a bucket a check folds every scope's)
        uow.session.execute(update(CrisisBaseline), changed)

    try:
        for brand in sorted({key[0] for key in keys}):
            _judge_brand(uow, config, brand, keys, in_window, baselines, incidents.get(brand), now, words, figures)
        uow.commit()
    except IntegrityError:  # a concurrent check (the crawl's, the bot's tick) did it first; the next one goes on
        uow.rollback()
        return CheckFigures()
    return figures


def _judge_brand(uow: UnitOfWork, config: Config, brand: str, keys: set[tuple[str, str]],
                 in_window: Counter[tuple[str, str]], baselines: dict[tuple[str, str], Baseline],
                 incident: Incident | None, now: datetime, words: StopWords | None, figures: CheckFigures) -> None:
    settings = crisis_settings(config)
    checks = [RateCheck(None if source == WHOLE_BRAND else source, in_window[(brand, source)],
                        baselines[(brand, source)].usual_count(settings.window),
                        seasoned=baselines[(brand, source)].history(settings) >= settings.min_history)
              for b, source in sorted(keys) if b == brand]
    state = OpenIncident(incident.source, incident.opened_at, incident.usual_since) if incident is not None else None
    verdict = judge(checks, state, now, settings)
    if verdict.action == "open" and verdict.check is not None:
        _open(uow, config, brand, verdict.check, now, words, figures)
    elif incident is not None and verdict.check is not None:
        _follow(uow, config, incident, verdict.action, verdict.check, verdict.usual_since, now, words, figures)


def _open(uow: UnitOfWork, config: Config, brand: str, spike: RateCheck, now: datetime, words: StopWords | None,
          figures: CheckFigures) -> None:
    settings = crisis_settings(config)
    row = Incident(brand=brand, source=spike.scope, status="open", opened_at=now, count_at_open=spike.count,
                   usual_at_open=spike.usual, window_seconds=settings.window.total_seconds(),
                   peak_count=spike.count, themes=[], individual_cards=False)
    uow.session.add(row)
    uow.session.flush()
    figures.opened += 1
    figures.linked += _link_window(uow, row, now - settings.window, now)
    row.themes = [theme.term for theme in _themes(uow, row, now, settings, words)]
    for lead in leads_of(uow, brand):
        _queue(uow, INCIDENT, f"incident:{row.id}:{lead.id}", lead.id, now, {"incident_id": row.id})


def _follow(uow: UnitOfWork, config: Config, row: Incident, action: str, check: RateCheck,
            usual_since: datetime | None, now: datetime, words: StopWords | None, figures: CheckFigures) -> None:
    row.peak_count = max(row.peak_count, check.count)
    if action == "widen":
        row.source = None
        figures.widened += 1
    linked = _link_window(uow, row, row.opened_at - timedelta(seconds=row.window_seconds), now)
    figures.linked += linked
    if action == "close":
        row.status, row.closed_at, row.usual_since = "closed", now, usual_since
        figures.closed += 1
        for lead in leads_of(uow, row.brand):
            _queue(uow, INCIDENT_CLOSED, f"incident-closed:{row.id}:{lead.id}", lead.id, now,
                   {"incident_id": row.id})
        queue_card_edits(uow, config, row.id, now, at_once=True)
        return
    row.usual_since = usual_since
    if linked or action == "widen":
        row.themes = [theme.term for theme in _themes(uow, row, now, crisis_settings(config), words)]
        queue_card_edits(uow, config, row.id, now)


def _scope_cases(row: Incident, since: datetime, until: datetime) -> Select[Any]:
    query = (select(Case).join(Mention, Mention.id == Case.id)
             .where(Case.brand == row.brand, Case.incident_id.is_(None), Case.status.in_(OPEN_STATUSES),
                    Case.arrived_at > since, Case.arrived_at <= until))
    if row.source is not None:
        query = query.join(Source, Source.id == Mention.source_id).where(Source.name == row.source)
    return query.order_by(Case.id)


def _link_window(uow: UnitOfWork, row: Incident, since: datetime, now: datetime) -> int:
    """Link the scope's open cases that arrived since then and have no incident; withdraw their alerts that
    have not been sent yet. Returns how many were linked."""
    cases = list(uow.session.scalars(_scope_cases(row, since, now)))
    if not cases:
        return 0
    ids = [case.id for case in cases]
    withdrawn: set[int] = set()
    if not row.individual_cards:
        withdrawn = {case_id for case_id in uow.session.scalars(
            select(OutboxMessage.case_id).where(OutboxMessage.case_id.in_(ids), OutboxMessage.kind == "alert",
                                                OutboxMessage.status == "pending")) if case_id is not None}
    if withdrawn:
        uow.session.execute(
            update(OutboxMessage).where(OutboxMessage.case_id.in_(list(withdrawn)), OutboxMessage.kind == "alert",
                                        OutboxMessage.status == "pending")
            .values(status="skipped", last_error=f"on the running count of incident {row.id}")
            .execution_options(synchronize_session=False))
    for case in cases:
        _link(uow, case, row, withheld=case.id in withdrawn, now=now)
    return len(cases)


def _link(uow: AbstractUnitOfWork, case: Case, row: Incident, withheld: bool, now: datetime) -> None:
    case.incident_id = row.id
    case.alert_withheld = withheld
    uow.repo.add(CaseEvent(mention_id=case.id, kind="incident", actor=SYSTEM_ACTOR, at=now,
                              details={"incident": row.id, "alert_withheld": withheld}))


def link_new_case(uow: AbstractUnitOfWork, config: Config, case: Case, source: str | None, now: datetime) -> bool:
    """Link a case being opened to its brand's open incident, when the incident covers its source. Returns
    whether its alert card is withheld (it goes to the incident's running count instead)."""
    if case.brand is None:
        return False
    row = uow.repo.open_incident(case.brand)
    if row is None or (row.source is not None and row.source != source):
        return False
    _link(uow, case, row, withheld=not row.individual_cards, now=now)
    queue_card_edits(uow, config, row.id, now)
    return not row.individual_cards


def _themes(uow: UnitOfWork, row: Incident, now: datetime, settings: CrisisSettings,
            words: StopWords | None) -> list[Theme]:
    def texts(since: datetime, until: datetime, limit: int | None, scoped: bool) -> list[Text]:
        query = (select(Mention.text, Mention.title, SentimentResult.language, Mention.language)
                 .join(SentimentResult, SentimentResult.mention_id == Mention.id)
                 .join(Brand, Brand.id == Mention.brand_id)
                 .where(Brand.name == row.brand, SentimentResult.negative.is_(True),
                        Mention.duplicate_of_id.is_(None), Mention.arrived_at > since, Mention.arrived_at <= until))
        if scoped and row.source is not None:
            query = query.join(Source, Source.id == Mention.source_id).where(Source.name == row.source)
        query = query.order_by(Mention.arrived_at.desc())
        if limit is not None:
            query = query.limit(limit)
        return [Text(" ".join(part for part in (title, text) if part), judged or given)
                for text, title, judged, given in uow.session.execute(query)]

    incident = texts(row.opened_at - settings.window, now, INCIDENT_TEXTS_LIMIT, scoped=True)
    background = texts(row.opened_at - BACKGROUND, row.opened_at - settings.window, BACKGROUND_LIMIT, scoped=False)
    return shared_themes(incident, background, words if words is not None else stop_words())


# Messages to the leads ---------------------------------------------------------------------------------


def leads_of(uow: UnitOfWork, brand: str) -> list[Staff]:
    """The active leads of the brand; when none covers it, every active lead."""
    leads = list(uow.session.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.name)))
    leads = [member for member in leads if is_lead(member.role)]
    return [lead for lead in leads if covers_brand(lead.brands, brand)] or leads


def _queue(uow: AbstractUnitOfWork, kind: str, dedupe_key: str, staff_id: int | None, not_before: datetime,
           payload: dict[str, Any], now: datetime | None = None) -> None:
    if uow.repo.outbox_key_used(dedupe_key):
        return
    uow.repo.add(OutboxMessage(dedupe_key=dedupe_key, kind=kind, staff_id=staff_id, case_id=None, payload=payload,
                               status="pending", attempts=0, not_before=not_before, created_at=now or not_before))


def queue_card_edits(uow: AbstractUnitOfWork, config: Config, incident_id: int, now: datetime,
                     at_once: bool = False) -> None:
    """Refresh the leads' incident cards in place: at most one edit per card per `card_interval`, sent at the
    end of the interval so that it shows everything that happened in it (`at_once`: now, after a lead's
    button or the closing)."""
    interval = timedelta(seconds=config.crisis.card_interval)
    slot = bucket_start(now, interval)
    not_before = now if at_once else slot + interval
    tag = now.isoformat() if at_once else slot.isoformat()
    for card in uow.repo.incident_cards(incident_id):
        _queue(uow, INCIDENT_EDIT, f"incident-edit:{incident_id}:{card.staff_id}:{tag}", card.staff_id,
               not_before, {"incident_id": incident_id, "chat_id": card.chat_id, "message_id": card.message_id},
               now=now)


# Holding replies posted to the platforms ---------------------------------------------------------------

HOLDING_REFUSALS = "holding_refusals"  # the notice that gathers the refusals of an incident's holding replies
REFUSALS_GATHERED_FOR = timedelta(seconds=60)  # refusals this soon after the first go into the same message
GATHER_MARGIN = timedelta(seconds=5)  # a message this close to its time may be in the sender's hands


def holding_reply_incident(uow: UnitOfWork, case_id: int, reply_id: int) -> int | None:
    """The incident whose holding reply this reply row is (services/incident_actions), else None."""
    for details in uow.session.scalars(select(CaseEvent.details).where(CaseEvent.mention_id == case_id,
                                                                      CaseEvent.kind == "holding_reply")):
        if (details or {}).get("reply_id") == reply_id:
            return int(details["incident"])
    return None


def queue_holding_refusal(uow: UnitOfWork, incident_id: int, lead_id: int, refusal: dict[str, Any],
                          now: datetime) -> None:
    """A platform refused a holding reply: the lead who sent it gets one message for the refusals that come
    within a minute of each other (a token that expired refuses them all), not a notice per case."""
    prefix = f"{HOLDING_REFUSALS}:{incident_id}:"
    gathering = uow.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "notice", OutboxMessage.status == "pending",
                                    OutboxMessage.staff_id == lead_id,
                                    OutboxMessage.dedupe_key.startswith(prefix, autoescape=True),
                                    OutboxMessage.not_before > now + GATHER_MARGIN)
        .order_by(OutboxMessage.id)).first()
    if gathering is not None:
        gathering.payload = {**gathering.payload, "refusals": [*gathering.payload["refusals"], refusal]}
        return
    _queue(uow, "notice", f"{prefix}{lead_id}:{now.isoformat()}", lead_id,
           now + REFUSALS_GATHERED_FOR, {"notice": HOLDING_REFUSALS, "incident_id": incident_id,
                                         "refusals": [refusal]}, now=now)


def record_incident_card(uow: UnitOfWork, incident_id: int, staff_id: int, chat_id: int, message_id: int) -> None:
    """The sender delivered a lead's incident card: later edits go to this message."""
    card = uow.session.get(IncidentCard, (incident_id, staff_id))
    if card is None:
        uow.session.add(IncidentCard(incident_id=incident_id, staff_id=staff_id, chat_id=chat_id,
                                     message_id=message_id))
    else:
        card.chat_id, card.message_id = chat_id, message_id
    uow.commit()
