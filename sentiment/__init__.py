"""Multilingual sentiment judgement for Review Watch: which posts need a person to answer.

The names below load on first use, so that importing `sentiment.types` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentiment.builtin import build_builtin_model, default_model_dir
    from sentiment.classifier import SentimentClassifier, load_classifier
    from sentiment.jsonl import BadInputLine, classify_jsonl
    from sentiment.types import Judgement, ModelLoadError, TextToJudge

_HOMES = {
    "build_builtin_model": "sentiment.builtin",
    "default_model_dir": "sentiment.builtin",
    "SentimentClassifier": "sentiment.classifier",
    "load_classifier": "sentiment.classifier",
    "BadInputLine": "sentiment.jsonl",
    "classify_jsonl": "sentiment.jsonl",
    "Judgement": "sentiment.types",
    "ModelLoadError": "sentiment.types",
    "TextToJudge": "sentiment.types",
}

__all__ = [
    "BadInputLine",
    "Judgement",
    "ModelLoadError",
    "SentimentClassifier",
    "TextToJudge",
    "build_builtin_model",
    "classify_jsonl",
    "default_model_dir",
    "load_classifier",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'sentiment' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
