"""The repository: every look-up the case and triage services make, behind one interface.

`Repository` is the port; `SqlAlchemyRepository` is the real one, over the unit of work's session. The
services hand it ORM rows to add and read rows back; they never build a query themselves, so a fake
repository holding rows in lists (tests/support/fakes.py) runs the same service code with no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import flag_modified

from review_watch.domain.cases import OPEN_STATUSES
from review_watch.storage.orm import (
    Case,
    Incident,
    IncidentCard,
    Invite,
    Mention,
    OutboxMessage,
    SentimentResult,
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
