"""Who is the same author, and how an earlier mention was handled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from review_watch.domain.customer_history import AuthorRef, Handling, handling, same_author

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_an_author_id_is_recognised_across_sources_of_its_platform() -> None:
    a = AuthorRef("reddit", "acme-subreddit", "t2_abc", "jo")
    assert same_author(a, AuthorRef("reddit", "acme-news-subreddit", "t2_abc", "jo_renamed"))
    assert not same_author(a, AuthorRef("reddit", "acme-subreddit", "t2_other", "jo"))
    assert not same_author(a, AuthorRef("mastodon", "acme-mastodon", "t2_abc", "jo"))  # ids of another platform
    assert not same_author(a, AuthorRef("reddit", "acme-subreddit", None, "jo"))


def test_a_name_alone_is_recognised_only_within_its_source() -> None:
    a = AuthorRef("googleplay", "acme-android", None, "Jo Smith")
    assert same_author(a, AuthorRef("googleplay", "acme-android", None, "Jo Smith"))
    assert not same_author(a, AuthorRef("googleplay", "acme-android-beta", None, "Jo Smith"))
    assert not same_author(a, AuthorRef("googleplay", "acme-android", None, "Jo Smyth"))
    assert not same_author(AuthorRef("rss", "feed", None, None), AuthorRef("rss", "feed", None, None))


def test_handling() -> None:
    due = NOW - timedelta(hours=1)
    assert handling(None, None, False, NOW) is Handling.NO_CASE
    assert handling(due, due - timedelta(minutes=1), True, NOW) is Handling.IN_TIME
    assert handling(due, due, False, NOW) is Handling.IN_TIME
    assert handling(due, due + timedelta(minutes=1), False, NOW) is Handling.LATE
    assert handling(due, None, False, NOW) is Handling.OVERDUE
    assert handling(NOW + timedelta(hours=1), None, False, NOW) is Handling.OPEN
    assert handling(due, None, True, NOW) is Handling.CLOSED_UNANSWERED
