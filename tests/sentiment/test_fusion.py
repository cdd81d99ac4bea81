from __future__ import annotations

import pytest
import torch

from sentiment.classifier import fuse_rating, rating_prior, stars_on_five

NEUTRAL_TEXT = torch.tensor([0.05, 0.90, 0.05])
MILDLY_NEGATIVE_TEXT = torch.tensor([0.60, 0.15, 0.25])


@pytest.mark.parametrize("rating", [1.0, 2.0])
def test_one_or_two_stars_make_a_neutral_text_a_complaint(rating: float) -> None:
    fused, complaint = fuse_rating(NEUTRAL_TEXT, rating, None)
    assert complaint is not None and complaint >= 0.5
    assert float(fused.sum()) == pytest.approx(1.0)


def test_three_stars_leave_a_neutral_text_neutral() -> None:
    fused, complaint = fuse_rating(NEUTRAL_TEXT, 3.0, 5.0)
    assert complaint is None
    assert int(fused.argmax()) == 1


def test_five_stars_outweigh_a_mildly_negative_text() -> None:
    fused, complaint = fuse_rating(MILDLY_NEGATIVE_TEXT, 5.0, 5.0)
    assert complaint is None
    assert int(fused.argmax()) == 2


def test_five_stars_do_not_hide_a_plainly_negative_text() -> None:
    fused, _ = fuse_rating(torch.tensor([0.97, 0.02, 0.01]), 5.0, 5.0)
    assert int(fused.argmax()) == 0


def test_no_rating_leaves_the_text_alone() -> None:
    fused, complaint = fuse_rating(MILDLY_NEGATIVE_TEXT, None, None)
    assert complaint is None and torch.equal(fused, MILDLY_NEGATIVE_TEXT)


def test_other_scales_are_brought_to_five_stars() -> None:
    assert stars_on_five(2, 10) == 1.0
    assert stars_on_five(10, 10) == 5.0
    assert stars_on_five(4, None) == 4.0
    assert fuse_rating(NEUTRAL_TEXT, 3.0, 10.0)[1] is not None  # 3/10 is 1.5 stars


def test_prior_interpolates_between_whole_stars() -> None:
    between = rating_prior(4.5)
    assert torch.allclose(between, (rating_prior(4.0) + rating_prior(5.0)) / 2)
