"""From stored mentions to open cases: classify, decide what needs a response, route, queue the alert."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from review_watch.clock import Clock
from review_watch.config import Config
from review_watch.domain import cases as domain
from review_watch.domain.business_time import is_open
from review_watch.domain.judgement import Classifier, Judgement, TextToJudge
from review_watch.domain.routing import RoutingDecision, StaffMember, route
from review_watch.services.incidents import link_new_case
from review_watch.services.policy import reschedule, store_transition, to_domain
from review_watch.storage.orm import Case, CaseEvent, Mention, OutboxMessage, SentimentResult
from review_watch.storage.unit_of_work import AbstractUnitOfWork

SYSTEM_ACTOR = "review-watch"


@dataclass(frozen=True)
class TriageFigures:
    classified: int
    negative: int
    cases_opened: int


def classify_pending(uow: AbstractUnitOfWork, classifier: Classifier, model_name: str, clock: Clock,
                     batch_size: int = 256) -> tuple[int, int]:
    """Give every mention without a sentiment result one. Returns (classified, negative)."""
    classified = negative = 0
    while True:
        pending = uow.repo.unclassified_mentions(batch_size)
        if not pending:
            return classified, negative
        judgements = classifier.judge([
            TextToJudge(text=m.text, title=m.title, rating=m.rating, rating_max=m.rating_max,
                        language_hint=m.language) for m in pending])
        now = clock()
        for mention, judgement in zip(pending, judgements, strict=True):
            uow.repo.add(_sentiment_row(mention.id, judgement, model_name, now))
            negative += judgement.negative
        uow.commit()
        classified += len(pending)


def _sentiment_row(mention_id: int, judgement: Judgement, model_name: str, now: datetime) -> SentimentResult:
    return SentimentResult(
        mention_id=mention_id, label=judgement.label, score=judgement.score, negative=judgement.negative,
        language=judgement.language, churn_intent=judgement.churn_intent, competitor=judgement.competitor,
        threat=judgement.threat, staff_abuse=judgement.staff_abuse, unsure=judgement.unsure, model=model_name,
        classified_at=now)


def staff_members(uow: AbstractUnitOfWork, config: Config, now: datetime) -> list[StaffMember]:
    known = {c.name for c in config.calendars}
    members = []
    for row in uow.repo.active_staff():
        calendar = config.calendar(row.calendar) if row.calendar in known else None  # built once per config
        members.append(StaffMember(
            name=row.name, telegram_id=row.telegram_id, role=row.role, languages=frozenset(row.languages),
            brands=frozenset(row.brands) if row.brands is not None else None,
            on_duty=calendar is None or is_open(calendar, now), reachable=row.reachable, muted=row.muted))
    return members


def open_case_counts(uow: AbstractUnitOfWork) -> dict[str, int]:
    return uow.repo.open_case_counts()


def previous_handler(uow: AbstractUnitOfWork, author_id: int | None, brand: str | None, mention_id: int) -> str | None:
    """The person who last handled this author on this brand: "one personal manager"."""
    if author_id is None:
        return None
    return uow.repo.previous_handler(author_id, brand, mention_id)


def queue_message(uow: AbstractUnitOfWork, *, kind: str, dedupe_key: str, staff_id: int | None, case_id: int | None,
                  now: datetime, payload: dict[str, object] | None = None) -> None:
    """Add to the outbox unless a message with the same key was ever queued: nothing is sent twice."""
    if uow.repo.outbox_key_used(dedupe_key):
        return
    uow.repo.add(OutboxMessage(dedupe_key=dedupe_key, kind=kind, staff_id=staff_id, case_id=case_id,
                                  payload=payload or {}, status="pending", attempts=0, not_before=now,
                                  created_at=now))


def staff_ids_by_name(uow: AbstractUnitOfWork, names: Iterable[str]) -> dict[str, int]:
    return uow.repo.staff_ids_by_name(names)


def apply_routing(uow: AbstractUnitOfWork, case: Case, decision: RoutingDecision, now: datetime, actor: str) -> None:
    """Route the case as decided through the domain's life cycle, record it, and queue the alert and the
    leads' notes."""
    ids = staff_ids_by_name(uow, [n for n in (decision.assignee, *decision.notify_leads) if n])
    uow.repo.load_assignee(case)
    transition = domain.route(to_domain(case), decision.assignee, decision.reason, actor=actor, at=now)
    store_transition(uow, case, transition.case, transition.event)
    case.routing_note = decision.reason
    if case.assignee_id is not None and not case.alert_withheld:  # withheld: on its incident's running count
        queue_message(uow, kind="alert", dedupe_key=f"alert:{case.id}:{case.assignee_id}",
                      staff_id=case.assignee_id, case_id=case.id, now=now)
    for lead in decision.notify_leads:
        queue_message(uow, kind="notice", dedupe_key=f"routing-note:{case.id}:{ids[lead]}:{now.isoformat()}",
                      staff_id=ids[lead], case_id=case.id, now=now,
                      payload={"notice": "routing", "reason": decision.reason})


def open_cases(uow: AbstractUnitOfWork, config: Config, clock: Clock) -> int:
    """Open a case for every negative mention that has none, route it and queue its alert. An unsure
    judgement opens none: it waits on the leads' "please look" list."""
    opened = 0
    for mention in uow.repo.mentions_needing_case():
        open_case_for(uow, config, mention, clock(), SYSTEM_ACTOR)
        uow.commit()
        opened += 1
    return opened


def open_case_for(uow: AbstractUnitOfWork, config: Config, mention: Mention, now: datetime, actor: str) -> Case:
    """Open the mention's case, its clock counted from the mention's arrival, route it and queue its alert."""
    # A review edited into a complaint arrived, as a complaint, when the edit was found.
    arrived = mention.updated_at or mention.arrived_at
    clock_rules = domain.open_case(config.response_policy, arrived)
    case = Case(id=mention.id, brand=mention.brand.name if mention.brand else None, status=domain.CaseStatus.NEW,
                arrived_at=arrived, deadline_at=clock_rules.deadline,
                remind_at=clock_rules.remind_at, escalation_level=0)
    uow.repo.add(case)
    uow.repo.add(CaseEvent(mention_id=mention.id, kind="opened", actor=actor, at=now,
                              details={"deadline": case.deadline_at.isoformat()}))
    uow.repo.flush()
    link_new_case(uow, config, case, mention.source.name if mention.source is not None else None, now)
    language = mention.sentiment.language if mention.sentiment else mention.language
    decision = route(case.brand or "", language, staff_members(uow, config, now), open_case_counts(uow),
                     previous_handler(uow, mention.author_id, case.brand, mention.id))
    apply_routing(uow, case, decision, now, SYSTEM_ACTOR)
    uow.repo.load_assignee(case)
    reschedule(config, case, now)
    return case


def has_unclassified(uow: AbstractUnitOfWork) -> bool:
    return uow.repo.has_unclassified()


def triage(uow: AbstractUnitOfWork, config: Config, classifier: Callable[[], Classifier],
           clock: Clock) -> TriageFigures:
    """Classify what is new (loading the model only when there is something), then open cases."""
    classified = negative = 0
    if has_unclassified(uow):
        classified, negative = classify_pending(uow, classifier(), config.sentiment.model, clock)
    return TriageFigures(classified, negative, open_cases(uow, config, clock))
