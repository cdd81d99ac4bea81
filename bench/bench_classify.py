"""Benchmark: Review Watch's batched classifier vs a plain one-text-at-a-time transformers pipeline.

    python bench/bench_classify.py [--model builtin] [--repeat 2]

Both run on the same texts, in two sets: short posts (the development set, median about 15 tokens)
and long reviews (real App Store reviews from the shared fixtures, about 200 tokens each). Each variant
runs in its own child process so that peak memory (max RSS) is its own, with the same torch thread
count. Prints items/s per set and overall, peak RSS, and the speed-up.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from machine import describe_machine

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REVIEW_WATCH_SHARED", REPO.parent / "shared"))
VARIANTS = {
    "batched": "review-watch classify (batched)",
    "pipeline": "transformers pipeline, one text at a time",
}
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


def batched_runner(model: str) -> Callable[[list[Item]], None]:
    from sentiment import classify_jsonl, load_classifier

    classifier = load_classifier(model)

    def run(items: list[Item]) -> None:
        stream = io.StringIO("".join(json.dumps(item) + "\n" for item in items))
        classify_jsonl(classifier, stream, io.StringIO())

    return run


def pipeline_runner(model: str) -> Callable[[list[Item]], None]:
    import torch
    from transformers import pipeline

    from sentiment import build_builtin_model
    from sentiment.classifier import set_threads

    set_threads()
    folder = str(build_builtin_model()) if model == "builtin" else model
    classify = pipeline("text-classification", model=folder, tokenizer=folder, dtype=torch.float32)

    def run(items: list[Item]) -> None:
        for item in items:
            classify(str(item["text"]), truncation=True)

    return run


def child(variant: str, model: str, repeat: int) -> None:
    sets = text_sets(repeat)
    run = pipeline_runner(model) if variant == "pipeline" else batched_runner(model)
    seconds = {}
    for name, items in sets.items():
        started = time.perf_counter()
        run(items)
        seconds[name] = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    counts = {name: len(items) for name, items in sets.items()}
    print(json.dumps({"seconds": seconds, "items": counts, "peak_mib": peak_kib / 1024}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin")
    parser.add_argument("--repeat", type=int, default=2, help="how many times each text set is repeated")
    parser.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.model, args.repeat)
        return 0
    if not APP_STORE.exists():
        print(f"error: the shared fixture {APP_STORE} is missing (set REVIEW_WATCH_SHARED)", file=sys.stderr)
        return 1
    results = {}
    for variant in VARIANTS:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", variant, "--model", args.model, "--repeat", str(args.repeat)],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            print(f"error: the {variant} run failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            return 1
        results[variant] = json.loads(proc.stdout.strip().splitlines()[-1])
    sets = list(results["batched"]["items"])
    counts = results["batched"]["items"]
    print(f"machine: {describe_machine()}")
    print(f"model {args.model}; " + ", ".join(f"{counts[s]} {s}" for s in sets) + "; torch threads = usable cores")
    header = "".join(f"{s + ' /s':>18}" for s in sets)
    print(f"{'variant':<44}{header}{'overall /s':>12}{'peak RSS MiB':>14}")
    for variant, r in results.items():
        rates = "".join(f"{r['items'][s] / r['seconds'][s]:>18.1f}" for s in sets)
        overall = sum(r["items"].values()) / sum(r["seconds"].values())
        print(f"{VARIANTS[variant]:<44}{rates}{overall:>12.1f}{r['peak_mib']:>14.0f}")
    b, p = results["batched"]["seconds"], results["pipeline"]["seconds"]
    print("speed-up: " + ", ".join(f"{s} {p[s] / b[s]:.2f}x" for s in sets)
          + f", overall {sum(p.values()) / sum(b.values()):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
