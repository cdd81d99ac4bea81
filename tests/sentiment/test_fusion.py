from __future__ import annotations

import pytest

from sentiment.fusion import decide, negative_bar, stars_on_five

T = 0.5


@pytest.mark.parametrize(
    ("case", "p_negative", "rating", "rating_max", "flagged"),
    [
        ("a neutral text at one star is a complaint", 0.05, 1.0, 5.0, True),
        ("a neutral text at two stars is a complaint", 0.05, 2.0, None, True),
        ("two of ten stars is one star", 0.05, 2.0, 10.0, True),
        ("three of ten stars is one and a half", 0.05, 3.0, 10.0, True),
        ("a neutral text at three stars stays unflagged", 0.05, 3.0, 5.0, False),
        ("at three stars the text decides at the threshold", 0.55, 3.0, 5.0, True),
        ("five stars outweigh a mildly negative text", 0.60, 5.0, 5.0, False),
        ("four stars outweigh a barely negative text", 0.55, 4.0, 5.0, False),
        ("a confident complaint at five stars is flagged (a bug report)", 0.92, 5.0, 5.0, True),
        ("a confident complaint at four stars is flagged", 0.70, 4.0, 5.0, True),
        ("ten of ten stars is five", 0.60, 10.0, 10.0, False),
        ("no rating: the text decides", 0.51, None, None, True),
        ("no rating: below the threshold is not flagged", 0.49, None, None, False),
    ],
)
def test_rating_and_text_make_one_decision(
    case: str, p_negative: float, rating: float | None, rating_max: float | None, flagged: bool
) -> None:
    assert decide(p_negative, T, rating, rating_max).negative is flagged, case


def test_the_bar_rises_from_the_threshold_at_three_stars_to_five() -> None:
    bars = [negative_bar(T, stars) for stars in (1.0, 3.0, 4.0, 5.0)]
    assert bars[0] == bars[1] == T
    assert T < bars[2] < bars[3] < 1.0
    assert negative_bar(T, None) == T


@pytest.mark.parametrize(
    ("p_negative", "rating", "band", "weak", "unsure"),
    [
        (0.55, None, 0.1, False, True),
        (0.45, None, 0.1, False, True),
        (0.65, None, 0.1, False, False),
        (0.30, None, 0.1, False, False),
        (0.55, None, 0.0, False, False),  # a band of 0 turns unsure off
        (0.30, None, 0.1, True, True),  # a weak language widens the band
        (0.05, None, 0.1, True, False),  # ...but a clear answer stays clear
        (0.50, 1.0, 0.1, False, False),  # a 1-star rating decides: never unsure
        (0.75, 5.0, 0.1, False, True),  # near the five-star bar
    ],
)
def test_unsure_is_a_band_around_the_bar(
    p_negative: float, rating: float | None, band: float, weak: bool, unsure: bool
) -> None:
    assert decide(p_negative, T, rating, 5.0, unsure_band=band, weak_language=weak).unsure is unsure


def test_other_scales_are_brought_to_five_stars() -> None:
    assert stars_on_five(2, 10) == 1.0
    assert stars_on_five(10, 10) == 5.0
    assert stars_on_five(4, None) == 4.0
    assert stars_on_five(0, 5) == 1.0
