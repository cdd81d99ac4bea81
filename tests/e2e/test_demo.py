"""`review-watch demo`, the README's first command, as a new user runs it: offline, twice, then `export | head`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.support.cli import review_watch

CARD_RULE = "-" * 72
# The sample pages' complaints (by the start of their text) and who reads their language in the demo config.
COMPLAINTS = {
    "Terrible service, I waited two weeks": "Anna",
    "Ужасный сервис, деньги списали": "Boris",
    "خدمة سيئة جدا ولن أتعامل معهم": "Leila",
    "שירות גרוע, אף אחד לא חזר אליי": "Leila",
    "Third broken blender in a year": "Anna",
    "Usel kundtjänst, ingen svarade": "Anna",
}
PRAISE = ["Great product, fast delivery", "Отличный магазин", "Fantastisk service", "Gute Beratung"]


@dataclass
class DemoRun:
    directory: Path
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]


def alert_cards(stdout: str) -> list[tuple[str, str]]:
    """(recipient, card text) of each alert card the demo shows (other messages, such as warnings, left out)."""
    cards = []
    for block in stdout.split(CARD_RULE):
        lines = block.strip().splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith("To ")), None)
        if start is not None and any(line.startswith("[") for line in lines):  # a card has buttons
            cards.append((lines[start].removeprefix("To ").split(" (")[0], "\n".join(lines[start + 1:])))
    return cards


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    directory = tmp_path_factory.mktemp("demo")
    first = review_watch("demo", "--directory", str(directory), config=None)
    second = review_watch("demo", "--directory", str(directory), config=None)
    yield DemoRun(directory, first, second)


def test_each_complaint_reaches_the_person_who_reads_its_language_and_no_praise_does(demo: DemoRun) -> None:
    assert "Traceback" not in demo.first.stderr
    assert "acme-trustpilot: 10 new, 0 duplicate, 0 updated, 0 failed, 2 pages — ok" in demo.first.stdout
    assert "10 classified, 6 negative, 6 cases opened" in demo.first.stdout
    cards = alert_cards(demo.first.stdout)
    delivered = sorted((name, start) for start, name in COMPLAINTS.items() for who, text in cards
                       if start in text and who == name)
    assert delivered == sorted((name, start) for start, name in COMPLAINTS.items())
    assert len(cards) == len(COMPLAINTS)
    assert not [text for _, text in cards for praise in PRAISE if praise in text]
    # the lead is told once that Acme's ratings average below the warning line: its one source is no second warning
    assert demo.first.stdout.count("Satisfaction for Acme") == 1
    assert "Satisfaction for Acme fell to 2.7 of 5, below 4.5" in demo.first.stdout


def test_the_cards_show_flags_and_speak_their_readers_language(demo: DemoRun) -> None:
    cards = alert_cards(demo.first.stdout)
    blender = next(text for _, text in cards if "Third broken blender" in text)
    assert "mentions competitor Globex" in blender and "churn risk" in blender
    boris = next(text for who, text in cards if who == "Boris")
    assert "ответить до" in boris and "Обращение #" in boris


def test_a_second_run_over_the_same_database_stores_and_queues_nothing_again(demo: DemoRun) -> None:
    assert "Traceback" not in demo.second.stderr
    # page 1 holds nothing new, so the crawl stops there
    assert "acme-trustpilot: 0 new, 6 duplicate, 0 updated, 0 failed, 1 pages — ok" in demo.second.stdout
    assert "0 classified, 0 negative, 0 cases opened" in demo.second.stdout
    assert sorted(alert_cards(demo.second.stdout)) == sorted(alert_cards(demo.first.stdout))  # still unsent, once


def test_export_into_a_reader_that_stops_early_ends_quietly(demo: DemoRun) -> None:
    export = subprocess.Popen(
        [sys.executable, "-m", "review_watch.entrypoints.cli", "export",
         "--config", str(demo.directory / "review-watch.toml")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert export.stdout is not None and export.stderr is not None
    export.stdout.close()  # like `| head -0`: the reader is gone before the first line
    status = export.wait(timeout=120)
    errors = export.stderr.read()
    assert (status, errors) == (141, "")
