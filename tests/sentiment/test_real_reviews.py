"""The real reviews of the shared fixtures as a weakly labelled set, and their part of the evaluation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sentiment import evaluate
from sentiment.real_reviews import (
    FixturesNotFound,
    RealReview,
    load_real_reviews,
    misjudged,
    real_review_examples,
    real_review_report,
)
from tests.conftest import REPO


@pytest.fixture(scope="module")
def reviews(shared: Path) -> list[RealReview]:
    return load_real_reviews(shared)


def test_reviews_come_from_all_four_platforms_with_stars_on_one_to_five(reviews: list[RealReview]) -> None:
    platforms = {r.platform for r in reviews}
    assert platforms == {"trustpilot", "appstore", "googleplay", "schemaorg"}
    for platform in platforms:
        assert sum(r.platform == platform for r in reviews) >= 10, platform
    assert {r.stars for r in reviews} == {1, 2, 3, 4, 5}
    assert all(r.text or r.title for r in reviews)
    by_id = {r.id: r for r in reviews}
    assert len(by_id) == len(reviews)
    # A German review on a Trustpilot page keeps the language the platform gives it.
    assert by_id["trustpilot:667124cdc4e0d614fec1e056"].language == "de"
    assert {r.language for r in reviews} >= {"en", "de", "es", "fr", "da", "ja"}


def test_split_is_fixed_by_id_and_the_test_split_can_be_measured(
        reviews: list[RealReview], shared: Path, tmp_path: Path) -> None:
    split = {r.id: r.split for r in reviews}
    assert {r.id: r.split for r in load_real_reviews(shared)} == split
    # With only some of the pages present, a review keeps its split.
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "trustpilot").symlink_to(shared / "fixtures" / "trustpilot")
    alone = load_real_reviews(tmp_path)
    assert alone and all(split[r.id] == r.split for r in alone)
    counts = {name: sum(s == name for s in split.values()) for name in ("train", "dev", "test")}
    assert sum(counts.values()) == len(reviews)
    assert 0.4 < counts["test"] / len(reviews) < 0.6 and min(counts["train"], counts["dev"]) > 0.15 * len(reviews)
    test = [r for r in reviews if r.split == "test"]
    assert sum(r.stars <= 2 for r in test) >= 40 and sum(r.stars == 5 for r in test) >= 50


SAME_REVIEW = {"@type": "Review", "author": {"@type": "Person", "name": "Kari"}, "datePublished": "2024-03-01",
               "reviewBody": "Far too salty, and it burnt at the time the recipe says.",
               "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 5}}
OTHER_REVIEW = {"@type": "Review", "author": "Ola", "datePublished": "2024-03-02", "reviewBody": "Lovely!",
                "reviewRating": {"@type": "Rating", "ratingValue": 10, "bestRating": 10}}
NO_TEXT = {"@type": "Review", "author": "Per", "reviewRating": {"ratingValue": 4}}


def test_a_review_carried_twice_in_a_page_is_loaded_once(tmp_path: Path) -> None:
    recipe = {"@context": "https://schema.org", "@type": "Recipe", "name": "Soup",
              "review": [SAME_REVIEW, OTHER_REVIEW, SAME_REVIEW, NO_TEXT]}
    page = (f'<html lang="en"><head><script type="application/ld+json">{json.dumps(recipe)}</script></head>'
            "<body><p>Soup</p></body></html>")
    folder = tmp_path / "fixtures" / "schema_org"
    folder.mkdir(parents=True)
    (folder / "recipe_example.com_soup_en.html").write_text(page, encoding="utf-8")
    loaded = load_real_reviews(tmp_path)
    assert sorted((r.stars, r.text) for r in loaded) == [(1, SAME_REVIEW["reviewBody"]), (5, "Lovely!")]
    assert all(r.platform == "schemaorg" and r.language == "en" for r in loaded)


def _review(stars: int, language: str) -> RealReview:
    return RealReview(id=f"x:{stars}{language}", source="x", platform="trustpilot", title=None, text="t",
                      stars=stars, language=language, split="test")


def test_report_counts_recall_on_low_stars_and_false_alarms_on_five_stars() -> None:
    judged = [(1, "en", True), (2, "en", True), (2, "en", False), (5, "en", True), (5, "en", False),
              (5, "en", False), (5, "en", False), (3, "en", True), (4, "en", False),
              (1, "da", False), (5, "da", False)]
    reviews = [_review(stars, language) for stars, language, _ in judged]
    flagged = [f for _, _, f in judged]
    lines = real_review_report(reviews, flagged)
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert list(rows) == ["en", "da", "overall"]
    assert rows["en"] == ["3", "0.667", "4", "0.250", "1", "1.000", "1", "0.000"]
    assert rows["da"] == ["1", "0.000", "1", "0.000", "0", "-", "0", "-"]
    assert rows["overall"] == ["4", "0.500", "5", "0.200", "1", "1.000", "1", "0.000"]
    wrong = [(r.stars, r.language) for r, f in zip(reviews, flagged, strict=True) if misjudged(r, f)]
    assert wrong == [(2, "en"), (5, "en"), (1, "da")]


def test_training_examples_are_low_and_five_star_reviews_and_never_the_test_split(
        shared: Path, tmp_path: Path) -> None:
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "trustpilot").symlink_to(shared / "fixtures" / "trustpilot")
    examples = real_review_examples("train", tmp_path)
    assert examples and {e.label for e in examples} == {"negative", "positive"}
    train = [r for r in load_real_reviews(tmp_path) if r.split == "train" and r.stars in (1, 2, 5)]
    assert len(examples) == len(train)
    with pytest.raises(ValueError, match="held out"):
        real_review_examples("test", tmp_path)


def test_a_missing_fixtures_folder_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(FixturesNotFound, match="no shared fixtures folder") as info:
        load_real_reviews(tmp_path)
    assert "\n" not in str(info.value)
    monkeypatch.setenv("REVIEW_WATCH_SHARED", str(tmp_path))
    assert evaluate.main([]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no shared fixtures folder" in err and "--no-real" in err


@pytest.mark.slow
def test_evaluate_prints_the_real_reviews_section(builtin_folder: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "sentiment.evaluate", "--data", "dev"], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    section = done.stdout.split("real reviews, split test:", 1)[1].splitlines()
    assert section[1].split()[:3] == ["language", "1-2*", "recall"]
    overall = next(line.split() for line in section if line.startswith("overall"))
    assert int(overall[1]) >= 40 and 0.0 <= float(overall[2]) <= 1.0
    assert int(overall[3]) >= 50 and 0.0 <= float(overall[4]) <= 1.0
