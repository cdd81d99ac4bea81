"""Evaluate a sentiment model on the project's labelled development set (or its held-out test set).

    python -m sentiment.evaluate [--model builtin] [--threshold 0.5] [--data test] [--real-split dev]

Prints, per language: negative recall and precision (of the `negative` flag, after rating fusion),
macro-F1 of the three labels, language-detection accuracy; then overall figures and throughput.
Then the real reviews of the shared fixtures (sentiment.real_reviews), judged on their title and text
alone: per language, recall on 1-2 star reviews, false alarms on 5 star ones, the share of 3 and 4 star
ones flagged. Their default split is the held-out "test".
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sentiment.corpus import DEV_FILE, TEST_FILE, Example, read_jsonl
from sentiment.labels import LABELS
from sentiment.real_reviews import FixturesNotFound, in_split, load_real_reviews, misjudged, real_review_report
from sentiment.types import PRECISIONS, Judgement, ModelLoadError, TextToJudge


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    scores = []
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        n_pred, n_gold = list(pred).count(label), list(gold).count(label)
        if not n_gold and not n_pred:
            continue
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def metrics(examples: Sequence[Example], judgements: Sequence[Judgement]) -> dict[str, float]:
    gold_neg = [e.label == "negative" for e in examples]
    flagged = [j.negative for j in judgements]
    tp = sum(g and f for g, f in zip(gold_neg, flagged, strict=True))
    return {
        "n": len(examples),
        "neg_recall": tp / sum(gold_neg) if any(gold_neg) else 1.0,
        "neg_precision": tp / sum(flagged) if any(flagged) else 1.0,
        "macro_f1": macro_f1([e.label for e in examples], [j.label for j in judgements]),
        "lang_acc": sum(e.language == j.language for e, j in zip(examples, judgements, strict=True))
        / max(1, len(examples)),
    }


def report(examples: Sequence[Example], judgements: Sequence[Judgement]) -> list[str]:
    lines = [f"{'language':<9}{'n':>5}{'neg recall':>12}{'neg prec':>10}{'macro-F1':>10}{'lang acc':>10}"]

    def row(name: str, subset: list[int]) -> str:
        m = metrics([examples[i] for i in subset], [judgements[i] for i in subset])
        return (
            f"{name:<9}{m['n']:>5}{m['neg_recall']:>12.3f}{m['neg_precision']:>10.3f}"
            f"{m['macro_f1']:>10.3f}{m['lang_acc']:>10.3f}"
        )

    languages = list(dict.fromkeys(e.language for e in examples))
    for language in languages:
        lines.append(row(language, [i for i, e in enumerate(examples) if e.language == language]))
    lines.append(row("hard", [i for i, e in enumerate(examples) if e.hard]))
    lines.append(row("overall", list(range(len(examples)))))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sentiment.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin", help='"builtin", a Hugging Face id or a local folder')
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--data", default="dev",
                        help='"dev" (the development set), "test" (the held-out set) or a JSON lines file')
    parser.add_argument("--errors", action="store_true", help="list the items judged wrong")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="what the weights run in; auto: bfloat16 where the CPU has it in hardware, else float32")
    parser.add_argument("--real-split", default="test", choices=("dev", "test", "train", "all"),
                        help="which split of the real reviews to judge (default: test, the held-out one)")
    parser.add_argument("--no-real", action="store_true", help="skip the real reviews")
    args = parser.parse_args(argv)

    from sentiment.classifier import load_classifier

    try:
        data = {"dev": DEV_FILE, "test": TEST_FILE}.get(args.data) or Path(args.data)
        examples = read_jsonl(data, args.data)
        real = [] if args.no_real else in_split(load_real_reviews(), args.real_split)
        started = time.perf_counter()
        classifier = load_classifier(args.model, threshold=args.threshold, precision=args.precision)
        loaded = time.perf_counter()
        items = [TextToJudge(e.text, rating=e.rating, rating_max=e.rating_max) for e in examples]
        judgements = classifier.judge(items)
        finished = time.perf_counter()
        real_judgements = classifier.judge([TextToJudge(r.text, title=r.title, language_hint=r.language) for r in real])
        real_flagged = [j.negative for j in real_judgements]
    except FixturesNotFound as exc:
        print(f"error: {exc}, or pass --no-real", file=sys.stderr)
        return 1
    except (ModelLoadError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"model {args.model} ({classifier.loaded.precision}), threshold {args.threshold}, data {data.name}")
    print("\n".join(report(examples, judgements)))
    seconds = finished - loaded
    print(f"throughput: {len(items) / seconds:.1f} items/s ({len(items)} items in {seconds:.2f} s; "
          f"model load {loaded - started:.1f} s)")
    if not args.no_real:
        print(f"\nreal reviews, split {args.real_split}: {len(real)} reviews judged on their text alone (no rating); "
              "1-2* recall and 5* false alarms are the share flagged negative")
        print("\n".join(real_review_report(real, real_flagged)))
    if args.errors:
        for e, j in zip(examples, judgements, strict=True):
            if (e.label == "negative") != j.negative or e.label != j.label:
                print(f"  [{e.language}] gold={e.label} got={j.label}/{j.score:.2f} flagged={j.negative} "
                      f"rating={e.rating}: {e.text[:100]}")
        for r, j in zip(real, real_judgements, strict=True):
            if misjudged(r, j.negative):
                excerpt = " ".join((f"{r.title}. {r.text}" if r.title else r.text).split())
                print(f"  real [{r.language}] {r.stars}* {'flagged' if j.negative else 'not flagged'} "
                      f"got={j.label}/{j.score:.2f}: {excerpt[:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
