"""`review-watch classify` says which judgements are left to a person: `"unsure"` on every line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import review_watch
from tests.support.configs import write_config

LINES = [
    {"id": "forced", "text": "I ordered the blue one.", "rating": 1},  # 1-2 stars decide: never unsure
    {"id": "mixed", "text": "The parcel came on the third try. The box was fine, the tracking page was not.",
     "rating": 3},
    {"id": "praise", "text": "Wonderful shop, fast delivery and friendly support. Highly recommended!", "rating": 5},
]


def classify(tmp_path: Path, unsure_band: str) -> dict[str, dict[str, object]]:
    config = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}",
                          model=f'builtin"\nunsure_band = {unsure_band}\nprecision = "auto')
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(line) + "\n" for line in LINES), encoding="utf-8")
    review_watch("classify", "--input", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "out.jsonl"),
                 config=config)
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    return {str(row["id"]): row for row in rows}


def test_classify_marks_what_the_band_leaves_to_a_person_and_a_zero_band_nothing(tmp_path: Path) -> None:
    wide = classify(tmp_path, "0.49")  # any 3-star text the model is not all but certain of
    assert {key: row["unsure"] for key, row in wide.items()} == {"forced": False, "mixed": True, "praise": False}
    assert wide["forced"]["negative"] is True
    off = classify(tmp_path, "0")
    assert {key: row["unsure"] for key, row in off.items()} == {"forced": False, "mixed": False, "praise": False}
