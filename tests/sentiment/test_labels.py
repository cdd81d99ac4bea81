from __future__ import annotations

import pytest
import torch

from sentiment import ModelLoadError
from sentiment.labels import label_matrix


def mapped(id2label: dict[int, str]) -> list[str]:
    names = ["negative", "neutral", "positive"]
    return [names[int(row.argmax())] for row in label_matrix(id2label)]


def test_five_star_labels_map_low_to_negative_middle_to_neutral_high_to_positive() -> None:
    stars = {0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"}
    assert mapped(stars) == ["negative", "negative", "neutral", "positive", "positive"]


def test_bare_digit_star_labels() -> None:
    assert mapped({i: str(i + 1) for i in range(5)}) == ["negative", "negative", "neutral", "positive", "positive"]


def test_named_labels_in_any_case_and_order() -> None:
    assert mapped({0: "POSITIVE", 1: "Negative", 2: "neutral"}) == ["positive", "negative", "neutral"]
    assert mapped({0: "NEG", 1: "POS"}) == ["negative", "positive"]


def test_generic_labels_by_count() -> None:
    assert mapped({0: "LABEL_0", 1: "LABEL_1"}) == ["negative", "positive"]
    assert mapped({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}) == ["negative", "neutral", "positive"]


def test_each_model_class_counts_towards_exactly_one_label() -> None:
    matrix = label_matrix({0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"})
    assert torch.equal(matrix.sum(dim=1), torch.ones(5))


def test_unmappable_labels_are_a_load_error() -> None:
    with pytest.raises(ModelLoadError, match="toxic"):
        label_matrix({0: "toxic", 1: "clean"})
