"""What the sentiment model is asked and what it answers, and the port triage judges through. Core types:
the `sentiment` package implements the port, the services and tests use it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

# What the model's weights run in; "auto" is bfloat16 where the CPU has it in hardware, else float32.
Precision = Literal["auto", "float32", "bfloat16", "int8"]
PRECISIONS: tuple[str, ...] = get_args(Precision)


@dataclass(frozen=True)
class TextToJudge:
    text: str
    title: str | None = None
    rating: float | None = None
    rating_max: float | None = None  # default 5 when rating given
    language_hint: str | None = None  # platform's language, if any


@dataclass(frozen=True)
class Judgement:
    label: str  # "negative" | "neutral" | "positive"
    score: float  # 0..1 confidence of that label
    negative: bool  # would this be flagged for a response (after rating fusion + threshold)
    language: str | None  # ISO 639-1
    churn_intent: bool  # intent to leave / switch
    competitor: str | None  # a named competitor, if any
    threat: bool  # threats / extortion
    staff_abuse: bool  # abuse aimed at staff
    negative_probability: float = 0.0  # the text's own probability of a complaint, before rating and flags
    unsure: bool = False  # too close to call: listed for the leads instead of opening a case


class Classifier(Protocol):
    """What triage needs of a sentiment model (the `sentiment` package's classifier, or a test double)."""

    def judge(self, items: Sequence[TextToJudge]) -> list[Judgement]: ...
