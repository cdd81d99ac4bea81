"""Storing what the spiders found: config sync, deduplication, edits, source health."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from review_watch.clock import Clock
from review_watch.config import Config
from review_watch.domain.mentions import MentionItem
from review_watch.storage.orm import Author, Brand, CaseEvent, Mention, Source, SourceRun, Staff
from review_watch.storage.unit_of_work import AbstractUnitOfWork


class StoreOutcome(Enum):
    NEW = "new"
    DUPLICATE = "duplicate"
    UPDATED = "updated"


def content_hash(title: str | None, text: str) -> str:
    """The same words cross-posted elsewhere hash alike: case, accents of width and spacing folded."""
    folded = unicodedata.normalize("NFKC", f"{title or ''}\n{text}").casefold()
    return hashlib.sha256(re.sub(r"\s+", " ", folded).strip().encode()).hexdigest()


def sync_config(uow: AbstractUnitOfWork, config: Config) -> None:
    """Make brands, sources and staff in the database match the config."""
    repo = uow.repo
    brands = {b.name: b for b in repo.all_brands()}
    for brand_config in config.brands:
        if brand_config.name not in brands:
            brands[brand_config.name] = Brand(name=brand_config.name)
            repo.add(brands[brand_config.name])
    repo.flush()
    sources = {s.name: s for s in repo.all_sources()}
    for source_config in config.sources:
        source = sources.get(source_config.name) or Source(name=source_config.name, empty_runs_in_a_row=0,
                                                           broken_alert_sent=False)
        source.type = source_config.type
        source.url = source_config.url
        source.brand_id = brands[source_config.brand].id if source_config.brand else None
        repo.add(source)
    staff = {s.name: s for s in repo.all_staff()}
    configured = set()
    for member_config in config.staff:
        configured.add(member_config.name)
        member = staff.get(member_config.name) or Staff(name=member_config.name, reachable=True, muted=False,
                                                        invited=False)
        member.telegram_id = member_config.telegram_id
        member.role = member_config.role
        member.languages = list(member_config.languages)
        member.brands = list(member_config.brands) if member_config.brands is not None else None
        member.calendar = member_config.calendar
        member.locale = member_config.locale
        member.active = True
        repo.add(member)
    for name, member in staff.items():
        if name not in configured and not member.invited:
            member.active = False
    uow.commit()


@dataclass(frozen=True)
class StoredMention:
    outcome: StoreOutcome
    mention_id: int


def _author(uow: AbstractUnitOfWork, item: MentionItem) -> Author | None:
    key = item.author_id or item.author
    if not key:
        return None
    author = uow.repo.author(item.source_type, key)
    if author is None:
        author = Author(platform=item.source_type, key=key, display_name=item.author, by_name=not item.author_id)
        uow.repo.add(author)
        uow.repo.flush()
    return author


def store_mention(uow: AbstractUnitOfWork, item: MentionItem, brand: str | None, clock: Clock) -> StoredMention:
    """Store one item in its own transaction: new, an unchanged duplicate, or an edit of a stored one."""
    repo = uow.repo
    source = repo.source_named(item.source)
    if source is None:
        raise LookupError(f"source {item.source!r} is not in the database; sync the config first")
    digest = content_hash(item.title, item.text)
    existing = repo.mention_from(source.id, item.external_id)
    now = clock()
    if existing is not None:
        unchanged = existing.content_hash == digest and existing.rating == item.rating
        older = (item.published_at is not None and existing.published_at is not None
                 and item.published_at < existing.published_at)
        if unchanged or older:  # an older version of a review is no edit of it
            return StoredMention(StoreOutcome.DUPLICATE, existing.id)
        details = {"old_text": existing.text, "old_rating": existing.rating, "new_rating": item.rating}
        if existing.sentiment is not None:
            # Judged again at the next triage: a 5-star review edited into a complaint opens a case.
            details["old_label"] = existing.sentiment.label
            repo.remove_judgement(existing)
        repo.add(CaseEvent(mention_id=existing.id, kind="edited", actor=f"source:{item.source}", at=now,
                              details=details))
        existing.title, existing.text, existing.rating = item.title, item.text, item.rating
        existing.published_at = item.published_at or existing.published_at
        existing.content_hash = digest
        existing.raw = item.raw
        existing.updated_at = now
        existing.edit_count += 1
        uow.commit()
        return StoredMention(StoreOutcome.UPDATED, existing.id)
    brand_row = repo.brand_named(brand) if brand else None
    brand_id = brand_row.id if brand_row is not None else None
    cross_post = repo.first_with_content(digest, brand_id)
    mention = Mention(
        source_id=source.id, external_id=item.external_id, brand_id=brand_id, author=_author(uow, item),
        url=item.url, published_at=item.published_at, rating=item.rating, rating_max=item.rating_max,
        title=item.title, text=item.text, language=item.language, content_hash=digest,
        duplicate_of_id=cross_post, raw=item.raw, arrived_at=now, edit_count=0,
    )
    repo.add(mention)
    uow.commit()
    return StoredMention(StoreOutcome.NEW, mention.id)


def start_source_run(uow: AbstractUnitOfWork, source_name: str) -> frozenset[str]:
    """The ids a crawl of the source may treat as known, so that it stops paging at a page of them.

    None when the previous crawl did not go through to its end (killed, cut off, failed): pages after
    the point where it stopped may still hold new items, so this crawl pages through everything.
    """
    source = uow.repo.source_named(source_name)
    if source is None or not source.last_run_complete:
        known: frozenset[str] = frozenset()
    else:
        known = uow.repo.external_ids(source.id)
    if source is not None:
        source.last_run_complete = False
        uow.commit()
    return known


@dataclass
class SourceRunFigures:
    pages: int = 0
    items: int = 0
    new: int = 0
    duplicates: int = 0
    updated: int = 0
    parse_failures: int = 0
    fetch_failures: int = 0
    failure_reason: str | None = None
    reached_the_end: bool = False  # the spider finished on its own rather than being stopped

    @property
    def failed(self) -> bool:
        return self.failure_reason is not None


def record_source_run(uow: AbstractUnitOfWork, source_name: str, started_at: datetime, figures: SourceRunFigures,
                      clock: Clock, job: str | None = None) -> None:
    source = uow.repo.source_named(source_name)
    if source is None:
        return
    uow.repo.add(SourceRun(
        source_id=source.id, started_at=started_at, finished_at=clock(), pages=figures.pages,
        items=figures.items, new=figures.new, duplicates=figures.duplicates, updated=figures.updated,
        parse_failures=figures.parse_failures, fetch_failures=figures.fetch_failures,
        failure_reason=figures.failure_reason, job=job,
    ))
    source.empty_runs_in_a_row = 0 if figures.items else source.empty_runs_in_a_row + 1
    source.last_run_complete = figures.reached_the_end and not figures.failed
    uow.commit()


def recorded_run(uow: AbstractUnitOfWork, job: str) -> SourceRunFigures | None:
    """The figures a Scrapyd job recorded for its source's run, or None when it recorded none."""
    run = uow.repo.run_of_job(job)
    if run is None:
        return None
    return SourceRunFigures(pages=run.pages, items=run.items, new=run.new, duplicates=run.duplicates,
                            updated=run.updated, parse_failures=run.parse_failures,
                            fetch_failures=run.fetch_failures, failure_reason=run.failure_reason)
