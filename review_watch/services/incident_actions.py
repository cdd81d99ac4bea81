"""What a lead does with an incident (services/incidents.py): acknowledge it, switch its individual alert cards
on or off, and send the holding reply (config `[crisis.holding_reply]`, a template per language) to every open
case of the incident: recorded on each case as a reply sent outside, with the text in its audit trail, once per
case, stopping its clock as a reply does. Each is one unit of work; only leads may.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from review_watch.clock import Clock
from review_watch.config import Config
from review_watch.domain import cases as domain
from review_watch.domain.cases import OPEN_STATUSES
from review_watch.domain.permissions import Member, may_do_leads_work
from review_watch.services.cases import ActionRefused, perform
from review_watch.services.incidents import IncidentView, incident_view, queue_card_edits
from review_watch.storage.orm import Case, CaseEvent, Incident, Mention, SentimentResult, Staff
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
class HoldingReplyFigures:
    replied: int  # cases that got the holding reply now
    refused: int  # open cases with no template for their language, or whose state refused a reply


def holding_reply_text(config: Config, language: str | None) -> str | None:
    templates = config.crisis.holding_reply
    if language and language in templates:
        return templates[language]
    return templates.get(config.crisis.holding_reply_language)


def send_holding_reply(uow: UnitOfWork, config: Config, incident_id: int, actor_id: int,
                       clock: Clock) -> HoldingReplyFigures:
    """The holding reply, in each case's language (else the configured fallback), to every open case of the
    incident that has not had it: recorded on each as a reply sent outside, the text in its audit trail."""
    lead, row = _lead(uow, actor_id), _incident(uow, incident_id)
    if not config.crisis.holding_reply:
        raise ActionRefused("no_holding_reply", "no holding reply is configured ([crisis.holding_reply])")
    answered_before = set(uow.session.scalars(
        select(CaseEvent.mention_id).join(Case, Case.id == CaseEvent.mention_id)
        .where(Case.incident_id == incident_id, CaseEvent.kind == "holding_reply")))
    targets = list(uow.session.execute(
        select(Case.id, SentimentResult.language, Mention.language).join(Mention, Mention.id == Case.id)
        .outerjoin(SentimentResult, SentimentResult.mention_id == Case.id)
        .where(Case.incident_id == incident_id, Case.status.in_(OPEN_STATUSES)).order_by(Case.id)))
    replied = refused = 0
    for case_id, judged, given in targets:
        if case_id in answered_before:  # never twice, even if a case were open again
            continue
        text = holding_reply_text(config, judged or given)
        if text is None:
            refused += 1
            continue
        # recorded with the reply, in its transaction: a case never has one without the other
        uow.session.add(CaseEvent(mention_id=case_id, kind="holding_reply", actor=lead.name, at=clock(),
                                  details={"incident": incident_id, "text": text}))
        try:
            perform(uow, config, case_id, domain.Reply(domain.ReplyChannel.SENT_OUTSIDE), lead, clock, note=text)
        except ActionRefused:
            uow.rollback()
            lead = _lead(uow, actor_id)
            refused += 1
            continue
        replied += 1
    row = _incident(uow, incident_id)
    if replied:
        row.holding_reply_by, row.holding_reply_at = lead.name, clock()
        queue_card_edits(uow, config, incident_id, clock(), at_once=True)
    uow.commit()
    return HoldingReplyFigures(replied, refused)


def _view(uow: UnitOfWork, config: Config, incident_id: int) -> IncidentView:
    view = incident_view(uow, config, incident_id)
    assert view is not None
    return view
