"""How a star rating and the text's probabilities make one decision: flagged, unsure or not.

Pure functions over numbers, so every rule is table-tested without a model.

- 1-2 stars: a complaint whatever the text says (a neutral "I ordered the blue one." at one star).
- No rating: the text decides, at the threshold.
- 3-5 stars: the text still decides, but a high rating asks it to be surer: the bar rises linearly from the
  threshold at 3 stars to threshold + RATING_MARGIN at 5. A text the model is confident is a complaint
  (an app-store bug report at 5 stars) is flagged whatever the stars; a mildly negative one is not.
- Unsure: a decision the rating did not force whose negative probability lies within the unsure band of the
  bar (a band three times as wide in a language the model is measured to be weak in).
"""

from __future__ import annotations

from dataclasses import dataclass

COMPLAINT_STARS = 2.0  # at or below this (on a 1..5 scale) a review is a complaint whatever the text says
RATING_MARGIN = 0.3  # how much surer than the threshold the text must be to overrule five stars
WEAK_LANGUAGE_BAND_FACTOR = 3.0


def stars_on_five(rating: float, rating_max: float | None) -> float:
    top = rating_max if rating_max and rating_max > 0 else 5.0
    return min(5.0, max(1.0, rating / top * 5.0))


def negative_bar(threshold: float, stars: float | None) -> float:
    """The negative probability the text needs to be flagged, given the stars (None: no rating)."""
    if stars is None or stars <= 3.0:
        return threshold
    return min(0.99, threshold + RATING_MARGIN * (stars - 3.0) / 2.0)


@dataclass(frozen=True)
class Decision:
    negative: bool
    unsure: bool
    forced_by_rating: bool  # 1-2 stars: the rating made it a complaint


def decide(
    negative_probability: float,
    threshold: float,
    rating: float | None = None,
    rating_max: float | None = None,
    unsure_band: float = 0.0,
    weak_language: bool = False,
) -> Decision:
    stars = None if rating is None else stars_on_five(rating, rating_max)
    if stars is not None and stars <= COMPLAINT_STARS:
        return Decision(negative=True, unsure=False, forced_by_rating=True)
    bar = negative_bar(threshold, stars)
    band = unsure_band * (WEAK_LANGUAGE_BAND_FACTOR if weak_language else 1.0)
    return Decision(
        negative=negative_probability >= bar,
        unsure=abs(negative_probability - bar) < band,
        forced_by_rating=False,
    )
