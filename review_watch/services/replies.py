"""Replies that reach the customer: a draft, an optional lead's approval, then one post to the platform.

A confirmed reply becomes a row in state "posting" that the bot's sender posts (`post_due`), as it sends
alerts. It is posted at most once: the attempt is counted and committed before the platform is called, and a
row that has been attempted before asks the platform for its current reply first, so a crash between the
platform's acceptance and our record never posts twice. Only when the platform accepts is the case "replied",
visible to the customer, and its clock stopped. 429 and 5xx wait and retry; any other refusal goes back to the
author in one line with the draft kept. A source without a reply API keeps "recorded as sent outside".
An incident's holding reply (services/incident_actions) is posted the same way, but its lead is told of its
refusals in one gathered message, and of its acceptance by the incident card's count, not by a notice per case.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from review_watch.clock import Clock
from review_watch.config import Config
from review_watch.domain import cases as domain
from review_watch.domain.brand_matching import covers_brand
from review_watch.domain.permissions import Member, Operation, decide, is_lead
from review_watch.domain.replies import (
    OPEN_DRAFT_STATES,
    VISIBLE_STATES,
    PostedReply,
    ReplyConnector,
    ReplyConnectors,
    ReplyLimits,
    ReplyRefused,
    ReplyTarget,
    fill_template,
    over_limit,
    same_text,
    text_length,
)
from review_watch.services import cases
from review_watch.services.cases import ActionRefused
from review_watch.services.incidents import holding_reply_incident, queue_card_edits, queue_holding_refusal
from review_watch.services.outbox import backoff
from review_watch.services.triage import queue_message
from review_watch.storage.orm import Case, CaseEvent, Mention, ReplyRow, Staff
from review_watch.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

UnitOfWorkFactory = Callable[[], UnitOfWork]


class ReplyProblem(Exception):
    """A reply cannot go on as asked; `key` names the message for the person, `values` fill it in, and the
    exception's message is one line for logs."""

    def __init__(self, key: str, message: str, **values: object) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class ReplyView:
    """A reply as the author, a lead or the case card is shown it."""

    reply_id: int
    case_id: int
    state: str
    text: str
    draft_text: str
    author: str
    approved_by: str | None
    source: str
    platform: str  # the source type
    original_url: str | None
    account: str | None  # who the reply is posted as
    posts_to_platform: bool  # False: the platform has no reply API (or no credentials): copy and paste
    max_length: int | None
    length_unit: str
    length: int
    needs_approval: bool
    can_edit: bool
    can_delete: bool
    setup_problem: str | None  # the source's connector cannot be built (one line)
    last_error: str | None
    platform_reply_id: str | None

    @property
    def too_long(self) -> bool:
        return self.max_length is not None and self.length > self.max_length


@dataclass(frozen=True)
class PostJob:
    reply_id: int
    source: str
    target: ReplyTarget
    text: str
    idempotency_key: str
    attempts: int
    state: str


# Drafting and confirming ----------------------------------------------------------------------------------


def draft(uow: UnitOfWork, config: Config, connectors: ReplyConnectors, case_id: int, actor_id: int, text: str,
          now: datetime) -> ReplyView:
    """A new draft of the actor's reply to the case (any earlier unsent draft of theirs is dropped)."""
    actor, case = _actor(uow, actor_id), _case(uow, case_id)
    _require(actor, Operation.REPLY, case)
    if case.status not in {s.value for s in domain.OPEN_STATUSES}:
        raise ReplyProblem("reply.case_answered", f"case {case_id} is {case.status}", case_id=case_id,
                           status=case.status)
    text = text.strip()
    if not text:
        raise ReplyProblem("reply.empty", "an empty reply", case_id=case_id)
    for earlier in uow.session.scalars(select(ReplyRow).where(
            ReplyRow.case_id == case_id, ReplyRow.author_id == actor.id, ReplyRow.state.in_(OPEN_DRAFT_STATES))):
        earlier.state, earlier.updated_at = "cancelled", now
    row = ReplyRow(case_id=case_id, author_id=actor.id, state="draft", draft_text=text, text=text,
                   idempotency_key=f"review-watch-{uuid.uuid4().hex}", attempts=0, created_at=now, updated_at=now)
    uow.session.add(row)
    uow.session.flush()
    _event(uow, row, "reply_drafted", actor.name, now, text=text)
    uow.commit()
    return _view(uow, config, connectors, row)


def templates_for(uow: UnitOfWork, config: Config, case_id: int) -> list[str]:
    """The names of the templates that fit the case's brand and language, in config order."""
    case = _case(uow, case_id)
    language = _language(case.mention)
    return [t.name for t in config.replies.templates_for(case.brand, language)]


def draft_from_template(uow: UnitOfWork, config: Config, connectors: ReplyConnectors, case_id: int,
                        actor_id: int, template: str, now: datetime) -> ReplyView:
    """`/reply ID #template`: the template for the case's brand and language, its placeholders filled."""
    case, actor = _case(uow, case_id), _actor(uow, actor_id)
    found = [t for t in config.replies.templates_for(case.brand, _language(case.mention)) if t.name == template]
    if not found:
        raise ReplyProblem("reply.unknown_template", f"no template {template!r} for case {case_id}",
                           template=template, known=", ".join(templates_for(uow, config, case_id)) or "—")
    author = case.mention.author
    text = fill_template(found[0].text, customer_name=author.display_name if author else None,
                         agent_name=actor.name, case_number=case_id)
    return draft(uow, config, connectors, case_id, actor_id, text, now)


def confirm(uow: UnitOfWork, config: Config, connectors: ReplyConnectors, reply_id: int, actor_id: int,
            clock: Clock) -> ReplyView:
    """The author's "post it": to the brand's leads when approval is on, else queued for the sender; on a
    platform without a reply API, recorded as sent outside at once."""
    now = clock()
    row, actor = _reply(uow, reply_id), _actor(uow, actor_id)
    if row.author_id != actor.id:
        raise ReplyProblem("reply.not_yours", f"reply {reply_id} is {row.author.name}'s", reply_id=reply_id)
    if row.state not in OPEN_DRAFT_STATES or row.state == "awaiting_approval":
        raise ReplyProblem("reply.not_a_draft", f"reply {reply_id} is {row.state}", reply_id=reply_id,
                           state=row.state)
    view = _view(uow, config, connectors, row)
    if not view.posts_to_platform:
        cases.perform(uow, config, row.case_id, domain.Reply(domain.ReplyChannel.SENT_OUTSIDE), actor, clock,
                      note=row.text)
        row.state, row.updated_at = "sent_outside", now
        uow.commit()
        return _view(uow, config, connectors, row)
    _refuse_too_long(view)
    if view.needs_approval and not is_lead(actor.role):
        row.state, row.updated_at = "awaiting_approval", now
        _event(uow, row, "reply_sent_for_approval", actor.name, now, text=row.text)
        for lead in _leads_of(uow, row.case.brand):
            queue_message(uow, kind="reply_approval", dedupe_key=f"reply-approval:{row.id}:{lead.id}",
                          staff_id=lead.id, case_id=row.case_id, now=now,
                          payload={"reply_id": row.id, "text": row.text, "author": actor.name,
                                   "platform": row.case.mention.source.type})
        uow.commit()
        return _view(uow, config, connectors, row)
    _queue_for_posting(uow, row, actor, now)
    uow.commit()
    return _view(uow, config, connectors, row)


def queue_lead_reply(uow: UnitOfWork, case_id: int, lead: Staff, text: str, idempotency_key: str,
                     now: datetime) -> int:
    """A lead's reply queued for posting at once, with no draft shown and no approval asked: an incident's holding
    reply, which the lead confirmed for all its cases at once. The key is unique among replies: a second row with
    it fails to flush (IntegrityError). Not committed; returns the reply's id."""
    row = ReplyRow(case_id=case_id, author_id=lead.id, state="draft", draft_text=text, text=text,
                   idempotency_key=idempotency_key, attempts=0, created_at=now, updated_at=now)
    uow.session.add(row)
    uow.session.flush()
    _queue_for_posting(uow, row, lead, now)
    return row.id


def queue_again(uow: UnitOfWork, reply_id: int, actor: Staff, now: datetime) -> bool:
    """A refused reply queued again as it was. Its attempts are kept, so the platform is asked for its current
    reply before it is posted again. Not committed; False when the reply is not refused."""
    row = _reply(uow, reply_id)
    if row.state != "refused":
        return False
    _queue_for_posting(uow, row, actor, now)
    return True


def cancel(uow: UnitOfWork, reply_id: int, actor_id: int, now: datetime) -> None:
    row, actor = _reply(uow, reply_id), _actor(uow, actor_id)
    if row.author_id == actor.id and row.state in OPEN_DRAFT_STATES:
        row.state, row.updated_at = "cancelled", now
        _event(uow, row, "reply_cancelled", actor.name, now)
        uow.commit()


# Approval -------------------------------------------------------------------------------------------------


def approve(uow: UnitOfWork, config: Config, connectors: ReplyConnectors, reply_id: int, lead_id: int,
            now: datetime, text: str | None = None) -> ReplyView:
    """A lead approves an agent's draft, as it is or with their own `text`; the agent is told."""
    row, lead = _awaiting(uow, reply_id, lead_id)
    if text is not None and text.strip() and text.strip() != row.text:
        _event(uow, row, "reply_edited_by_lead", lead.name, now, before=row.text, after=text.strip())
        row.text = text.strip()
        _refuse_too_long(_view(uow, config, connectors, row))
    row.approved_by_id = lead.id
    _event(uow, row, "reply_approved", lead.name, now, text=row.text, author=row.author.name)
    _queue_for_posting(uow, row, lead, now)
    _tell_author(uow, row, "reply_approved", now, lead=lead.name, edited=row.text != row.draft_text)
    uow.commit()
    return _view(uow, config, connectors, row)


def reject(uow: UnitOfWork, config: Config, connectors: ReplyConnectors, reply_id: int, lead_id: int,
           now: datetime) -> ReplyView:
    row, lead = _awaiting(uow, reply_id, lead_id)
    row.state, row.updated_at = "rejected", now
    _event(uow, row, "reply_rejected", lead.name, now, text=row.text, author=row.author.name)
    _tell_author(uow, row, "reply_rejected", now, lead=lead.name)
    uow.commit()
    return _view(uow, config, connectors, row)


def view(uow: UnitOfWork, config: Config, connectors: ReplyConnectors, reply_id: int) -> ReplyView:
    return _view(uow, config, connectors, _reply(uow, reply_id))


def latest_for_case(uow: UnitOfWork, config: Config, connectors: ReplyConnectors, case_id: int) -> ReplyView | None:
    """The case's reply that matters now: the last one sent or on its way, else the last draft."""
    rows = list(uow.session.scalars(select(ReplyRow).where(ReplyRow.case_id == case_id).order_by(ReplyRow.id)))
    on_way = [r for r in rows if r.state in VISIBLE_STATES | {"posting", "awaiting_approval", "deleted"}]
    chosen = on_way or rows
    return _view(uow, config, connectors, chosen[-1]) if chosen else None


# The sender's step ----------------------------------------------------------------------------------------


def due_posts(uow: UnitOfWork, now: datetime, limit: int = 20) -> list[PostJob]:
    rows = uow.session.scalars(
        select(ReplyRow).options(joinedload(ReplyRow.case).joinedload(Case.mention).joinedload(Mention.source))
        .where(ReplyRow.state == "posting", (ReplyRow.not_before.is_(None)) | (ReplyRow.not_before <= now))
        .order_by(ReplyRow.id).limit(limit))
    return [PostJob(row.id, row.case.mention.source.name, _target(row.case.mention), row.text, row.idempotency_key,
                    row.attempts, row.state) for row in rows]


def due_publication_checks(uow: UnitOfWork, config: Config, now: datetime, limit: int = 20) -> list[PostJob]:
    """Replies the platform accepted but has not published yet, whose next look is due."""
    rows = uow.session.scalars(
        select(ReplyRow).options(joinedload(ReplyRow.case).joinedload(Case.mention).joinedload(Mention.source))
        .where(ReplyRow.state == "pending", (ReplyRow.not_before.is_(None)) | (ReplyRow.not_before <= now))
        .order_by(ReplyRow.id).limit(limit))
    return [PostJob(row.id, row.case.mention.source.name, _target(row.case.mention), row.text, row.idempotency_key,
                    row.attempts, row.state) for row in rows]


async def post_due(unit_of_work: UnitOfWorkFactory, config: Config, connectors: ReplyConnectors, clock: Clock,
                   limit: int = 20) -> int:
    """Post every reply due now, each at most once; look again at those pending publication. Returns how many
    the platforms accepted."""
    with unit_of_work() as uow:
        jobs = due_posts(uow, clock(), limit)
        checks = due_publication_checks(uow, config, clock(), limit)
    accepted = 0
    for job in jobs:
        accepted += await _post_one(unit_of_work, config, connectors, clock, job)
    for job in checks:
        await _check_publication(unit_of_work, config, connectors, clock, job)
    return accepted


async def _post_one(unit_of_work: UnitOfWorkFactory, config: Config, connectors: ReplyConnectors, clock: Clock,
                    job: PostJob) -> int:
    try:
        connector = _connector(connectors, job.source)
        if job.attempts > 0:  # an earlier attempt may have reached the platform: never post twice
            current = await connector.current_reply(job.target, job.idempotency_key)
            if current is not None and same_text(current.text, job.text):
                with unit_of_work() as uow:
                    record_accepted(uow, config, job.reply_id, current, clock, found_on_retry=True)
                return 1
        with unit_of_work() as uow:
            _count_attempt(uow, job.reply_id, clock())
        posted = await connector.post(job.target, job.text, job.idempotency_key)
    except ReplyRefused as refusal:
        with unit_of_work() as uow:
            record_refusal(uow, config, job.reply_id, refusal, clock())
        return 0
    with unit_of_work() as uow:
        record_accepted(uow, config, job.reply_id, posted, clock)
    return 1


async def _check_publication(unit_of_work: UnitOfWorkFactory, config: Config, connectors: ReplyConnectors,
                             clock: Clock, job: PostJob) -> None:
    try:
        current = await _connector(connectors, job.source).current_reply(job.target, job.idempotency_key)
    except ReplyRefused as refusal:
        log.warning("reply %s: looking for its publication failed: %s", job.reply_id, refusal)
        current = None
    with unit_of_work() as uow:
        row = _reply(uow, job.reply_id)
        now = clock()
        if current is not None and current.state == "published":
            row.state, row.published_at, row.updated_at = "posted", now, now
            _event(uow, row, "reply_published", "platform", now, platform_reply_id=current.reply_id)
            cases.refresh_card(uow, row.case, now)
        else:
            row.not_before = now + timedelta(seconds=config.replies.check_pending_every)
        uow.commit()


def _count_attempt(uow: UnitOfWork, reply_id: int, now: datetime) -> None:
    """Committed before the platform is called: a row attempted once is looked up before it is posted again."""
    row = _reply(uow, reply_id)
    row.attempts += 1
    row.updated_at = now
    uow.commit()


def record_accepted(uow: UnitOfWork, config: Config, reply_id: int, posted: PostedReply, clock: Clock,
                    found_on_retry: bool = False) -> None:
    """The platform took the reply: the row is posted (or pending publication), the case replied and visible."""
    now = clock()
    row = _reply(uow, reply_id)
    if row.state not in ("posting",):
        return
    row.state = "pending" if posted.state == "pending" else "posted"
    row.posted_text, row.platform_reply_id = posted.text, posted.reply_id
    row.accepted_at, row.updated_at = now, now
    row.published_at = now if row.state == "posted" else None
    row.not_before = now + timedelta(seconds=config.replies.check_pending_every) if row.state == "pending" else None
    row.last_error = None
    _event(uow, row, "reply_posted", row.author.name, now, text=posted.text, platform_reply_id=posted.reply_id,
           state=row.state, approved_by=row.approved_by.name if row.approved_by else None,
           found_on_retry=found_on_retry)
    uow.session.flush()
    cases.record_reply(uow, config, row.case_id, domain.ReplyChannel.VISIBLE_TO_CUSTOMER, row.author.name, clock)
    incident_id = holding_reply_incident(uow, row.case_id, row.id)
    if incident_id is None:
        _tell_author(uow, row, "reply_posted", now, state=row.state)
    else:  # not a notice per case: the incident card counts it as answered
        queue_card_edits(uow, config, incident_id, now)
    uow.commit()


def record_refusal(uow: UnitOfWork, config: Config, reply_id: int, refusal: ReplyRefused, now: datetime) -> None:
    """429 and 5xx: wait and try again (up to `replies.max_attempts`); anything else: back to the author."""
    row = _reply(uow, reply_id)
    if row.state != "posting":
        return
    row.last_error, row.updated_at = str(refusal), now
    if refusal.retryable and row.attempts < config.replies.max_attempts:
        wait = timedelta(seconds=refusal.retry_after) if refusal.retry_after else backoff(row.attempts)
        row.not_before = now + wait
        _event(uow, row, "reply_retry", "platform", now, reason=str(refusal), wait_seconds=wait.total_seconds())
        uow.commit()
        return
    row.state = "refused"
    _event(uow, row, "reply_refused", "platform", now, reason=str(refusal), refusal=refusal.kind)
    incident_id = holding_reply_incident(uow, row.case_id, row.id)
    if incident_id is None:
        _tell_author(uow, row, "reply_refused", now, reason=str(refusal))
    else:
        queue_holding_refusal(uow, incident_id, row.author_id, {
            "case_id": row.case_id, "platform": row.case.mention.source.type, "kind": refusal.kind,
            "reason": str(refusal)}, now)
    cases.refresh_card(uow, row.case, now)
    uow.commit()


# Edit and delete of a posted reply ------------------------------------------------------------------------


async def edit_posted(unit_of_work: UnitOfWorkFactory, config: Config, connectors: ReplyConnectors,
                      reply_id: int, actor_id: int, text: str, clock: Clock) -> ReplyView:
    with unit_of_work() as uow:
        row, actor, target, current = _posted_for_change(uow, reply_id, actor_id)
        source = row.case.mention.source.name
    text = text.strip()
    connector = _connector(connectors, source)
    length = over_limit(connector.limits, text)
    if length is not None:
        raise ReplyProblem("reply.too_long", "too long", length=length, limit=connector.limits.max_length,
                           platform=target.platform)
    if not connector.limits.can_edit:
        raise ReplyProblem("reply.cannot_edit", f"{target.platform} replies cannot be edited",
                           platform=target.platform)
    try:
        posted = await connector.edit(target, current, text)
    except ReplyRefused as refusal:
        raise ReplyProblem("reply.platform_refused", str(refusal), reason=str(refusal)) from None
    with unit_of_work() as uow:
        row = _reply(uow, reply_id)
        now = clock()
        _event(uow, row, "reply_edited", actor.name, now, before=row.posted_text, after=posted.text,
               platform_reply_id=posted.reply_id)
        row.text, row.posted_text, row.platform_reply_id, row.updated_at = text, posted.text, posted.reply_id, now
        cases.refresh_card(uow, row.case, now)
        uow.commit()
        return _view(uow, config, connectors, row)


async def delete_posted(unit_of_work: UnitOfWorkFactory, config: Config, connectors: ReplyConnectors,
                        reply_id: int, actor_id: int, clock: Clock) -> ReplyView:
    with unit_of_work() as uow:
        row, actor, target, current = _posted_for_change(uow, reply_id, actor_id)
        source = row.case.mention.source.name
    connector = _connector(connectors, source)
    if not connector.limits.can_delete:
        raise ReplyProblem("reply.cannot_delete", f"{target.platform} replies cannot be deleted",
                           platform=target.platform)
    try:
        await connector.delete(target, current)
    except ReplyRefused as refusal:
        raise ReplyProblem("reply.platform_refused", str(refusal), reason=str(refusal)) from None
    with unit_of_work() as uow:
        row = _reply(uow, reply_id)
        now = clock()
        row.state, row.updated_at = "deleted", now
        _event(uow, row, "reply_deleted", actor.name, now, text=row.posted_text,
               platform_reply_id=row.platform_reply_id)
        cases.refresh_card(uow, row.case, now)
        uow.commit()
        return _view(uow, config, connectors, row)


def _posted_for_change(uow: UnitOfWork, reply_id: int,
                       actor_id: int) -> tuple[ReplyRow, Staff, ReplyTarget, PostedReply]:
    row, actor = _reply(uow, reply_id), _actor(uow, actor_id)
    _require(actor, Operation.REPLY, row.case)
    if row.state not in VISIBLE_STATES:
        raise ReplyProblem("reply.not_posted", f"reply {reply_id} is {row.state}", reply_id=reply_id,
                           state=row.state)
    current = PostedReply(reply_id=row.platform_reply_id or "", text=row.posted_text or row.text)
    return row, actor, _target(row.case.mention), current


# Helpers --------------------------------------------------------------------------------------------------


def _connector(connectors: ReplyConnectors, source: str) -> ReplyConnector:
    connector = connectors.for_source(source)
    if connector is None:
        raise ReplyRefused("unsupported", f"source {source!r} has no reply connector configured")
    return connector


def _target(mention: Mention) -> ReplyTarget:
    external_id = mention.external_id.split("#brand=", 1)[0]  # a social post stored once per brand it names
    return ReplyTarget(platform=mention.source.type, external_id=external_id, url=mention.url,
                       parent_ids={"source_url": mention.source.url}, record=dict(mention.raw or {}))


def _language(mention: Mention) -> str | None:
    sentiment = mention.sentiment
    return sentiment.language if sentiment and sentiment.language else mention.language


def _view(uow: UnitOfWork, config: Config, connectors: ReplyConnectors, row: ReplyRow) -> ReplyView:
    mention = row.case.mention
    source = mention.source
    connector: ReplyConnector | None = None
    problem = None
    try:
        connector = connectors.for_source(source.name)
    except ReplyRefused as refusal:
        problem = str(refusal)
    limits = connector.limits if connector is not None else ReplyLimits(max_length=None, can_edit=False,
                                                                          can_delete=False)
    source_config = next((s for s in config.sources if s.name == source.name), None)
    account = (source_config.reply.account if source_config and source_config.reply else None) or (
        getattr(connector, "account", None))
    return ReplyView(
        reply_id=row.id, case_id=row.case_id, state=row.state, text=row.text, draft_text=row.draft_text,
        author=row.author.name, approved_by=row.approved_by.name if row.approved_by else None, source=source.name,
        platform=source.type, original_url=mention.url, account=account, posts_to_platform=connector is not None,
        max_length=limits.max_length, length_unit=limits.unit, length=text_length(row.text, limits.unit),
        needs_approval=config.replies.approval_for(row.case.brand) == "lead", can_edit=limits.can_edit,
        can_delete=limits.can_delete, setup_problem=problem, last_error=row.last_error,
        platform_reply_id=row.platform_reply_id)


def _refuse_too_long(view: ReplyView) -> None:
    if view.too_long:
        raise ReplyProblem("reply.too_long", f"{view.length} > {view.max_length} {view.length_unit}",
                           length=view.length, limit=view.max_length, platform=view.platform)
    if view.setup_problem:
        raise ReplyProblem("reply.cannot_post", view.setup_problem, reason=view.setup_problem)


def _queue_for_posting(uow: UnitOfWork, row: ReplyRow, actor: Staff, now: datetime) -> None:
    row.state, row.not_before, row.updated_at, row.last_error = "posting", now, now, None
    _event(uow, row, "reply_confirmed", actor.name, now, text=row.text)
    cases.refresh_card(uow, row.case, now)


def _tell_author(uow: UnitOfWork, row: ReplyRow, notice: str, now: datetime, **details: object) -> None:
    queue_message(uow, kind="notice", dedupe_key=f"{notice}:{row.id}:{now.isoformat()}", staff_id=row.author_id,
                  case_id=row.case_id, now=now,
                  payload={"notice": notice, "reply_id": row.id, "text": row.text,
                           "platform": row.case.mention.source.type, **details})


def _event(uow: UnitOfWork, row: ReplyRow, kind: str, actor: str, now: datetime, **details: object) -> None:
    uow.session.add(CaseEvent(mention_id=row.case_id, kind=kind, actor=actor, at=now,
                              details={"reply_id": row.id, **details}))


def _actor(uow: UnitOfWork, actor_id: int) -> Staff:
    row = uow.session.get(Staff, actor_id)
    if row is None or not row.active:
        raise ActionRefused("refused", f"staff member {actor_id} is not on the staff")
    return row


def _case(uow: UnitOfWork, case_id: int) -> Case:
    row = uow.session.get(Case, case_id)
    if row is None:
        raise ActionRefused("no_such_case", f"there is no case {case_id}")
    return row


def _reply(uow: UnitOfWork, reply_id: int) -> ReplyRow:
    row = uow.session.get(ReplyRow, reply_id)
    if row is None:
        raise ReplyProblem("reply.unknown", f"there is no reply {reply_id}", reply_id=reply_id)
    return row


def _require(actor: Staff, operation: Operation, case: Case) -> None:
    decision = decide(Member(actor.name, actor.role), operation, case.assignee.name if case.assignee else None)
    if not decision.allowed:
        raise ActionRefused(decision.reason, f"{actor.name} may not {operation.value} case {case.id}")


def _awaiting(uow: UnitOfWork, reply_id: int, lead_id: int) -> tuple[ReplyRow, Staff]:
    row, lead = _reply(uow, reply_id), _actor(uow, lead_id)
    if not is_lead(lead.role) or not covers_brand(lead.brands, row.case.brand or ""):
        raise ActionRefused("leads_only", f"{lead.name} may not approve replies about {row.case.brand}")
    if row.state != "awaiting_approval":
        decided_by = row.approved_by.name if row.approved_by else None
        raise ReplyProblem("reply.already_decided", f"reply {reply_id} is {row.state}", reply_id=reply_id,
                           state=row.state, lead=decided_by or "—")
    return row, lead


def _leads_of(uow: UnitOfWork, brand: str | None) -> list[Staff]:
    leads = [s for s in uow.session.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.id))
             if is_lead(s.role)]
    covering = [s for s in leads if brand is not None and covers_brand(s.brands, brand)]
    return covering or leads
