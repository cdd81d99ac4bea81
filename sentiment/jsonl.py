"""`review-watch classify`: JSON lines in, the same lines with the judgement added out."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import IO, Any

from sentiment.classifier import SentimentClassifier
from sentiment.types import TextToJudge

CHUNK = 256  # lines judged together


class BadInputLine(ValueError):
    """A line of classify input is not what the contract says; the message names the line."""


def _optional_number(row: dict[str, Any], key: str, number: int) -> float | None:
    value = row.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadInputLine(f"line {number}: {key!r} must be a number, got {value!r}")
    return float(value)


def _optional_text(row: dict[str, Any], key: str, number: int) -> str | None:
    value = row.get(key)
    if value is not None and not isinstance(value, str):
        raise BadInputLine(f"line {number}: {key!r} must be a string")
    return value


def parse_line(line: str, number: int) -> tuple[dict[str, Any], TextToJudge]:
    try:
        row = json.loads(line)
    except ValueError as exc:
        raise BadInputLine(f"line {number}: not valid JSON ({exc.args[0].split(':')[0]})") from None
    if not isinstance(row, dict):
        raise BadInputLine(f"line {number}: expected a JSON object")
    text = row.get("text")
    if not isinstance(text, str):
        raise BadInputLine(f"line {number}: missing string field 'text'")
    rating = _optional_number(row, "rating", number)
    rating_max = _optional_number(row, "rating_max", number)
    if rating_max is not None and rating_max <= 0:
        raise BadInputLine(f"line {number}: 'rating_max' must be positive")
    item = TextToJudge(
        text=text,
        title=_optional_text(row, "title", number),
        rating=rating,
        rating_max=rating_max,
        language_hint=_optional_text(row, "language", number),
    )
    return row, item


def _chunks(
    in_stream: IO[str], on_bad_line: Callable[[BadInputLine], None]
) -> Iterator[list[tuple[dict[str, Any], TextToJudge]]]:
    chunk: list[tuple[dict[str, Any], TextToJudge]] = []
    for number, line in enumerate(in_stream, start=1):
        if not line.strip():
            continue
        try:
            chunk.append(parse_line(line, number))
        except BadInputLine as bad:
            on_bad_line(bad)
            continue
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def classify_jsonl(
    classifier: SentimentClassifier,
    in_stream: IO[str],
    out_stream: IO[str],
    on_bad_line: Callable[[BadInputLine], None],
) -> int:
    """Returns the number of lines written. A bad line is handed to on_bad_line (its message is one line
    naming it) and left out; the lines around it are judged and written in their order."""
    written = 0
    for chunk in _chunks(in_stream, on_bad_line):
        judgements = classifier.judge([item for _, item in chunk])
        for (row, _), judgement in zip(chunk, judgements, strict=True):
            row.update(
                label=judgement.label,
                score=judgement.score,
                negative=judgement.negative,
                unsure=judgement.unsure,
                language=judgement.language,
                churn_intent=judgement.churn_intent,
                competitor=judgement.competitor,
                threat=judgement.threat,
                staff_abuse=judgement.staff_abuse,
            )
            out_stream.write(json.dumps(row, ensure_ascii=False) + "\n")
            written += 1
        out_stream.flush()
    return written
