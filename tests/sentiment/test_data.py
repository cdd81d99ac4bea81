"""The labelled data kept in the repo: the evaluation sets' shape, and no leak between them and training."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
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


def char_grams(text: str) -> frozenset[str]:
    words = " ".join(re.sub(r"\W+", " ", text.casefold()).split())
    return frozenset(words[i : i + 4] for i in range(max(1, len(words) - 3)))


# Blind writers converge on stock scenes ("the app logs me out every time I switch apps"); a training sentence
# this close to an evaluation item flatters the figures, so it is taken out of the training files.
NEAR_DUPLICATE = 0.40


@pytest.mark.parametrize("load", [dev_set, held_out_set], ids=["dev", "held-out"])
def test_no_training_sentence_is_a_near_duplicate_of_an_evaluation_item(load: Callable[[], list[Example]]) -> None:
    evaluation = [(char_grams(e.text), e.text) for e in load()]
    by_gram: dict[str, list[int]] = defaultdict(list)
    for index, (grams, _) in enumerate(evaluation):
        for gram in grams:
            by_gram[gram].append(index)
    close = []
    for example in own_sentences():
        grams = char_grams(example.text)
        shared = Counter(index for gram in grams for index in by_gram.get(gram, ()))
        for index, overlap in shared.items():
            if overlap / len(grams | evaluation[index][0]) >= NEAR_DUPLICATE:
                close.append((example.text, evaluation[index][1]))
    assert not close


def test_held_out_set_shares_no_text_with_the_dev_set() -> None:
    dev = {norm(e.text) for e in dev_set()}
    assert not [e.text for e in held_out_set() if norm(e.text) in dev]
