"""The repository: every look-up the services make, behind one interface.

`Repository` is the port; `SqlAlchemyRepository` is the real one, over the unit of work's session. The
services hand it ORM rows to add and read rows back; they never build a query themselves, so a fake
repository holding rows in lists (tests/support/fakes.py) runs the same service code with no database.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import flag_modified

from review_watch.domain.cases import OPEN_STATUSES
from review_watch.storage.orm import (
    Author,
    Brand,
    Case,
    FeedbackExample,
    Incident,
    IncidentCard,
    Invite,
    Mention,
    OutboxMessage,
    PleaseLookListing,
    SentimentResult,
    Source,
    SourceRun,
    Staff,
)

CASE_STATE_COLUMNS = ("status", "deadline_at", "remind_at", "reminded_at", "escalation_level", "next_due_at",
                      "answered_at", "snoozed_until", "resume_status", "waiting_since", "assignee_id")


class Repository(Protocol):
    """What the services read and write. Rows are `review_watch.storage.orm` objects."""

    def add(self, row: object) -> None:
        """Keep a new row (a case, an event, an outbox message, a sentiment result, a staff member, ...)."""

    def flush(self) -> None:
        """Make what was added and changed visible to the look-ups below (ids assigned)."""

    def load_assignee(self, case: Case) -> None:
        """Point `case.assignee` at the staff member `case.assignee_id` now names."""

    # Staff
    def staff(self, staff_id: int) -> Staff | None: ...

    def active_staff(self) -> list[Staff]:
        """Everyone active, by name."""

    def active_staff_by_telegram_id(self, telegram_id: int) -> Staff | None: ...

    def active_staff_named(self, name: str) -> Staff | None:
        """The active member with this name, compared without regard to case."""

    def staff_name_taken(self, name: str) -> bool:
        """Whether anyone, active or not, has exactly this name."""

    def staff_ids_by_name(self, names: Iterable[str]) -> dict[str, int]: ...

    # Cases
    def case(self, case_id: int) -> Case | None:
        """The case with its assignee."""

    def open_cases_assigned_to(self, staff_id: int) -> list[Case]:
        """Open cases of one member, by id, with their mention and its sentiment."""

    def open_case_counts(self) -> dict[str, int]:
        """Open cases per assignee name (those with none are left out)."""

    def cases_due(self, now: datetime, limit: int) -> list[Case]:
        """Cases whose `next_due_at` has come, soonest first, with their assignee."""

    def previous_handler(self, author_id: int, brand: str | None, mention_id: int) -> str | None:
        """Who was assigned the author's latest other case on this brand."""

    # Mentions
    def mention(self, mention_id: int) -> Mention | None:
        """The mention with its sentiment."""

    def unclassified_mentions(self, limit: int) -> list[Mention]:
        """Mentions with no sentiment result yet, by id, claimed for this unit of work: another worker's
        look-up skips them until it commits or rolls back."""

    def has_unclassified(self) -> bool: ...

    def mentions_needing_case(self) -> list[Mention]:
        """Sure negative, first-seen, branded mentions that have no case yet, by id."""

    # The outbox, invites
    def write_together(self, cases: Iterable[Case]) -> None:
        """Write these cases' state (status, times, escalation, assignee) with one statement at the next flush,
        rather than one per set of columns that changed."""

    def outbox_key_used(self, dedupe_key: str) -> bool:
        """Whether a message with this key was ever queued."""

    def outbox_keys_used(self, dedupe_keys: Iterable[str]) -> set[str]:
        """Which of these keys were ever queued (one look-up for many)."""

    def invite(self, code: str) -> Invite | None: ...

    # Incidents (services/incidents)
    def open_incident(self, brand: str) -> Incident | None:
        """The brand's open incident (a brand has at most one)."""

    def incident(self, incident_id: int) -> Incident | None: ...

    def incident_cases(self, incident_id: int) -> list[Case]:
        """The incident's cases with their mention and its source."""

    def incident_cards(self, incident_id: int) -> list[IncidentCard]:
        """The leads' delivered cards of the incident."""

    def pending_messages(self, now: datetime, limit: int, excluding: Collection[int] = ()) -> list[OutboxMessage]:
        """Pending messages whose time has come, oldest first, with their recipient; not those in `excluding`."""

    def outbox_message(self, message_id: int) -> OutboxMessage:
        """The message with this id (it must exist)."""

    def outbox_status_counts(self) -> dict[str, int]:
        """Messages per status."""

    # What a person is shown
    def case_in_full(self, case_id: int) -> Case | None:
        """The case with its assignee and its mention's source, author and sentiment."""

    def staff_by_chat(self, chat_id: int) -> Staff | None:
        """Whoever (active or not) has this chat, or this Telegram id when they have no chat of their own."""

    def cases_open(self) -> list[Case]:
        """Every open case, by id, with its assignee."""

    def cases_answered_since(self, since: datetime) -> list[Case]:
        """Cases first answered at or after `since`, by id."""

    def mentions_after(self, after_id: int, since: datetime | None, limit: int) -> list[Mention]:
        """Up to `limit` mentions with ids above `after_id` (that arrived at or after `since`, when given), by id,
        with their source, brand, author, sentiment and case (and its assignee and replies)."""

    def feedback_examples(self, since: datetime | None) -> list[FeedbackExample]:
        """Staff's verdicts (given at or after `since`, when given), oldest first, with their mention."""

    # Judgements left to a person
    def unsure_unanswered(self, answered_kind: str, mention_ids: Collection[int] | None = None) -> list[Mention]:
        """Unsure, first-seen, branded mentions with no case and no verdict of `answered_kind`, by id, with their
        brand, source and sentiment; only those among `mention_ids` when given."""

    def last_listed_at(self, staff_id: int) -> datetime | None:
        """When the member was last shown a "please look" list."""

    def listed_mention_ids(self, staff_id: int, mention_ids: Collection[int]) -> set[int]:
        """Which of these mentions were already on a list shown to the member."""

    def mention_at_url(self, urls: Collection[str]) -> Mention | None:
        """The mention at one of these URLs (a first-seen one before a cross-post, then the earliest), with its
        sentiment, brand and case."""

    # What the crawls store
    def all_brands(self) -> list[Brand]: ...

    def all_sources(self) -> list[Source]:
        """Every source, by name."""

    def all_staff(self) -> list[Staff]:
        """Everyone, active or not."""

    def source_named(self, name: str) -> Source | None: ...

    def brand_named(self, name: str) -> Brand | None: ...

    def author(self, platform: str, key: str) -> Author | None: ...

    def mention_from(self, source_id: int, external_id: str) -> Mention | None:
        """The mention the source knows by this id, with its sentiment."""

    def first_with_content(self, content_hash: str, brand_id: int | None) -> int | None:
        """The id of a mention about this brand with this content hash (the first of a cross-post), if any."""

    def external_ids(self, source_id: int) -> frozenset[str]:
        """The platform ids of every mention of the source."""

    def remove_judgement(self, mention: Mention) -> None:
        """Drop the mention's sentiment result, so that the next triage judges it again."""

    def recent_runs(self, source_id: int, limit: int) -> list[SourceRun]:
        """The source's latest runs, newest first."""

    def run_of_job(self, job: str) -> SourceRun | None:
        """The run a Scrapyd job recorded."""


class SqlAlchemyRepository:
    """The repository over a SQLAlchemy session (the unit of work's)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        self.session.add(row)

    def flush(self) -> None:
        self.session.flush()

    def load_assignee(self, case: Case) -> None:
        self.session.flush()
        self.session.refresh(case, ["assignee"])

    def staff(self, staff_id: int) -> Staff | None:
        return self.session.get(Staff, staff_id)

    def active_staff(self) -> list[Staff]:
        return list(self.session.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.name)))

    def active_staff_by_telegram_id(self, telegram_id: int) -> Staff | None:
        return self.session.scalar(select(Staff).where(Staff.telegram_id == telegram_id, Staff.active.is_(True)))

    def active_staff_named(self, name: str) -> Staff | None:
        return self.session.scalar(select(Staff).where(Staff.name.ilike(name), Staff.active.is_(True)))

    def staff_name_taken(self, name: str) -> bool:
        return self.session.scalar(select(Staff.id).where(Staff.name == name)) is not None

    def staff_ids_by_name(self, names: Iterable[str]) -> dict[str, int]:
        wanted = list(names)
        if not wanted:
            return {}
        return {name: id_ for name, id_ in self.session.execute(
            select(Staff.name, Staff.id).where(Staff.name.in_(wanted)))}

    def case(self, case_id: int) -> Case | None:
        return self.session.scalar(select(Case).options(joinedload(Case.assignee)).where(Case.id == case_id))

    def open_cases_assigned_to(self, staff_id: int) -> list[Case]:
        return list(self.session.scalars(
            select(Case).options(joinedload(Case.mention).joinedload(Mention.sentiment))
            .where(Case.assignee_id == staff_id, Case.status.in_(OPEN_STATUSES)).order_by(Case.id)))

    def open_case_counts(self) -> dict[str, int]:
        rows = self.session.execute(
            select(Staff.name, func.count(Case.id)).join(Case, Case.assignee_id == Staff.id)
            .where(Case.status.in_(OPEN_STATUSES)).group_by(Staff.name))
        return {name: count for name, count in rows}

    def cases_due(self, now: datetime, limit: int) -> list[Case]:
        return list(self.session.scalars(
            select(Case).options(joinedload(Case.assignee))
            .where(Case.next_due_at.is_not(None), Case.next_due_at <= now)
            .order_by(Case.next_due_at).limit(limit)))

    def previous_handler(self, author_id: int, brand: str | None, mention_id: int) -> str | None:
        return self.session.scalar(
            select(Staff.name).join(Case, Case.assignee_id == Staff.id).join(Mention, Mention.id == Case.id)
            .where(Mention.author_id == author_id, Case.brand == brand, Case.id != mention_id)
            .order_by(Case.arrived_at.desc()).limit(1))

    def mention(self, mention_id: int) -> Mention | None:
        return self.session.scalar(select(Mention).options(joinedload(Mention.sentiment))
                                   .where(Mention.id == mention_id))

    def unclassified_mentions(self, limit: int) -> list[Mention]:
        # On PostgreSQL the rows stay locked until the transaction ends and other workers skip them (SQLite
        # ignores FOR UPDATE: there one triage runs at a time under a file lock).
        while True:
            claimed = list(self.session.scalars(
                select(Mention).where(~exists().where(SentimentResult.mention_id == Mention.id))
                .order_by(Mention.id).limit(limit).with_for_update(of=Mention, skip_locked=True)))
            if not claimed:
                return []
            # A row whose lock was freed as another worker committed its judgement: that judgement is
            # visible to this later statement, and the row is left out.
            judged = set(self.session.scalars(select(SentimentResult.mention_id).where(
                SentimentResult.mention_id.in_([m.id for m in claimed]))))
            pending = [m for m in claimed if m.id not in judged]
            if pending:
                return pending

    def has_unclassified(self) -> bool:
        return self.session.scalar(select(Mention.id).outerjoin(SentimentResult)
                                   .where(SentimentResult.mention_id.is_(None)).limit(1)) is not None

    def mentions_needing_case(self) -> list[Mention]:
        return list(self.session.scalars(
            select(Mention).join(SentimentResult).outerjoin(Case, Case.id == Mention.id)
            .options(joinedload(Mention.sentiment), joinedload(Mention.brand))
            .where(SentimentResult.negative.is_(True), SentimentResult.unsure.is_(False), Case.id.is_(None),
                   Mention.duplicate_of_id.is_(None), Mention.brand_id.is_not(None))
            .order_by(Mention.id)))

    def write_together(self, cases: Iterable[Case]) -> None:
        # The ORM batches the UPDATEs of rows whose changed columns are the same: make them the same.
        for case in cases:
            for column in CASE_STATE_COLUMNS:
                flag_modified(case, column)

    def outbox_key_used(self, dedupe_key: str) -> bool:
        return self.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None

    def outbox_keys_used(self, dedupe_keys: Iterable[str]) -> set[str]:
        wanted = list(dedupe_keys)
        return set(self.session.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.in_(wanted)))) if wanted else set()

    def invite(self, code: str) -> Invite | None:
        return self.session.get(Invite, code)

    def open_incident(self, brand: str) -> Incident | None:
        return self.session.scalar(select(Incident).where(Incident.brand == brand, Incident.status == "open"))

    def incident(self, incident_id: int) -> Incident | None:
        return self.session.get(Incident, incident_id)

    def incident_cases(self, incident_id: int) -> list[Case]:
        return list(self.session.scalars(
            select(Case).options(joinedload(Case.mention).joinedload(Mention.source))
            .where(Case.incident_id == incident_id).order_by(Case.id)))

    def incident_cards(self, incident_id: int) -> list[IncidentCard]:
        return list(self.session.scalars(select(IncidentCard).where(IncidentCard.incident_id == incident_id)
                                         .order_by(IncidentCard.staff_id)))

    def pending_messages(self, now: datetime, limit: int, excluding: Collection[int] = ()) -> list[OutboxMessage]:
        query = (select(OutboxMessage).options(joinedload(OutboxMessage.staff))
                 .where(OutboxMessage.status == "pending", OutboxMessage.not_before <= now))
        if excluding:
            query = query.where(OutboxMessage.id.not_in(list(excluding)))
        return list(self.session.scalars(query.order_by(OutboxMessage.id).limit(limit)))

    def outbox_message(self, message_id: int) -> OutboxMessage:
        return self.session.get_one(OutboxMessage, message_id)

    def outbox_status_counts(self) -> dict[str, int]:
        rows = self.session.execute(select(OutboxMessage.status, func.count(OutboxMessage.id))
                                    .group_by(OutboxMessage.status))
        return {status: count for status, count in rows}

    def case_in_full(self, case_id: int) -> Case | None:
        return self.session.scalar(
            select(Case).options(joinedload(Case.mention).joinedload(Mention.source),
                                 joinedload(Case.mention).joinedload(Mention.author),
                                 joinedload(Case.mention).joinedload(Mention.sentiment),
                                 joinedload(Case.assignee))
            .where(Case.id == case_id))

    def staff_by_chat(self, chat_id: int) -> Staff | None:
        return self.session.scalar(select(Staff).where((Staff.chat_id == chat_id) | (Staff.telegram_id == chat_id))
                                   .order_by(Staff.id).limit(1))

    def cases_open(self) -> list[Case]:
        return list(self.session.scalars(select(Case).options(joinedload(Case.assignee))
                                         .where(Case.status.in_(OPEN_STATUSES)).order_by(Case.id)))

    def cases_answered_since(self, since: datetime) -> list[Case]:
        return list(self.session.scalars(select(Case).where(Case.answered_at.is_not(None), Case.answered_at >= since)
                                         .order_by(Case.id)))

    def mentions_after(self, after_id: int, since: datetime | None, limit: int) -> list[Mention]:
        query = (select(Mention).options(joinedload(Mention.source), joinedload(Mention.brand),
                                         joinedload(Mention.author), joinedload(Mention.sentiment),
                                         joinedload(Mention.case).joinedload(Case.assignee),
                                         joinedload(Mention.case).selectinload(Case.replies))  # one query a batch
                 .where(Mention.id > after_id).order_by(Mention.id).limit(limit))
        if since is not None:
            query = query.where(Mention.arrived_at >= since)
        return list(self.session.scalars(query).unique())

    def feedback_examples(self, since: datetime | None) -> list[FeedbackExample]:
        query = (select(FeedbackExample).options(joinedload(FeedbackExample.mention))
                 .order_by(FeedbackExample.created_at, FeedbackExample.id))
        if since is not None:
            query = query.where(FeedbackExample.created_at >= since)
        return list(self.session.scalars(query))

    def unsure_unanswered(self, answered_kind: str, mention_ids: Collection[int] | None = None) -> list[Mention]:
        answered = exists().where(FeedbackExample.mention_id == Mention.id, FeedbackExample.kind == answered_kind)
        query = (select(Mention).join(SentimentResult).outerjoin(Case, Case.id == Mention.id)
                 .options(joinedload(Mention.brand), joinedload(Mention.source), joinedload(Mention.sentiment))
                 .where(SentimentResult.unsure.is_(True), Case.id.is_(None), Mention.duplicate_of_id.is_(None),
                        Mention.brand_id.is_not(None), ~answered)
                 .order_by(Mention.id))
        if mention_ids is not None:
            query = query.where(Mention.id.in_(list(mention_ids)))
        return list(self.session.scalars(query))

    def last_listed_at(self, staff_id: int) -> datetime | None:
        return self.session.scalar(select(func.max(PleaseLookListing.listed_at))
                                   .where(PleaseLookListing.staff_id == staff_id))

    def listed_mention_ids(self, staff_id: int, mention_ids: Collection[int]) -> set[int]:
        return set(self.session.scalars(select(PleaseLookListing.mention_id).where(
            PleaseLookListing.staff_id == staff_id, PleaseLookListing.mention_id.in_(list(mention_ids)))))

    def mention_at_url(self, urls: Collection[str]) -> Mention | None:
        return self.session.scalar(
            select(Mention).options(joinedload(Mention.sentiment), joinedload(Mention.brand), joinedload(Mention.case))
            .where(Mention.url.in_(list(urls))).order_by(Mention.duplicate_of_id.is_not(None), Mention.id).limit(1))

    def all_brands(self) -> list[Brand]:
        return list(self.session.scalars(select(Brand).order_by(Brand.id)))

    def all_sources(self) -> list[Source]:
        return list(self.session.scalars(select(Source).order_by(Source.name)))

    def all_staff(self) -> list[Staff]:
        return list(self.session.scalars(select(Staff).order_by(Staff.id)))

    def source_named(self, name: str) -> Source | None:
        return self.session.scalar(select(Source).where(Source.name == name))

    def brand_named(self, name: str) -> Brand | None:
        return self.session.scalar(select(Brand).where(Brand.name == name))

    def author(self, platform: str, key: str) -> Author | None:
        return self.session.scalar(select(Author).where(Author.platform == platform, Author.key == key))

    def mention_from(self, source_id: int, external_id: str) -> Mention | None:
        return self.session.scalar(select(Mention).options(joinedload(Mention.sentiment))
                                   .where(Mention.source_id == source_id, Mention.external_id == external_id))

    def first_with_content(self, content_hash: str, brand_id: int | None) -> int | None:
        return self.session.scalar(select(Mention.id).where(Mention.content_hash == content_hash,
                                                            Mention.brand_id == brand_id)
                                   .order_by(Mention.id).limit(1))

    def external_ids(self, source_id: int) -> frozenset[str]:
        return frozenset(self.session.scalars(select(Mention.external_id).where(Mention.source_id == source_id)))

    def remove_judgement(self, mention: Mention) -> None:
        if mention.sentiment is not None:
            self.session.delete(mention.sentiment)

    def recent_runs(self, source_id: int, limit: int) -> list[SourceRun]:
        return list(self.session.scalars(select(SourceRun).where(SourceRun.source_id == source_id)
                                         .order_by(SourceRun.id.desc()).limit(limit)))

    def run_of_job(self, job: str) -> SourceRun | None:
        return self.session.scalar(select(SourceRun).where(SourceRun.job == job))
