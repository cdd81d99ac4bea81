"""Judgements left to a person: the leads' hourly "please look" list of unsure mentions, their answers,
and a lead's /missed for a complaint the bot did not alert on. Each answer is kept as a labelled example."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Exists, Select, and_, exists, func, select
from sqlalchemy.orm import InstrumentedAttribute, joinedload

from review_watch.clock import Clock
from review_watch.config import Config
from review_watch.domain.brand_matching import covers_brand
from review_watch.domain.business_time import is_open
from review_watch.domain.permissions import Member, Operation, decide
from review_watch.services.cases import ActionRefused
from review_watch.services.feedback import MISSED, UNSURE_ANSWER, not_a_complaint_label, record_example
from review_watch.services.triage import open_case_for, queue_message
from review_watch.storage.orm import Case, FeedbackExample, Mention, PleaseLookListing, SentimentResult, Staff
from review_watch.storage.unit_of_work import UnitOfWork

LIST_INTERVAL = timedelta(hours=1)  # a lead gets a "please look" list at most this often
ITEMS_PER_MESSAGE = 8


@dataclass(frozen=True)
class UnsureItem:
    """An unsure mention as a lead is shown it."""

    mention_id: int
    brand: str | None
    source: str
    url: str | None
    title: str | None
    text: str
    rating: float | None
    rating_max: float | None


@dataclass(frozen=True)
class Verdict:
    """What a lead's answer did: the case it opened (None: none)."""

    mention_id: int
    case_id: int | None
    assignee: str | None
    deadline_at: datetime | None


class AlreadyACase(ActionRefused):
    def __init__(self, case_id: int) -> None:
        super().__init__("missed.has_case", f"mention {case_id} already has case {case_id}")
        self.case_id = case_id


def _answered(mention_id: InstrumentedAttribute[int]) -> Exists:
    return exists().where(FeedbackExample.mention_id == mention_id, FeedbackExample.kind == UNSURE_ANSWER)


def _waiting_query() -> Select[Mention]:
    """Unsure mentions that no one has answered and that have no case."""
    return (select(Mention).join(SentimentResult).outerjoin(Case, Case.id == Mention.id)
            .options(joinedload(Mention.brand), joinedload(Mention.source))
            .where(SentimentResult.unsure.is_(True), Case.id.is_(None), Mention.duplicate_of_id.is_(None),
                   Mention.brand_id.is_not(None), ~_answered(Mention.id))
            .order_by(Mention.id))


def waiting_items(uow: UnitOfWork, mention_ids: list[int]) -> list[UnsureItem]:
    """Those of the given mentions that still wait for an answer, in the given order."""
    if not mention_ids:
        return []
    found = {m.id: m for m in uow.session.scalars(_waiting_query().where(Mention.id.in_(mention_ids)))}
    return [_item(found[i]) for i in mention_ids if i in found]


def _item(mention: Mention) -> UnsureItem:
    return UnsureItem(mention_id=mention.id, brand=mention.brand.name if mention.brand else None,
                      source=mention.source.name, url=mention.url, title=mention.title, text=mention.text,
                      rating=mention.rating, rating_max=mention.rating_max)


def _leads(uow: UnitOfWork) -> list[Staff]:
    """Who gets the lists: the reachable, unmuted staff who may answer them (permissions: the leads)."""
    staff = uow.session.scalars(select(Staff).where(Staff.active.is_(True), Staff.reachable.is_(True),
                                                    Staff.muted.is_(False)).order_by(Staff.name))
    return [member for member in staff if decide(Member(member.name, member.role), Operation.JUDGE_UNSURE).allowed]


def _on_duty(config: Config, lead: Staff, now: datetime) -> bool:
    known = {c.name for c in config.calendars}
    return is_open(config.calendar(lead.calendar if lead.calendar in known else None), now)


def queue_please_look(uow: UnitOfWork, config: Config, clock: Clock) -> int:
    """Queue each lead on duty, at most hourly, one list of the unsure mentions of their brands not yet shown
    to them (a brand no lead covers goes to every lead). Returns how many lists were queued."""
    now = clock()
    waiting = list(uow.session.scalars(_waiting_query()))
    if not waiting:
        return 0
    leads = _leads(uow)
    per_lead: dict[int, list[int]] = defaultdict(list)
    for mention in waiting:
        brand = mention.brand.name if mention.brand else ""
        readers = [lead for lead in leads if covers_brand(lead.brands, brand)] or leads
        for lead in readers:
            per_lead[lead.id].append(mention.id)
    queued = 0
    for lead in leads:
        if not per_lead[lead.id] or not _on_duty(config, lead, now):
            continue
        last = uow.session.scalar(select(func.max(PleaseLookListing.listed_at))
                                  .where(PleaseLookListing.staff_id == lead.id))
        if last is not None and now - last < LIST_INTERVAL:
            continue
        shown = set(uow.session.scalars(select(PleaseLookListing.mention_id).where(
            and_(PleaseLookListing.staff_id == lead.id, PleaseLookListing.mention_id.in_(per_lead[lead.id])))))
        new = [i for i in per_lead[lead.id] if i not in shown]
        for start in range(0, len(new), ITEMS_PER_MESSAGE):
            chunk = new[start:start + ITEMS_PER_MESSAGE]
            uow.session.add_all(PleaseLookListing(mention_id=i, staff_id=lead.id, listed_at=now) for i in chunk)
            queue_message(uow, kind="please_look", dedupe_key=f"please-look:{lead.id}:{chunk[0]}", staff_id=lead.id,
                          case_id=None, now=now, payload={"items": chunk})
            queued += 1
    uow.commit()
    return queued


def _may(actor: Staff, operation: Operation) -> None:
    decision = decide(Member(actor.name, actor.role), operation)
    if not decision.allowed:
        raise ActionRefused(decision.reason, f"{actor.name} may not {operation.value}")


def _open(uow: UnitOfWork, config: Config, mention: Mention, actor: Staff, now: datetime) -> Verdict:
    case = open_case_for(uow, config, mention, now, actor.name)
    return Verdict(mention.id, case.id, case.assignee.name if case.assignee else None, case.deadline_at)


def answer_unsure(uow: UnitOfWork, config: Config, mention_id: int, complaint: bool, actor: Staff,
                  clock: Clock) -> Verdict:
    """A lead's answer to an item of the list: "complaint" opens the case (its clock counted from the
    mention's arrival), "not a complaint" closes the item. Either is kept as a labelled example."""
    _may(actor, Operation.JUDGE_UNSURE)
    mention = uow.session.scalar(_waiting_query().options(joinedload(Mention.sentiment))
                                 .where(Mention.id == mention_id))
    if mention is None:
        raise ActionRefused("unsure.already_answered", f"mention {mention_id} is not waiting for an answer")
    now = clock()
    label = "negative" if complaint else not_a_complaint_label(mention.sentiment.label if mention.sentiment else None)
    record_example(uow, mention, UNSURE_ANSWER, label, actor.name, now)
    verdict = _open(uow, config, mention, actor, now) if complaint else Verdict(mention.id, None, None, None)
    uow.commit()
    return verdict


def url_variants(url: str) -> list[str]:
    """The URL as typed and without or with a trailing slash: a link copied from a browser often differs so."""
    bare = url.rstrip("/")
    return list(dict.fromkeys((url, bare, bare + "/")))


def report_missed(uow: UnitOfWork, config: Config, url: str, actor: Staff, clock: Clock) -> Verdict:
    """A lead's /missed URL: the crawled mention at that URL was a complaint; open its case, routed as any."""
    _may(actor, Operation.REPORT_MISSED)
    mention = uow.session.scalar(
        select(Mention).options(joinedload(Mention.sentiment), joinedload(Mention.brand), joinedload(Mention.case))
        .where(Mention.url.in_(url_variants(url))).order_by(Mention.duplicate_of_id.is_not(None), Mention.id)
        .limit(1))
    if mention is None:
        raise ActionRefused("missed.unknown_url", f"no crawled mention has the URL {url}")
    if mention.case is not None:
        raise AlreadyACase(mention.id)
    now = clock()
    record_example(uow, mention, MISSED, "negative", actor.name, now)
    verdict = _open(uow, config, mention, actor, now)
    uow.commit()
    return verdict
