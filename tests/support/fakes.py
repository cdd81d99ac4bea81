"""Test doubles for the service-layer tests (the real model has its own tests)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from review_watch.domain.cases import OPEN_STATUSES
from review_watch.storage.orm import (
    Author,
    Brand,
    Case,
    CaseEvent,
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
from sentiment.types import Judgement, TextToJudge

NEGATIVE_WORDS = ("terrible", "awful", "ужасн", "never again", "broken")
UNSURE_WORDS = ("not sure", "hmm")


class KeywordClassifier:
    """Negative when a listed word occurs or the rating is 2 of 5 or less; unsure (and negative) when an
    unsure word occurs and the rating does not decide."""

    def __init__(self) -> None:
        self.calls = 0

    def judge(self, items: Sequence[TextToJudge]) -> list[Judgement]:
        self.calls += 1
        results = []
        for item in items:
            text = f"{item.title or ''} {item.text}".casefold()
            low_rating = item.rating is not None and item.rating / (item.rating_max or 5) <= 0.4
            unsure = not low_rating and any(word in text for word in UNSURE_WORDS)
            negative = low_rating or unsure or any(word in text for word in NEGATIVE_WORDS)
            results.append(Judgement(label="negative" if negative else "positive", score=0.9, negative=negative,
                                     language=item.language_hint or "en", churn_intent=False, competitor=None,
                                     threat=False, staff_abuse=False, unsure=unsure))
        return results


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Stockholm

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


# A repository and unit of work with no database ---------------------------------------------------------
# In the manner of "Architecture Patterns with Python": the services run unchanged on rows kept in lists.
# The rows are the ORM classes, never attached to a session; what the real repository's joins and
# relationship loading do, `add` and `load_assignee` do by hand.


class FakeRepository:
    """`review_watch.storage.repository.Repository` over lists."""

    def __init__(self) -> None:
        self.staff_rows: list[Staff] = []
        self.brands: list[Brand] = []
        self.sources: list[Source] = []
        self.authors: list[Author] = []
        self.mentions: list[Mention] = []
        self.sentiments: list[SentimentResult] = []
        self.cases: list[Case] = []
        self.events: list[CaseEvent] = []
        self.outbox: list[OutboxMessage] = []
        self.invites: list[Invite] = []
        self.feedback: list[FeedbackExample] = []
        self.listings: list[PleaseLookListing] = []
        self.runs: list[SourceRun] = []
        self.incidents: list[Incident] = []
        self.incident_card_rows: list[IncidentCard] = []
        self.flushes = 0

    def _table(self, row: object) -> list[Any]:
        tables: dict[type, list[Any]] = {
            Staff: self.staff_rows, Brand: self.brands, Source: self.sources, Author: self.authors,
            Mention: self.mentions, SentimentResult: self.sentiments, Case: self.cases, CaseEvent: self.events,
            OutboxMessage: self.outbox, Invite: self.invites, FeedbackExample: self.feedback,
            PleaseLookListing: self.listings, SourceRun: self.runs,
            Incident: self.incidents, IncidentCard: self.incident_card_rows}
        if type(row) not in tables:
            raise TypeError(f"the fake repository keeps no {type(row).__name__}")
        return tables[type(row)]

    def add(self, row: object) -> None:
        table = self._table(row)
        if any(kept is row for kept in table):
            return
        if hasattr(row, "id") and not isinstance(row, Case) and row.id is None:
            row.id = max((kept.id for kept in table), default=0) + 1
        table.append(row)
        if isinstance(row, Case):  # the case shares its mention's id
            row.mention = self._mention(row.id)
        elif isinstance(row, SentimentResult):
            self._mention(row.mention_id).sentiment = row
        elif isinstance(row, Mention):
            if row.brand is None and row.brand_id is not None:
                row.brand = next(b for b in self.brands if b.id == row.brand_id)
            if row.author is not None:
                row.author_id = row.author.id
            elif row.author_id is not None:
                row.author = next((a for a in self.authors if a.id == row.author_id), None)
            source = next((s for s in self.sources if s.id == row.source_id), None)
            if source is not None:
                row.source = source
        elif isinstance(row, FeedbackExample):
            row.mention = self._mention(row.mention_id)

    def _mention(self, mention_id: int) -> Mention:
        return next(m for m in self.mentions if m.id == mention_id)

    def flush(self) -> None:
        self.flushes += 1

    def load_assignee(self, case: Case) -> None:
        case.assignee = self.staff(case.assignee_id) if case.assignee_id is not None else None

    def staff(self, staff_id: int) -> Staff | None:
        return next((s for s in self.staff_rows if s.id == staff_id), None)

    def active_staff(self) -> list[Staff]:
        return sorted((s for s in self.staff_rows if s.active), key=lambda s: s.name)

    def active_staff_by_telegram_id(self, telegram_id: int) -> Staff | None:
        return next((s for s in self.active_staff() if s.telegram_id == telegram_id), None)

    def active_staff_named(self, name: str) -> Staff | None:
        return next((s for s in self.active_staff() if s.name.casefold() == name.casefold()), None)

    def staff_name_taken(self, name: str) -> bool:
        return any(s.name == name for s in self.staff_rows)

    def staff_ids_by_name(self, names: Iterable[str]) -> dict[str, int]:
        wanted = set(names)
        return {s.name: s.id for s in self.staff_rows if s.name in wanted}

    def case(self, case_id: int) -> Case | None:
        return next((c for c in self.cases if c.id == case_id), None)

    def open_cases_assigned_to(self, staff_id: int) -> list[Case]:
        return sorted((c for c in self.cases if c.assignee_id == staff_id and c.status in OPEN_STATUSES),
                      key=lambda c: c.id)

    def open_case_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for case in self.cases:
            member = self.staff(case.assignee_id) if case.assignee_id is not None else None
            if member is not None and case.status in OPEN_STATUSES:
                counts[member.name] = counts.get(member.name, 0) + 1
        return counts

    def cases_due(self, now: datetime, limit: int) -> list[Case]:
        due = sorted((c for c in self.cases if c.next_due_at is not None and c.next_due_at <= now),
                     key=lambda c: c.next_due_at or now)
        return due[:limit]

    def previous_handler(self, author_id: int, brand: str | None, mention_id: int) -> str | None:
        handled = [c for c in self.cases if c.mention.author_id == author_id and c.brand == brand
                   and c.id != mention_id and c.assignee_id is not None]
        for case in sorted(handled, key=lambda c: c.arrived_at, reverse=True):
            member = self.staff(case.assignee_id) if case.assignee_id is not None else None
            if member is not None:
                return member.name
        return None

    def mention(self, mention_id: int) -> Mention | None:
        return next((m for m in self.mentions if m.id == mention_id), None)

    def unclassified_mentions(self, limit: int) -> list[Mention]:
        return sorted((m for m in self.mentions if m.sentiment is None), key=lambda m: m.id)[:limit]

    def has_unclassified(self) -> bool:
        return any(m.sentiment is None for m in self.mentions)

    def mentions_needing_case(self) -> list[Mention]:
        with_case = {c.id for c in self.cases}
        return sorted((m for m in self.mentions
                       if m.sentiment is not None and m.sentiment.negative and not m.sentiment.unsure
                       and m.id not in with_case and m.duplicate_of_id is None and m.brand_id is not None),
                      key=lambda m: m.id)

    def write_together(self, cases: Iterable[Case]) -> None:
        pass  # rows in lists are written as they change

    def outbox_key_used(self, dedupe_key: str) -> bool:
        return any(m.dedupe_key == dedupe_key for m in self.outbox)

    def outbox_keys_used(self, dedupe_keys: Iterable[str]) -> set[str]:
        return {m.dedupe_key for m in self.outbox} & set(dedupe_keys)

    def invite(self, code: str) -> Invite | None:
        return next((i for i in self.invites if i.code == code), None)

    def open_incident(self, brand: str) -> Incident | None:
        return next((i for i in self.incidents if i.brand == brand and i.status == "open"), None)

    def incident(self, incident_id: int) -> Incident | None:
        return next((i for i in self.incidents if i.id == incident_id), None)

    def incident_cases(self, incident_id: int) -> list[Case]:
        return sorted((c for c in self.cases if c.incident_id == incident_id), key=lambda c: c.id)

    def incident_cards(self, incident_id: int) -> list[IncidentCard]:
        return sorted((c for c in self.incident_card_rows if c.incident_id == incident_id), key=lambda c: c.staff_id)

    def pending_messages(self, now: datetime, limit: int, excluding: Collection[int] = ()) -> list[OutboxMessage]:
        due = [m for m in self.outbox if m.status == "pending" and m.not_before <= now and m.id not in excluding]
        for message in due:
            message.staff = self.staff(message.staff_id) if message.staff_id is not None else None
        return sorted(due, key=lambda m: m.id)[:limit]

    def outbox_message(self, message_id: int) -> OutboxMessage:
        return next(m for m in self.outbox if m.id == message_id)

    def outbox_status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for message in self.outbox:
            counts[message.status] = counts.get(message.status, 0) + 1
        return counts

    def case_in_full(self, case_id: int) -> Case | None:
        case = self.case(case_id)
        if case is not None:
            self.load_assignee(case)
        return case

    def staff_by_chat(self, chat_id: int) -> Staff | None:
        return next((s for s in sorted(self.staff_rows, key=lambda s: s.id)
                     if s.chat_id == chat_id or s.telegram_id == chat_id), None)

    def cases_open(self) -> list[Case]:
        cases = sorted((c for c in self.cases if c.status in OPEN_STATUSES), key=lambda c: c.id)
        for case in cases:
            self.load_assignee(case)
        return cases

    def cases_answered_since(self, since: datetime) -> list[Case]:
        return sorted((c for c in self.cases if c.answered_at is not None and c.answered_at >= since),
                      key=lambda c: c.id)

    def mentions_after(self, after_id: int, since: datetime | None, limit: int) -> list[Mention]:
        found = sorted((m for m in self.mentions if m.id > after_id and (since is None or m.arrived_at >= since)),
                       key=lambda m: m.id)[:limit]
        for mention in found:
            if mention.case is not None:
                self.load_assignee(mention.case)
        return found

    def feedback_examples(self, since: datetime | None) -> list[FeedbackExample]:
        return sorted((e for e in self.feedback if since is None or e.created_at >= since),
                      key=lambda e: (e.created_at, e.id))

    def unsure_unanswered(self, answered_kind: str, mention_ids: Collection[int] | None = None) -> list[Mention]:
        answered = {e.mention_id for e in self.feedback if e.kind == answered_kind}
        with_case = {c.id for c in self.cases}
        return sorted((m for m in self.mentions
                       if m.sentiment is not None and m.sentiment.unsure and m.id not in with_case
                       and m.duplicate_of_id is None and m.brand_id is not None and m.id not in answered
                       and (mention_ids is None or m.id in mention_ids)), key=lambda m: m.id)

    def last_listed_at(self, staff_id: int) -> datetime | None:
        return max((row.listed_at for row in self.listings if row.staff_id == staff_id), default=None)

    def listed_mention_ids(self, staff_id: int, mention_ids: Collection[int]) -> set[int]:
        return {row.mention_id for row in self.listings if row.staff_id == staff_id and row.mention_id in mention_ids}

    def mention_at_url(self, urls: Collection[str]) -> Mention | None:
        found = sorted((m for m in self.mentions if m.url in urls), key=lambda m: (m.duplicate_of_id is not None, m.id))
        return found[0] if found else None

    def all_brands(self) -> list[Brand]:
        return sorted(self.brands, key=lambda b: b.id)

    def all_sources(self) -> list[Source]:
        return sorted(self.sources, key=lambda s: s.name)

    def all_staff(self) -> list[Staff]:
        return sorted(self.staff_rows, key=lambda s: s.id)

    def source_named(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)

    def brand_named(self, name: str) -> Brand | None:
        return next((b for b in self.brands if b.name == name), None)

    def author(self, platform: str, key: str) -> Author | None:
        return next((a for a in self.authors if a.platform == platform and a.key == key), None)

    def mention_from(self, source_id: int, external_id: str) -> Mention | None:
        return next((m for m in self.mentions if m.source_id == source_id and m.external_id == external_id), None)

    def first_with_content(self, content_hash: str, brand_id: int | None) -> int | None:
        return min((m.id for m in self.mentions if m.content_hash == content_hash and m.brand_id == brand_id),
                   default=None)

    def external_ids(self, source_id: int) -> frozenset[str]:
        return frozenset(m.external_id for m in self.mentions if m.source_id == source_id)

    def remove_judgement(self, mention: Mention) -> None:
        if mention.sentiment is not None:
            self.sentiments.remove(mention.sentiment)
            mention.sentiment = None

    def recent_runs(self, source_id: int, limit: int) -> list[SourceRun]:
        return sorted((r for r in self.runs if r.source_id == source_id), key=lambda r: r.id, reverse=True)[:limit]

    def run_of_job(self, job: str) -> SourceRun | None:
        return next((r for r in self.runs if r.job == job), None)

    # What a test reads back ---------------------------------------------------------------------------

    def events_of(self, case_id: int) -> list[CaseEvent]:
        return [e for e in self.events if e.mention_id == case_id]

    def queued(self) -> list[tuple[str, str | None, int | None]]:
        """(kind, recipient's name, case id) of every queued message, in order."""
        return [(m.kind, (member.name if (member := self.staff(m.staff_id) if m.staff_id else None) else None),
                 m.case_id) for m in self.outbox]


class FakeUnitOfWork:
    """`review_watch.storage.unit_of_work.AbstractUnitOfWork` with no database: counts its commits."""

    def __init__(self, repo: FakeRepository | None = None) -> None:
        self.repo = repo or FakeRepository()
        self.commits = 0
        self.rollbacks = 0

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        self.rollbacks += 1
