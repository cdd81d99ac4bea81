"""Storing what the spiders found, on the fake unit of work: the config's sync, new mentions, duplicates,
cross-posts, edits, the runs of a source and its health."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from review_watch.config import Config, load_config
from review_watch.domain.mentions import MentionItem
from review_watch.services.health import check_source_health
from review_watch.services.ingest import (
    SourceRunFigures,
    StoreOutcome,
    record_source_run,
    recorded_run,
    start_source_run,
    store_mention,
    sync_config,
)
from review_watch.storage.orm import SentimentResult, Staff
from tests.support.configs import source_block, write_config
from tests.support.fakes import FakeUnitOfWork, ManualClock

REVIEW = MentionItem(source="acme-tp", source_type="trustpilot", external_id="r1",
                     url="https://reviews.example/r1", author="Kim", published_at=datetime(2026, 11, 20, tzinfo=UTC),
                     rating=1, rating_max=5, title="Broken", text="The blender broke on day two.", language="en",
                     author_id="kim-1")


@pytest.fixture
def crawl_config(tmp_path: Path) -> Config:
    sources = (source_block("acme-tp", "trustpilot", "https://reviews.example/acme")
               + source_block("acme-feed", "rss", "https://blog.example/feed.xml"))
    return load_config(write_config(tmp_path, database_url="sqlite:///never-opened.db", sources=sources))


@pytest.fixture
def uow(crawl_config: Config) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    sync_config(uow, crawl_config)
    return uow


def test_the_config_sync_adds_brands_sources_and_staff_and_retires_who_left(crawl_config: Config) -> None:
    uow = FakeUnitOfWork()
    uow.repo.add(Staff(name="Gone", telegram_id=9, role="agent", languages=["en"], locale="en", active=True,
                       reachable=True, muted=False, invited=False))
    uow.repo.add(Staff(name="Invited", telegram_id=8, role="agent", languages=["en"], locale="en", active=True,
                       reachable=True, muted=False, invited=True))

    sync_config(uow, crawl_config)
    sync_config(uow, crawl_config)  # again: nothing doubles

    assert [b.name for b in uow.repo.brands] == ["Acme"]
    assert sorted((s.name, s.type, s.brand_id) for s in uow.repo.sources) == [
        ("acme-feed", "rss", 1), ("acme-tp", "trustpilot", 1)]
    active = {s.name: s.active for s in uow.repo.staff_rows}
    assert active == {"Gone": False, "Invited": True, "Anna": True, "Boris": True, "Lena": True}
    assert uow.commits == 2


def test_a_new_review_is_stored_once_with_its_author_and_brand(uow: FakeUnitOfWork) -> None:
    clock = ManualClock()
    first = store_mention(uow, REVIEW, "Acme", clock)
    again = store_mention(uow, REVIEW, "Acme", clock)
    second = store_mention(uow, replace(REVIEW, external_id="r2", text="Another one, also broken."), "Acme", clock)

    assert (first.outcome, again.outcome, second.outcome) == (StoreOutcome.NEW, StoreOutcome.DUPLICATE,
                                                             StoreOutcome.NEW)
    assert again.mention_id == first.mention_id
    assert len(uow.repo.mentions) == 2
    assert len(uow.repo.authors) == 1  # the same author, found again
    stored = uow.repo.mentions[0]
    assert (stored.brand.name if stored.brand else None, stored.author_id, stored.arrived_at) == (
        "Acme", uow.repo.authors[0].id, clock())


def test_the_same_words_elsewhere_are_a_cross_post_of_the_first(uow: FakeUnitOfWork) -> None:
    clock = ManualClock()
    first = store_mention(uow, REVIEW, "Acme", clock)
    cross = store_mention(uow, replace(REVIEW, source="acme-feed", source_type="rss", external_id="post-9",
                                       title="broken", text="The  blender broke on DAY two."), "Acme", clock)

    assert cross.outcome is StoreOutcome.NEW
    assert uow.repo.mention(cross.mention_id).duplicate_of_id == first.mention_id  # type: ignore[union-attr]


def test_an_edit_is_recorded_and_judged_again_but_an_older_version_is_no_edit(uow: FakeUnitOfWork) -> None:
    clock = ManualClock()
    stored = store_mention(uow, replace(REVIEW, rating=5, text="Lovely blender."), "Acme", clock)
    uow.repo.add(SentimentResult(mention_id=stored.mention_id, label="positive", score=0.9, negative=False,
                                 language="en", churn_intent=False, competitor=None, threat=False,
                                 staff_abuse=False, unsure=False, model="fake", classified_at=clock()))
    clock.advance(hours=2)

    edited = store_mention(uow, replace(REVIEW, published_at=datetime(2026, 11, 21, tzinfo=UTC)), "Acme", clock)
    older = store_mention(uow, replace(REVIEW, text="An old version.", published_at=datetime(2026, 11, 1, tzinfo=UTC)),
                          "Acme", clock)

    assert (edited.outcome, older.outcome) == (StoreOutcome.UPDATED, StoreOutcome.DUPLICATE)
    mention = uow.repo.mention(stored.mention_id)
    assert mention is not None
    assert (mention.text, mention.rating, mention.edit_count, mention.updated_at) == (REVIEW.text, 1, 1, clock())
    assert mention.sentiment is None and uow.repo.sentiments == []  # the next triage judges it again
    [event] = uow.repo.events_of(stored.mention_id)
    assert (event.kind, event.actor, event.details["old_label"], event.details["old_rating"]) == (
        "edited", "source:acme-tp", "positive", 5)


def test_a_crawl_may_stop_at_known_ids_only_after_a_complete_run(uow: FakeUnitOfWork) -> None:
    clock = ManualClock()
    store_mention(uow, REVIEW, "Acme", clock)
    assert start_source_run(uow, "acme-tp") == frozenset()  # no run has reached the end yet

    record_source_run(uow, "acme-tp", clock(), SourceRunFigures(pages=2, items=1, new=1, reached_the_end=True),
                      clock, job="job-1")
    assert start_source_run(uow, "acme-tp") == {"r1"}
    assert start_source_run(uow, "acme-tp") == frozenset()  # the run just started has not finished
    assert recorded_run(uow, "job-1") == SourceRunFigures(pages=2, items=1, new=1)
    assert recorded_run(uow, "job-2") is None


def test_a_source_that_goes_quiet_is_reported_to_the_leads_once(uow: FakeUnitOfWork, crawl_config: Config) -> None:
    clock = ManualClock()
    record_source_run(uow, "acme-tp", clock(), SourceRunFigures(pages=1, items=5, reached_the_end=True), clock)
    for _ in range(crawl_config.crawl.broken_after_empty_runs):
        assert check_source_health(uow, crawl_config, clock) == []
        record_source_run(uow, "acme-tp", clock(), SourceRunFigures(pages=1, reached_the_end=True), clock)

    assert check_source_health(uow, crawl_config, clock) == ["acme-tp"]
    assert check_source_health(uow, crawl_config, clock) == []  # told once
    assert uow.repo.queued() == [("notice", "Lena", None)]
    assert uow.repo.outbox[0].payload["reason"] == "no items in the last 3 runs"
