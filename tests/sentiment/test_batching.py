"""How classify groups texts into forward passes: padding that repeats shapes but never changes an answer."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from sentiment import load_classifier
from sentiment.classifier import MAX_BATCH, TOKEN_BUDGET, plan_batches

from .conftest import TINY_WORDS


@pytest.mark.parametrize("step", [1, 16])
def test_every_window_goes_into_exactly_one_pass_that_fits_it(step: int) -> None:
    lengths = [random.Random(seed).randint(3, 512) for seed in range(300)] + [512, 512, 7]
    plan = plan_batches(lengths, limit=512, step=step)
    assert sorted(i for batch, _ in plan for i in batch) == list(range(len(lengths)))
    for batch, width in plan:
        assert max(lengths[i] for i in batch) <= width <= 512
        assert width % step == 0 or width == 512
        assert len(batch) <= MAX_BATCH
        assert len(batch) * width <= TOKEN_BUDGET or len(batch) == 1


def test_rounded_widths_make_pass_shapes_repeat_across_a_backlog() -> None:
    """A backlog of posts and reviews judged 256 lines at a time: in bfloat16 every new (rows, width) shape
    costs a kernel build, so rounding must at least halve the number of shapes."""
    chance = random.Random(7)
    chunks = [[int(chance.lognormvariate(3.3, 0.8)) % 500 + 5 for _ in range(256)] for _ in range(40)]
    exact = {(len(b), w) for chunk in chunks for b, w in plan_batches(chunk, limit=512)}
    rounded = {(len(b), w) for chunk in chunks for b, w in plan_batches(chunk, limit=512, step=16)}
    assert 2 * len(rounded) <= len(exact)


def test_a_window_at_the_model_limit_is_never_padded_past_it() -> None:
    assert plan_batches([13, 13], limit=13, step=16) == [([0, 1], 13)]


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_padding_a_text_in_a_batch_does_not_change_its_probabilities(tiny_star_model: Path, precision: str) -> None:
    classifier = load_classifier(str(tiny_star_model), precision=precision)
    chance = random.Random(3)
    texts = [" ".join(chance.choice(TINY_WORDS[4:]) for _ in range(chance.randint(1, 13))) for _ in range(40)]
    together = classifier.text_probabilities(texts)
    model, tokenizer = classifier.loaded.model, classifier.loaded.tokenizer
    with torch.inference_mode():  # each text on its own, unpadded, straight through the model
        alone = torch.cat([torch.softmax(model(**tokenizer(text, return_tensors="pt")).logits.float(), dim=-1)
                           for text in texts]) @ classifier.loaded.labels
    assert torch.allclose(together, alone, atol=1e-5 if precision == "float32" else 0.02)
