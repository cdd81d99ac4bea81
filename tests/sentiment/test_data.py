"""The labelled data kept in the repo: the development set's shape, and no leak into training."""

from __future__ import annotations

from collections import Counter

from sentiment.corpus import dev_set, own_sentences

MINIMUM = {"en": 40, "ru": 40, "ar": 40, "he": 40, "sv": 40, "de": 20, "es": 20, "fr": 20}


def test_dev_set_has_enough_items_per_language_and_a_fifth_hard() -> None:
    dev = dev_set()
    counts = Counter(e.language for e in dev)
    for language, minimum in MINIMUM.items():
        assert counts[language] >= minimum, language
        hard = sum(e.hard for e in dev if e.language == language)
        assert hard * 5 >= minimum, language
    assert {e.label for e in dev} == {"negative", "neutral", "positive"}


def test_no_dev_text_is_a_training_sentence() -> None:
    def norm(text: str) -> str:
        return " ".join(text.casefold().split())

    training = {norm(e.text) for e in own_sentences()}
    assert not [e.text for e in dev_set() if norm(e.text) in training]
