"""Multilingual sentiment judgement for Review Watch: which posts need a person to answer."""

from sentiment.builtin import build_builtin_model, default_model_dir
from sentiment.classifier import SentimentClassifier, load_classifier
from sentiment.jsonl import BadInputLine, classify_jsonl
from sentiment.types import Judgement, ModelLoadError, TextToJudge

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
