"""Map a model's own id2label onto negative / neutral / positive."""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from sentiment.types import ModelLoadError

LABELS = ("negative", "neutral", "positive")

_WORDS = {
    "negative": ("neg", "bad", "rotten", "angry", "complaint"),
    "neutral": ("neu", "mixed", "none", "other"),
    "positive": ("pos", "good", "fresh", "happy", "praise"),
}
_STARS = re.compile(r"^\s*([0-9]+)\s*(stars?|★)?\s*$")


def _stars_to_label(stars: int, lowest: int, highest: int) -> str:
    position = (stars - lowest) / max(1, highest - lowest)  # 0 .. 1
    if position < 0.45:
        return "negative"
    if position > 0.55:
        return "positive"
    return "neutral"


def label_matrix(id2label: Mapping[int, str]) -> torch.Tensor:
    """[n_model_classes, 3]: which of negative/neutral/positive each model class counts towards."""
    names = [str(id2label[i]).strip().lower() for i in sorted(id2label)]
    n = len(names)
    matrix = torch.zeros(n, len(LABELS))
    star_values = [_STARS.match(name) for name in names]
    if all(star_values) and n >= 3:
        stars = [int(m.group(1)) for m in star_values if m]
        for i, value in enumerate(stars):
            matrix[i, LABELS.index(_stars_to_label(value, min(stars), max(stars)))] = 1.0
        return matrix
    if all(re.fullmatch(r"label_[0-9]+", name) for name in names):
        generic = {2: ("negative", "positive"), 3: LABELS}
        if n in generic:
            for i, label in enumerate(generic[n]):
                matrix[i, LABELS.index(label)] = 1.0
            return matrix
        if n == 5:
            for i in range(n):
                matrix[i, LABELS.index(_stars_to_label(i, 0, n - 1))] = 1.0
            return matrix
    for i, name in enumerate(names):
        hits = [label for label, words in _WORDS.items() if any(name.startswith(w) for w in words)]
        if len(hits) != 1:
            raise ModelLoadError(f"cannot map the model's label {id2label[sorted(id2label)[i]]!r} to "
                                 "negative/neutral/positive")
        matrix[i, LABELS.index(hits[0])] = 1.0
    return matrix
