"""`review-watch export`: a CSV a spreadsheet opens without running what reviewers wrote; JSON lines verbatim."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.services.ingest import store_mention
from spiders.items import MentionItem
from tests.conftest import REPO
from tests.support.cli import review_watch
from tests.support.configs import source_block, write_config

FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]
# (title, text, author) per stored review; each formula start opens a title in one and a text in another.
REVIEWS = [
    *((f"{c}HYPERLINK(\"http://evil.example\",\"win\")", "plain text", "Kim") for c in FORMULA_STARTS),
    *((None, f"{c}cmd|' /C calc'!A0 never again", "Kim") for c in FORMULA_STARTS),
    ("Fine", "ok - =1+1 only inside", "@kim"),
]


def _as_text(cell: str | None) -> str:
    """What the CSV must hold: a formula start behind a single quote, everything else as it is."""
    if cell is None:
        return ""
    return f"'{cell}" if cell[0] in FORMULA_STARTS else cell


def _store(tmp_path: Path, database_url: str) -> Path:
    config = write_config(tmp_path, database_url=database_url,
                          sources=source_block("acme-tp", "trustpilot", "https://www.trustpilot.com/review/acme.com"))
    app = App(load_config(config))
    with app.unit_of_work() as uow:
        for number, (title, text, author) in enumerate(REVIEWS):
            item = MentionItem(source="acme-tp", source_type="trustpilot", external_id=f"r{number}", url=None,
                               author=author, published_at=None, rating=1, rating_max=5, title=title, text=text)
            store_mention(uow, item, "Acme", app.clock)
    return config


def test_csv_cells_that_would_start_a_formula_are_text_and_jsonl_keeps_them_exact(
        tmp_path: Path, database_url: str) -> None:
    config = _store(tmp_path, database_url)

    # bytes, as a spreadsheet gets them: text mode would turn a carriage return into a newline
    command = [sys.executable, "-m", "review_watch.entrypoints.cli", "export", "--format", "csv",
               "--config", str(config)]
    out = subprocess.run(command, cwd=REPO, capture_output=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    rows = list(csv.DictReader(io.StringIO(out.decode("utf-8"), newline="")))
    assert [(r["title"], r["text"], r["author"]) for r in rows] == [
        tuple(_as_text(cell) for cell in review) for review in REVIEWS]
    assert rows[-1]["text"] == "ok - =1+1 only inside"  # a formula character inside a text is left alone

    lines = review_watch("export", "--format", "jsonl", config=config).stdout.splitlines()
    exact = [json.loads(line) for line in lines]
    assert [(r["title"], r["text"], r["author"]) for r in exact] == REVIEWS
