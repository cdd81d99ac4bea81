"""Benchmark: Review Watch's batched classifier vs a plain one-text-at-a-time transformers pipeline.

    python bench/bench_classify.py [--model builtin] [--repeat 2] [--runs 3] [--precision auto]

Both run on the same texts, in two sets: short posts (the development set, median about 15 tokens)
and long reviews (real App Store reviews from the shared fixtures, about 200 tokens each). Each variant
runs in its own child process so that peak memory (max RSS) is its own, with the same torch thread
count, three times in turn (a shared machine's speed drifts); the median time counts. Prints items/s
per set and overall, peak RSS, the speed-up, and the overall speed-up of each run.

The classifier runs in the precision `review-watch classify` would choose (auto: bfloat16 where the CPU
has it in hardware, else float32); the pipeline runs as transformers loads it, in float32. Where the
classifier runs in bfloat16, a third run, for reference, gives the same pipeline in bfloat16, to show
how much of the gain is the number format and how much the batching.

Last, the ceiling: the model's arithmetic on these texts (from its config and each text's token count) and
how fast this machine multiplies matrices of the model's shape in the classifier's precision. Had classify
spent all its time in matrix products at that rate, it could be at most that much faster than the pipeline:
where the pipeline already computes near the machine's rate (long texts), batching cannot gain much.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from machine import describe_machine

from sentiment.types import PRECISIONS

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REVIEW_WATCH_SHARED", REPO.parent / "shared"))
VARIANTS = {
    "batched": "review-watch classify (batched, {precision})",
    "pipeline": "transformers pipeline, one text at a time",
    "pipeline-bf16": "  for reference: the pipeline in bfloat16",
}
CEILING = "ceiling"  # a child that measures the arithmetic and the matrix rate, not a variant
APP_STORE = SHARED / "fixtures" / "app_store" / "rss_customerreviews_us_id284815942_mosthelpful_2022-06.json"
Item = dict[str, str | float]


def text_sets(repeat: int) -> dict[str, list[Item]]:
    sys.path.insert(0, str(REPO))
    from sentiment.corpus import dev_set

    short: list[Item] = [{"id": f"dev-{i}", "text": e.text} for i, e in enumerate(dev_set())]
    long: list[Item] = []
    for entry in json.loads(APP_STORE.read_text())["feed"]["entry"]:
        if "content" in entry and "im:rating" in entry:
            long.append({"id": entry["id"]["label"], "text": entry["content"]["label"],
                         "rating": float(entry["im:rating"]["label"])})
    return {"short posts": short * repeat, "long reviews": long * repeat}


def refuse(bad: Exception) -> None:
    raise bad


def batched_runner(model: str, precision: str) -> tuple[Callable[[list[Item]], None], str]:
    from sentiment import classify_jsonl, load_classifier

    classifier = load_classifier(model, precision=precision)

    def run(items: list[Item]) -> None:
        stream = io.StringIO("".join(json.dumps(item) + "\n" for item in items))
        classify_jsonl(classifier, stream, io.StringIO(), on_bad_line=refuse)

    return run, classifier.loaded.precision


def pipeline_runner(model: str, dtype_name: str) -> tuple[Callable[[list[Item]], None], str]:
    import torch
    from transformers import pipeline

    from sentiment import build_builtin_model
    from sentiment.classifier import set_threads

    set_threads()
    folder = str(build_builtin_model()) if model == "builtin" else model
    classify = pipeline("text-classification", model=folder, tokenizer=folder, dtype=getattr(torch, dtype_name))

    def run(items: list[Item]) -> None:
        for item in items:
            classify(str(item["text"]), truncation=True)

    return run, dtype_name


def encoder_shape(config: object) -> tuple[int, int, int] | None:
    """(hidden size, feed-forward size, layers) of a BERT-style encoder; None for other architectures."""
    try:
        return int(config.hidden_size), int(config.intermediate_size), int(config.num_hidden_layers)  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        return None


def encoder_flops(shape: tuple[int, int, int], token_counts: list[int]) -> float:
    """Floating-point operations over texts of these lengths: the dense layers (attention projections and
    feed-forward) and the attention products."""
    hidden, inner, layers = shape
    dense = 2 * (4 * hidden * hidden + 2 * hidden * inner)
    return float(sum(layers * (n * dense + 4 * n * n * hidden) for n in token_counts))


def matrix_rate(hidden: int, inner: int, precision: str) -> float:
    """Floating-point operations per second of this machine's matrix products of the model's shape."""
    import torch

    dtype = getattr(torch, precision)
    rows, weight = torch.randn(2048, hidden, dtype=dtype), torch.randn(inner, hidden, dtype=dtype)
    with torch.inference_mode():
        for _ in range(5):
            torch.nn.functional.linear(rows, weight)
        started, calls = time.perf_counter(), 40
        for _ in range(calls):
            torch.nn.functional.linear(rows, weight)
        return calls * 2 * rows.numel() * inner / (time.perf_counter() - started)


def ceiling(model: str, repeat: int, precision: str) -> None:
    from sentiment.classifier import load_model, resolve_precision, set_threads

    set_threads()
    loaded = load_model(model, precision="float32")
    used = resolve_precision(precision)
    shape = encoder_shape(loaded.model.config)
    if shape is None or used not in ("float32", "bfloat16"):
        print(json.dumps({"flops": None, "rate": None, "precision": used}))
        return
    flops = {}
    for name, items in text_sets(repeat).items():
        encoded = loaded.tokenizer([str(item["text"]) for item in items], truncation=True,
                                   max_length=loaded.max_length)
        flops[name] = encoder_flops(shape, [len(ids) for ids in encoded["input_ids"]])
    print(json.dumps({"flops": flops, "rate": matrix_rate(shape[0], shape[1], used), "precision": used}))


def child(variant: str, model: str, repeat: int, precision: str) -> None:
    if variant == CEILING:
        ceiling(model, repeat, precision)
        return
    sets = text_sets(repeat)
    if variant == "batched":
        run, used = batched_runner(model, precision)
    else:
        run, used = pipeline_runner(model, "bfloat16" if variant == "pipeline-bf16" else "float32")
    seconds = {}
    for name, items in sets.items():
        started = time.perf_counter()
        run(items)
        seconds[name] = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    counts = {name: len(items) for name, items in sets.items()}
    print(json.dumps({"seconds": seconds, "items": counts, "peak_mib": peak_kib / 1024, "precision": used}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin")
    parser.add_argument("--repeat", type=int, default=2, help="how many times each text set is repeated")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS, help="the classifier's (as in the config)")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per variant; the median counts")
    parser.add_argument("--child", choices=[*VARIANTS, CEILING], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.model, args.repeat, args.precision)
        return 0
    if not APP_STORE.exists():
        print(f"error: the shared fixture {APP_STORE} is missing (set REVIEW_WATCH_SHARED)", file=sys.stderr)
        return 1

    def run_child(variant: str) -> dict | None:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", variant, "--model", args.model, "--repeat", str(args.repeat),
             "--precision", args.precision],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            print(f"error: the {variant} run failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            return None
        result: dict = json.loads(proc.stdout.strip().splitlines()[-1])
        return result

    rounds: list[dict[str, dict]] = []
    for _ in range(args.runs):  # the variants take turns, so that a slow spell of the machine hits them all
        results: dict[str, dict] = {}
        for variant in VARIANTS:
            if variant == "pipeline-bf16" and results["batched"]["precision"] != "bfloat16":
                continue
            result = run_child(variant)
            if result is None:
                return 1
            results[variant] = result
        rounds.append(results)
    arithmetic = run_child(CEILING)
    if arithmetic is None:
        return 1
    counts = rounds[0]["batched"]["items"]
    sets = list(counts)
    print(f"machine: {describe_machine()}")
    print(f"model {args.model}; " + ", ".join(f"{counts[s]} {s}" for s in sets)
          + f"; torch threads = usable cores; median of {args.runs} runs, each in a fresh process")
    header = "".join(f"{s + ' /s':>18}" for s in sets)
    print(f"{'variant':<44}{header}{'overall /s':>12}{'peak RSS MiB':>14}")
    seconds = {}
    for variant in rounds[0]:
        seconds[variant] = {s: statistics.median(r[variant]["seconds"][s] for r in rounds) for s in sets}
        rates = "".join(f"{counts[s] / seconds[variant][s]:>18.1f}" for s in sets)
        overall = sum(counts.values()) / sum(seconds[variant].values())
        name = VARIANTS[variant].format(precision=rounds[0][variant]["precision"])
        peak = max(r[variant]["peak_mib"] for r in rounds)
        print(f"{name:<44}{rates}{overall:>12.1f}{peak:>14.0f}")
    b, p = seconds["batched"], seconds["pipeline"]
    print("speed-up: " + ", ".join(f"{s} {p[s] / b[s]:.2f}x" for s in sets)
          + f", overall {sum(p.values()) / sum(b.values()):.2f}x")
    each = [sum(r["pipeline"]["seconds"].values()) / sum(r["batched"]["seconds"].values()) for r in rounds]
    print("overall speed-up run by run: " + ", ".join(f"{x:.2f}x" for x in each))
    print_ceiling(arithmetic, seconds, sets)
    return 0


def print_ceiling(arithmetic: dict, seconds: dict[str, dict[str, float]], sets: list[str]) -> None:
    flops, rate, used = arithmetic["flops"], arithmetic["rate"], arithmetic["precision"]
    if rate is None:
        print(f"ceiling: not computed (the model is not BERT-style, or the precision is {used})")
        return
    print("arithmetic: " + ", ".join(f"{s} {flops[s] / 1e9:.0f} GFLOP" for s in sets)
          + f"; this machine multiplies {used} matrices of the model's shape at {rate / 1e9:.0f} GFLOP/s")
    for variant in ("pipeline", "batched"):
        print(f"  {variant} computed at " + ", ".join(
            f"{s} {flops[s] / seconds[variant][s] / 1e9:.0f} GFLOP/s" for s in sets))
    p = seconds["pipeline"]
    print("ceiling: at that rate and nothing else, classify would be at most "
          + ", ".join(f"{s} {p[s] * rate / flops[s]:.1f}x" for s in sets)
          + f", overall {sum(p.values()) * rate / sum(flops.values()):.1f}x faster than the pipeline")


if __name__ == "__main__":
    sys.exit(main())
