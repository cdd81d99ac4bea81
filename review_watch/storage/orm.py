"""The relational schema for the whole product (SQLAlchemy 2 declarative mapping)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Brand(Base):
    __tablename__ = "brands"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Source(Base):
    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(Text)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id"))
    empty_runs_in_a_row: Mapped[int] = mapped_column(Integer, default=0)
    broken_alert_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    # the last crawl went through to its end; only then may the next one stop at the first known page
    last_run_complete: Mapped[bool] = mapped_column(Boolean, default=False)


class SourceRun(Base):
    """What one crawl of one source fetched and parsed: the basis of source health."""

    __tablename__ = "source_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    pages: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    parse_failures: Mapped[int] = mapped_column(Integer, default=0)
    fetch_failures: Mapped[int] = mapped_column(Integer, default=0)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    job: Mapped[str | None] = mapped_column(String(100), index=True)  # the Scrapyd job, when one crawled it


class Author(Base):
    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("platform", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(300))  # platform id of the author, else the display name
    display_name: Mapped[str | None] = mapped_column(String(300))
    # keyed by display name (the platform gave no id): the same author only within one source
    by_name: Mapped[bool] = mapped_column(Boolean, default=False)


class Mention(Base):
    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("source_id", "external_id", name="uq_mentions_source_external_id"),
                      Index("ix_mentions_arrived_at", "arrived_at"),
                      Index("ix_mentions_brand_arrived", "brand_id", "arrived_at"),
                      Index("ix_mentions_brand_published", "brand_id", "published_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    external_id: Mapped[str] = mapped_column(String(300))
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id"), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    rating: Mapped[float | None] = mapped_column(Float)
    rating_max: Mapped[float | None] = mapped_column(Float)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(12))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id"))
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    arrived_at: Mapped[datetime]  # when Review Watch first stored it: the response clock starts here
    updated_at: Mapped[datetime | None]
    edit_count: Mapped[int] = mapped_column(Integer, default=0)

    source: Mapped[Source] = relationship()
    brand: Mapped[Brand | None] = relationship()
    author: Mapped[Author | None] = relationship()
    sentiment: Mapped[SentimentResult | None] = relationship(back_populates="mention", uselist=False)
    case: Mapped[Case | None] = relationship(back_populates="mention", uselist=False)


class SentimentResult(Base):
    __tablename__ = "sentiment_results"
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), primary_key=True)
    label: Mapped[str] = mapped_column(String(10))
    score: Mapped[float] = mapped_column(Float)
    negative: Mapped[bool] = mapped_column(Boolean)
    language: Mapped[str | None] = mapped_column(String(12))
    churn_intent: Mapped[bool] = mapped_column(Boolean, default=False)
    competitor: Mapped[str | None] = mapped_column(String(200))
    threat: Mapped[bool] = mapped_column(Boolean, default=False)
    staff_abuse: Mapped[bool] = mapped_column(Boolean, default=False)
    unsure: Mapped[bool] = mapped_column(Boolean, default=False)  # left to a lead: no case until one says so
    model: Mapped[str] = mapped_column(String(300))
    classified_at: Mapped[datetime]

    mention: Mapped[Mention] = relationship(back_populates="sentiment")


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)  # where alerts go; follows chat migration
    role: Mapped[str] = mapped_column(String(10))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    brands: Mapped[list[str] | None] = mapped_column(JSON)
    calendar: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(5), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # false once removed from the config
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)  # false once Telegram answered 403
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    invited: Mapped[bool] = mapped_column(Boolean, default=False)


class Case(Base):
    """One per mention that needs a response; its id is the mention's id."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_open_next_due", "next_due_at"),
                      Index("ix_cases_brand_answered", "brand", "answered_at"))
    id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), primary_key=True)
    brand: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    arrived_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    remind_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)  # highest level already escalated
    next_due_at: Mapped[datetime | None]  # the scheduler's index: null when nothing more is due
    answered_at: Mapped[datetime | None]  # a reply stops the response clock
    resolved_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    resume_status: Mapped[str | None] = mapped_column(String(20))  # where a snoozed case returns
    waiting_since: Mapped[datetime | None]
    routing_note: Mapped[str | None] = mapped_column(Text)
    alert_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    alert_message_id: Mapped[int | None] = mapped_column(BigInteger)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)  # services/incidents
    alert_withheld: Mapped[bool] = mapped_column(Boolean, default=False)  # counted on the incident's card instead

    mention: Mapped[Mention] = relationship(back_populates="case")
    assignee: Mapped[Staff | None] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(
        primaryjoin="Case.id == foreign(CaseEvent.mention_id)", order_by="CaseEvent.id", viewonly=True)
    replies: Mapped[list[ReplyRow]] = relationship(order_by="ReplyRow.id", viewonly=True)


class CaseEvent(Base):
    """The append-only audit trail: who did what when, to a case or to the mention it stands on."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OutboxMessage(Base):
    """A message to send to Telegram. Written in the same transaction as what caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "not_before"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    # alert | reminder | escalation | notice | edit | please_look | incident | incident_edit | incident_closed
    kind: Mapped[str] = mapped_column(String(30))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sent | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)

    staff: Mapped[Staff | None] = relationship()


class ReplyRow(Base):
    """A reply to a case's mention on its platform, from the draft to what the platform took (the audit trail
    of its steps is in case_events, each with the reply's id)."""

    __tablename__ = "replies"
    __table_args__ = (Index("ix_replies_due", "state", "not_before"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # draft | awaiting_approval | posting | posted | pending | refused | rejected | deleted | sent_outside | cancelled
    state: Mapped[str] = mapped_column(String(20))
    draft_text: Mapped[str] = mapped_column(Text)  # as the author wrote it
    text: Mapped[str] = mapped_column(Text)  # what is (to be) posted: the draft, or a lead's edit of it
    posted_text: Mapped[str | None] = mapped_column(Text)  # as the platform took it
    platform_reply_id: Mapped[str | None] = mapped_column(String(300))
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # counted before each call to the platform
    not_before: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship()
    author: Mapped[Staff] = relationship(foreign_keys=[author_id])
    approved_by: Mapped[Staff | None] = relationship(foreign_keys=[approved_by_id])


class FeedbackExample(Base):
    """Staff's verdict on a mention, kept as a labelled example to train the model on."""

    __tablename__ = "feedback_examples"
    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # false_alarm | unsure_answer | missed
    label: Mapped[str] = mapped_column(String(10))  # negative | neutral | positive
    model_label: Mapped[str | None] = mapped_column(String(10))  # what the model had said
    text: Mapped[str] = mapped_column(Text)  # as judged; a later edit of the review does not change it
    language: Mapped[str | None] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]

    mention: Mapped[Mention] = relationship()


class PleaseLookListing(Base):
    """An unsure mention shown on one lead's "please look" list."""

    __tablename__ = "please_look_listings"
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True, index=True)
    listed_at: Mapped[datetime]


class Invite(Base):
    __tablename__ = "invites"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(10), default="agent")
    created_at: Mapped[datetime]
    used_by: Mapped[int | None] = mapped_column(BigInteger)


class LeaseRow(Base):
    """A lease held by one process at a time (PostgreSQL: the bot's sending and scheduling); see
    storage/coordination.py."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(300))
    expires_at: Mapped[datetime]


class SatisfactionState(Base):
    """Whether a satisfaction warning stands for a brand (source "") or one of its sources: one per fall."""

    __tablename__ = "satisfaction_states"
    brand: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    warned: Mapped[bool] = mapped_column(Boolean)
    average: Mapped[float | None] = mapped_column(Float)
    changed_at: Mapped[datetime]


class Incident(Base):
    """A spike of a brand's complaints (domain/crisis.py), handled as one: its cases, its leads' cards."""

    __tablename__ = "incidents"
    # At most one open incident per brand, even when a crawl's check and the bot's tick race.
    __table_args__ = (Index("uq_incidents_open_brand", "brand", unique=True, sqlite_where=text("status = 'open'"),
                            postgresql_where=text("status = 'open'")),)
    id: Mapped[int] = mapped_column(primary_key=True)
    brand: Mapped[str] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(200))  # None: the whole brand
    status: Mapped[str] = mapped_column(String(10))  # open | closed
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    usual_since: Mapped[datetime | None]  # while open: since when the rate has been back to usual
    count_at_open: Mapped[int] = mapped_column(Integer)  # complaints in the window when it opened
    usual_at_open: Mapped[float] = mapped_column(Float)  # the usual count for a window that long
    window_seconds: Mapped[float] = mapped_column(Float)
    peak_count: Mapped[int] = mapped_column(Integer)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    individual_cards: Mapped[bool] = mapped_column(Boolean, default=False)  # a lead switched them back on
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None]
    holding_reply_by: Mapped[str | None] = mapped_column(String(200))
    holding_reply_at: Mapped[datetime | None]


class IncidentCard(Base):
    """A lead's incident card as delivered: where its edits go."""

    __tablename__ = "incident_cards"
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)


class CrisisBaseline(Base):
    """A scope's usual rate of complaints (domain/crisis.Baseline): a brand (source "") or a source of it."""

    __tablename__ = "crisis_baselines"
    brand: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    raw_rate: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    through: Mapped[datetime | None]
