"""The labelled data kept in the repo: the evaluation sets' shape, and no leak between them and training."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from sentiment.corpus import Example, dev_set, held_out_set, own_sentences

MINIMUM = {"en": 40, "ru": 40, "ar": 40, "he": 40, "sv": 40, "de": 20, "es": 20, "fr": 20}


def norm(text: str) -> str:
    return " ".join(text.casefold().split())


@pytest.mark.parametrize("load", [dev_set, held_out_set], ids=["dev", "held-out"])
def test_evaluation_set_has_enough_items_per_language_and_a_fifth_hard(load: Callable[[], list[Example]]) -> None:
    examples = load()
    counts = Counter(e.language for e in examples)
    for language, minimum in MINIMUM.items():
        assert counts[language] >= minimum, language
        hard = sum(e.hard for e in examples if e.language == language)
        assert hard * 5 >= minimum, language
    assert {e.label for e in examples} == {"negative", "neutral", "positive"}


@pytest.mark.parametrize("load", [dev_set, held_out_set], ids=["dev", "held-out"])
def test_no_evaluation_text_is_a_training_sentence(load: Callable[[], list[Example]]) -> None:
    training = {norm(e.text) for e in own_sentences()}
    assert not [e.text for e in load() if norm(e.text) in training]


def test_held_out_set_shares_no_text_with_the_dev_set() -> None:
    dev = {norm(e.text) for e in dev_set()}
    assert not [e.text for e in held_out_set() if norm(e.text) in dev]
