from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sentiment import BadInputLine, classify_jsonl, load_classifier


def run(folder: Path, text: str) -> list[dict]:
    out = io.StringIO()
    classify_jsonl(load_classifier(str(folder)), io.StringIO(text), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_each_line_comes_back_with_the_judgement_added(tiny_star_model: Path) -> None:
    rows = run(tiny_star_model, '{"id": 7, "text": "good service", "extra": [1]}\n\n'
                                '{"id": "b", "text": "bad", "rating": 1, "rating_max": 5}\n')
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
def test_a_bad_line_is_a_one_line_error_naming_it(tiny_star_model: Path, bad_line: str, message: str) -> None:
    out = io.StringIO()
    with pytest.raises(BadInputLine) as info:
        classify_jsonl(load_classifier(str(tiny_star_model)), io.StringIO('{"text": "good"}\n' + bad_line + "\n"), out)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
    assert [json.loads(line)["text"] for line in out.getvalue().splitlines()] == ["good"]
