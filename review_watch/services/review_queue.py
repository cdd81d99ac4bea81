"""Judgements left to a person: the leads' hourly "please look" list of unsure mentions, their answers,
and a lead's /missed for a complaint the bot did not alert on. Each answer is kept as a labelled example."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from review_watch.clock import Clock
from review_watch.config import Config
from review_watch.domain.brand_matching import covers_brand
from review_watch.domain.business_time import is_open
from review_watch.domain.permissions import Member, Operation, decide
from review_watch.services.cases import ActionRefused
from review_watch.services.feedback import MISSED, UNSURE_ANSWER, not_a_complaint_label, record_example
from review_watch.services.triage import open_case_for, queue_message
from review_watch.storage.orm import Mention, PleaseLookListing, SentimentResult, Staff
from review_watch.storage.unit_of_work import AbstractUnitOfWork

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


def waiting_items(uow: AbstractUnitOfWork, mention_ids: list[int]) -> list[UnsureItem]:
    """Those of the given mentions that still wait for an answer, in the given order."""
    if not mention_ids:
        return []
    found = {m.id: m for m in uow.repo.unsure_unanswered(UNSURE_ANSWER, mention_ids)}
    return [_item(found[i]) for i in mention_ids if i in found]


def _item(mention: Mention) -> UnsureItem:
    return UnsureItem(mention_id=mention.id, brand=mention.brand.name if mention.brand else None,
                      source=mention.source.name, url=mention.url, title=mention.title, text=mention.text,
                      rating=mention.rating, rating_max=mention.rating_max)


def _leads(uow: AbstractUnitOfWork) -> list[Staff]:
    """Who gets the lists: the reachable, unmuted staff who may answer them (permissions: the leads)."""
    return [member for member in uow.repo.active_staff() if member.reachable and not member.muted
            and decide(Member(member.name, member.role), Operation.JUDGE_UNSURE).allowed]


def _on_duty(config: Config, lead: Staff, now: datetime) -> bool:
    known = {c.name for c in config.calendars}
    return is_open(config.calendar(lead.calendar if lead.calendar in known else None), now)


def queue_please_look(uow: AbstractUnitOfWork, config: Config, clock: Clock) -> int:
    """Queue each lead on duty, at most hourly, one list of the unsure mentions of their brands not yet shown
    to them (a brand no lead covers goes to every lead). Returns how many lists were queued."""
    now = clock()
    waiting = uow.repo.unsure_unanswered(UNSURE_ANSWER)
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
        last = uow.repo.last_listed_at(lead.id)
        if last is not None and now - last < LIST_INTERVAL:
            continue
        shown = uow.repo.listed_mention_ids(lead.id, per_lead[lead.id])
        new = [i for i in per_lead[lead.id] if i not in shown]
        for start in range(0, len(new), ITEMS_PER_MESSAGE):
            chunk = new[start:start + ITEMS_PER_MESSAGE]
            for mention_id in chunk:
                uow.repo.add(PleaseLookListing(mention_id=mention_id, staff_id=lead.id, listed_at=now))
            queue_message(uow, kind="please_look", dedupe_key=f"please-look:{lead.id}:{chunk[0]}", staff_id=lead.id,
                          case_id=None, now=now, payload={"items": chunk})
            queued += 1
    uow.commit()
    return queued


def _may(actor: Staff, operation: Operation) -> None:
    decision = decide(Member(actor.name, actor.role), operation)
    if not decision.allowed:
        raise ActionRefused(decision.reason, f"{actor.name} may not {operation.value}")


def _judge_a_complaint(uow: AbstractUnitOfWork, mention: Mention, actor: Staff, now: datetime) -> None:
    """The lead's judgement replaces the model's: from now on the mention is a complaint, judged by that lead
    (export, stats and the digests count it so); the model's flags stay."""
    judgement = mention.sentiment
    if judgement is None:
        judgement = SentimentResult(mention_id=mention.id, language=mention.language)
        uow.repo.add(judgement)
    judgement.label, judgement.score, judgement.negative, judgement.unsure = "negative", 1.0, True, False
    judgement.model, judgement.classified_at = f"judged by {actor.name}", now


def _open(uow: AbstractUnitOfWork, config: Config, mention: Mention, actor: Staff, now: datetime) -> Verdict:
    _judge_a_complaint(uow, mention, actor, now)
    case = open_case_for(uow, config, mention, now, actor.name)
    return Verdict(mention.id, case.id, case.assignee.name if case.assignee else None, case.deadline_at)


def answer_unsure(uow: AbstractUnitOfWork, config: Config, mention_id: int, complaint: bool, actor: Staff,
                  clock: Clock) -> Verdict:
    """A lead's answer to an item of the list: "complaint" opens the case (its clock counted from the
    mention's arrival), "not a complaint" closes the item. Either is kept as a labelled example."""
    _may(actor, Operation.JUDGE_UNSURE)
    mention = next(iter(uow.repo.unsure_unanswered(UNSURE_ANSWER, [mention_id])), None)
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


def report_missed(uow: AbstractUnitOfWork, config: Config, url: str, actor: Staff, clock: Clock) -> Verdict:
    """A lead's /missed URL: the crawled mention at that URL was a complaint; it is judged so again (the lead's
    judgement replaces the model's) and its case opened, routed as any."""
    _may(actor, Operation.REPORT_MISSED)
    mention = uow.repo.mention_at_url(url_variants(url))
    if mention is None:
        raise ActionRefused("missed.unknown_url", f"no crawled mention has the URL {url}")
    if mention.case is not None:
        raise AlreadyACase(mention.id)
    now = clock()
    record_example(uow, mention, MISSED, "negative", actor.name, now)
    verdict = _open(uow, config, mention, actor, now)
    uow.commit()
    return verdict
