"""Test doubles for the service-layer tests (the real model has its own tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

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
