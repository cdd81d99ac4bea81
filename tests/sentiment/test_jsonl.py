from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sentiment import classify_jsonl, load_classifier


def run(folder: Path, text: str) -> tuple[list[dict], list[str]]:
    out, bad_lines = io.StringIO(), []
    classifier = load_classifier(str(folder))
    classify_jsonl(classifier, io.StringIO(text), out, on_bad_line=lambda bad: bad_lines.append(str(bad)))
    return [json.loads(line) for line in out.getvalue().splitlines()], bad_lines


def test_each_line_comes_back_with_the_judgement_added(tiny_star_model: Path) -> None:
    rows, bad_lines = run(tiny_star_model, '{"id": 7, "text": "good service", "extra": [1]}\n\n'
                                           '{"id": "b", "text": "bad", "rating": 1, "rating_max": 5}\n')
    assert bad_lines == []
    assert [r["id"] for r in rows] == [7, "b"]
    assert rows[0]["extra"] == [1]
    for row in rows:
        assert row["label"] in ("negative", "neutral", "positive")
        assert 0.0 <= row["score"] <= 1.0 and isinstance(row["negative"], bool)
        assert {"language", "churn_intent", "competitor", "threat", "staff_abuse"} <= row.keys()
    assert rows[1]["negative"] is True and rows[1]["label"] == "negative"


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ('["a list"]', "line 2: expected a JSON object"),
        ('{"id": 1}', "line 2: missing string field 'text'"),
        ('{"text": "x", "rating": "five"}', "line 2: 'rating' must be a number"),
        ('{"text": "x", "rating": 3, "rating_max": 0}', "line 2: 'rating_max' must be positive"),
    ],
)
def test_a_bad_line_is_reported_in_one_line_and_skipped(tiny_star_model: Path, bad_line: str, message: str) -> None:
    rows, bad_lines = run(tiny_star_model, '{"text": "good"}\n' + bad_line + '\n{"text": "bad"}\n')
    assert len(bad_lines) == 1 and bad_lines[0].startswith(message) and "\n" not in bad_lines[0]
    assert [row["text"] for row in rows] == ["good", "bad"]
