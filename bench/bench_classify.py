"""Benchmark: Review Watch's batched classifier vs a plain one-text-at-a-time transformers pipeline.

    python bench/bench_classify.py [--model builtin] [--repeat 2]

Both run on the same texts (the development set plus real App Store reviews from the shared fixtures),
each in its own child process so that peak memory (max RSS) is measured separately, with the same
torch thread count. Prints items/s and peak RSS per variant and the speed-up.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REVIEW_WATCH_SHARED", REPO.parent / "shared"))
VARIANTS = {
    "batched": "review-watch classify (batched)",
    "batched-torch": "same, torch instead of ONNX Runtime",
    "pipeline": "transformers pipeline, one text at a time",
}
APP_STORE = SHARED / "fixtures" / "app_store" / "rss_customerreviews_us_id284815942_mosthelpful_2022-06.json"


def bench_items(repeat: int) -> list[dict[str, str | float]]:
    sys.path.insert(0, str(REPO))
    from sentiment.corpus import dev_set

    items: list[dict[str, str | float]] = [{"id": f"dev-{i}", "text": e.text} for i, e in enumerate(dev_set())]
    if APP_STORE.exists():
        entries = json.loads(APP_STORE.read_text())["feed"]["entry"]
        for entry in entries:
            if "content" in entry and "im:rating" in entry:
                items.append({"id": entry["id"]["label"], "text": entry["content"]["label"],
                              "rating": float(entry["im:rating"]["label"])})
    return items * repeat


def run_batched(model: str, items: list[dict[str, str | float]], onnx: bool = True) -> float:
    from sentiment import classify_jsonl, load_classifier

    classifier = load_classifier(model, onnx=onnx)
    stream = io.StringIO("".join(json.dumps(item) + "\n" for item in items))
    out = io.StringIO()
    started = time.perf_counter()
    classify_jsonl(classifier, stream, out)
    return time.perf_counter() - started


def run_pipeline(model: str, items: list[dict[str, str | float]]) -> float:
    import torch
    from transformers import pipeline

    from sentiment import build_builtin_model
    from sentiment.classifier import set_threads

    set_threads()
    folder = str(build_builtin_model()) if model == "builtin" else model
    classify = pipeline("text-classification", model=folder, tokenizer=folder, dtype=torch.float32)
    started = time.perf_counter()
    for item in items:
        classify(str(item["text"]), truncation=True)
    return time.perf_counter() - started


def child(variant: str, model: str, repeat: int) -> None:
    items = bench_items(repeat)
    if variant == "pipeline":
        seconds = run_pipeline(model, items)
    else:
        seconds = run_batched(model, items, onnx=variant == "batched")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"variant": variant, "items": len(items), "seconds": seconds, "peak_mib": peak_kib / 1024}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin")
    parser.add_argument("--repeat", type=int, default=2, help="how many times the text set is repeated")
    parser.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.model, args.repeat)
        return 0
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
    print(f"model {args.model}, {results['batched']['items']} texts, torch threads = usable cores")
    print(f"{'variant':<40}{'items/s':>10}{'peak RSS MiB':>14}")
    for variant, r in results.items():
        print(f"{VARIANTS[variant]:<40}{r['items'] / r['seconds']:>10.1f}{r['peak_mib']:>14.0f}")
    for variant in ("batched", "batched-torch"):
        speedup = results["pipeline"]["seconds"] / results[variant]["seconds"]
        print(f"speed-up of {VARIANTS[variant]} over the pipeline: {speedup:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
