"""What a lead does with an incident (services/incidents.py): acknowledge it, switch its individual alert cards
on or off, and send the holding reply (config `[crisis.holding_reply]`, a template per language) to every open
case of the incident, once per case: posted to the customer's platform where its source has a reply connector
(services/replies.py), else recorded as sent outside; its text and who sent it are in the case's audit trail, and
it stops the case's clock as a reply does. Only leads may.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from review_watch.clock import Clock
from review_watch.config import Config
from review_watch.domain import cases as domain
from review_watch.domain.cases import OPEN_STATUSES
from review_watch.domain.permissions import Member, may_do_leads_work
from review_watch.domain.replies import ReplyConnectors, ReplyRefused, fill_template, over_limit
from review_watch.services import replies
from review_watch.services.cases import ActionRefused, perform
from review_watch.services.incidents import IncidentView, incident_view, queue_card_edits
from review_watch.storage.orm import Case, CaseEvent, Incident, Mention, ReplyRow, Staff
from review_watch.storage.unit_of_work import UnitOfWork

# What a lead does --------------------------------------------------------------------------------------


def _lead(uow: UnitOfWork, actor_id: int) -> Staff:
    row = uow.session.get(Staff, actor_id)
    if row is None or not row.active:
        raise ActionRefused("refused", f"staff member {actor_id} is not on the staff")
    if not may_do_leads_work(Member(row.name, row.role)):
        raise ActionRefused("leads_only", f"{row.name} is not a lead")
    return row


def _incident(uow: UnitOfWork, incident_id: int) -> Incident:
    row = uow.session.get(Incident, incident_id)
    if row is None:
        raise ActionRefused("no_such_incident", f"there is no incident {incident_id}")
    return row


def view_for_lead(uow: UnitOfWork, config: Config, incident_id: int, actor_id: int) -> IncidentView:
    _lead(uow, actor_id)
    _incident(uow, incident_id)
    return _view(uow, config, incident_id)


def acknowledge(uow: UnitOfWork, config: Config, incident_id: int, actor_id: int, clock: Clock) -> IncidentView:
    """A lead says someone is on it: the cards show who (the first to acknowledge)."""
    lead, row = _lead(uow, actor_id), _incident(uow, incident_id)
    if row.acknowledged_by is None:
        row.acknowledged_by, row.acknowledged_at = lead.name, clock()
        queue_card_edits(uow, config, row.id, clock(), at_once=True)
    uow.commit()
    return _view(uow, config, incident_id)


def set_individual_cards(uow: UnitOfWork, config: Config, incident_id: int, actor_id: int, on: bool,
                         clock: Clock) -> IncidentView:
    """Switch the incident's individual alert cards on (its new cases each get their card again) or off."""
    _lead(uow, actor_id)
    row = _incident(uow, incident_id)
    if row.individual_cards != on:
        row.individual_cards = on
        queue_card_edits(uow, config, row.id, clock(), at_once=True)
    uow.commit()
    return _view(uow, config, incident_id)


@dataclass(frozen=True)
class HoldingRefusal:
    """A case the holding reply did not reach, in one line."""

    case_id: int
    platform: str  # the case's source type
    kind: str  # "state", "too_long", or the connector's refusal kind (domain/replies.RefusalKind)
    reason: str


@dataclass(frozen=True)
class CopyByHand:
    """A case whose platform has no reply API: recorded as sent outside, the text to post by hand."""

    case_id: int
    platform: str
    url: str | None
    text: str


@dataclass(frozen=True)
class HoldingReplyFigures:
    posting: int  # cases whose holding reply is queued for their platform (again, after a refusal)
    sent_outside: tuple[CopyByHand, ...]
    refused: tuple[HoldingRefusal, ...]  # refused before sending


def holding_reply_text(config: Config, language: str | None) -> str:
    """The template in the language, else in the fallback language (the config makes sure it has one)."""
    templates = config.crisis.holding_reply
    return templates[language if language in templates else config.crisis.holding_reply_language]


def _holding_replies(uow: UnitOfWork, incident_id: int) -> dict[int, int | None]:
    """The incident's cases that have had the holding reply: case -> its reply row (None: sent outside)."""
    return {case_id: (details or {}).get("reply_id") for case_id, details in uow.session.execute(
        select(CaseEvent.mention_id, CaseEvent.details).join(Case, Case.id == CaseEvent.mention_id)
        .where(Case.incident_id == incident_id, CaseEvent.kind == "holding_reply"))}


def _open_cases(uow: UnitOfWork, incident_id: int) -> list[Case]:
    return list(uow.session.scalars(
        select(Case).options(joinedload(Case.mention).joinedload(Mention.source),
                             joinedload(Case.mention).joinedload(Mention.author),
                             joinedload(Case.mention).joinedload(Mention.sentiment))
        .where(Case.incident_id == incident_id, Case.status.in_(OPEN_STATUSES)).order_by(Case.id)))


def holding_reply_due(uow: UnitOfWork, incident_id: int) -> int:
    """How many open cases of the incident a holding reply would go to now."""
    had = _holding_replies(uow, incident_id)
    refused = set(uow.session.scalars(select(ReplyRow.id).where(
        ReplyRow.id.in_([r for r in had.values() if r is not None]), ReplyRow.state == "refused")))
    return sum(1 for case in _open_cases(uow, incident_id) if case.id not in had or had[case.id] in refused)


def send_holding_reply(uow: UnitOfWork, config: Config, connectors: ReplyConnectors, incident_id: int,
                       actor_id: int, clock: Clock) -> HoldingReplyFigures:
    """The holding reply, in each case's language (else the configured fallback) with its placeholders filled,
    to every open case of the incident that has not had it. Where the case's source has a reply connector it
    becomes a reply posted like any other (services/replies: at most once, the case replied only when the
    platform takes it); a holding reply the platform refused is queued again. Elsewhere it is recorded as sent
    outside and handed back to be copied by hand. The lead's press is the approval: `[replies] approval` asks
    for none. Each case is committed on its own, with its `holding_reply` event."""
    lead, row = _lead(uow, actor_id), _incident(uow, incident_id)
    if not config.crisis.holding_reply:
        raise ActionRefused("no_holding_reply", "no holding reply is configured ([crisis.holding_reply])")
    had = _holding_replies(uow, incident_id)
    posting = 0
    outside: list[CopyByHand] = []
    refused: list[HoldingRefusal] = []
    for case in _open_cases(uow, incident_id):
        case_id, mention = case.id, case.mention
        platform = mention.source.type
        if case_id in had:  # never twice; a refused one goes again, as it was
            earlier = had[case_id]
            if earlier is not None and replies.queue_again(uow, earlier, lead, clock()):
                uow.commit()
                posting += 1
            continue
        language = (mention.sentiment.language if mention.sentiment else None) or mention.language
        text = fill_template(holding_reply_text(config, language), agent_name=lead.name, case_number=case_id,
                             customer_name=mention.author.display_name if mention.author else None)
        try:
            connector = connectors.for_source(mention.source.name)
        except ReplyRefused as refusal:
            refused.append(HoldingRefusal(case_id, platform, refusal.kind, str(refusal)))
            continue
        if connector is None:
            if _record_sent_outside(uow, config, incident_id, case_id, lead, text, clock):
                outside.append(CopyByHand(case_id, platform, mention.url, text))
            else:
                refused.append(HoldingRefusal(case_id, platform, "state", case.status))
            continue
        length = over_limit(connector.limits, text)
        if length is not None:
            refused.append(HoldingRefusal(case_id, platform, "too_long",
                                          f"{length} > {connector.limits.max_length} {connector.limits.unit}"))
            continue
        try:  # one holding reply row per case, even when two presses race (the key is unique)
            reply_id = replies.queue_lead_reply(uow, case_id, lead, text,
                                                f"review-watch-holding-{incident_id}-{case_id}", clock())
        except IntegrityError:
            uow.rollback()
            continue
        uow.session.add(CaseEvent(mention_id=case_id, kind="holding_reply", actor=lead.name, at=clock(),
                                  details={"incident": incident_id, "text": text, "reply_id": reply_id}))
        uow.commit()
        posting += 1
    if posting or outside:
        row = _incident(uow, incident_id)
        row.holding_reply_by, row.holding_reply_at = lead.name, clock()
        queue_card_edits(uow, config, incident_id, clock(), at_once=True)
        uow.commit()
    return HoldingReplyFigures(posting, tuple(outside), tuple(refused))


def _record_sent_outside(uow: UnitOfWork, config: Config, incident_id: int, case_id: int, lead: Staff, text: str,
                         clock: Clock) -> bool:
    """A platform without a reply API: the case replied, sent outside, as a reply typed in Telegram is there."""
    # recorded with the reply, in its transaction: a case never has one without the other
    uow.session.add(CaseEvent(mention_id=case_id, kind="holding_reply", actor=lead.name, at=clock(),
                              details={"incident": incident_id, "text": text}))
    try:
        perform(uow, config, case_id, domain.Reply(domain.ReplyChannel.SENT_OUTSIDE), lead, clock, note=text)
    except ActionRefused:
        uow.rollback()
        return False
    return True


def _view(uow: UnitOfWork, config: Config, incident_id: int) -> IncidentView:
    view = incident_view(uow, config, incident_id)
    assert view is not None
    return view
