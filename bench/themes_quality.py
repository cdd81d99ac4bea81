"""How well `domain/themes.shared_themes` finds what an incident's complaints share, on the project's own
multilingual samples (sentiment/data/*.jsonl, eight languages). Not a test: it prints figures for docs/crisis.md.

For each language and each word that at least `--min-texts` of that language's negative samples hold, an
incident of 20 complaints is built: 8 that hold the word and 12 other complaints of the same language (noise);
the background (the brand's usual complaints) is every other negative sample of that language that does
not hold the word. A hit: the planted word is the first theme,
alone or in a phrase. Then 20 incidents of 20 unrelated complaints of each language, which share nothing in
particular: how many themes are shown for them (fewer is better). The obvious alternative in the same run: the
incident's most common terms, with the same stop words but no background.

    .venv/bin/python bench/themes_quality.py
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import stopwordsiso  # noqa: E402

from review_watch.domain.themes import StopWords, Text, shared_themes, terms, words  # noqa: E402

LANGUAGES = ("ar", "de", "en", "es", "fr", "he", "ru", "sv")


def load_negatives() -> list[Text]:
    texts = []
    for path in sorted((REPO / "sentiment" / "data").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("label") == "negative" and row.get("language") in LANGUAGES:
                texts.append(Text(row["text"], row["language"]))
    return list(dict.fromkeys(texts))  # the training rounds repeat some sentences


def most_common(incident: list[Text], stop_words: StopWords, limit: int = 5) -> list[str]:
    counts: Counter[str] = Counter()
    for item in incident:
        counts.update(terms(item.text, item.language, stop_words))
    return [term for term, _ in counts.most_common(limit)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-texts", type=int, default=8)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--show", action="store_true", help="print the themes of each miss")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    stop_words: StopWords = {code: frozenset(w.casefold() for w in stopwordsiso.stopwords(code))
                             for code in LANGUAGES}
    negatives = load_negatives()
    by_language: dict[str, list[Text]] = defaultdict(list)
    for item in negatives:
        assert item.language is not None
        by_language[item.language].append(item)
    print(f"{len(negatives)} distinct negative samples")
    print("| language | samples | incidents | planted word first | in the first three "
          "| most common term (no background) | themes for unrelated complaints (mean of 20) |")
    print("|---|---|---|---|---|---|---|")
    totals = [0, 0, 0, 0]
    all_noise = all_runs = 0
    for language in LANGUAGES:
        pool = by_language[language]
        holders: dict[str, list[Text]] = defaultdict(list)
        for item in pool:
            for word in {w for w in words(item.text, item.language, stop_words) if w}:
                holders[word].append(item)
        planted = sorted(w for w, items in holders.items() if len(items) >= args.min_texts)
        hits = top3_hits = baseline_hits = noise_themes = noise_runs = 0
        for word in planted:
            incident = rng.sample(holders[word], 8)
            others = [t for t in pool if t not in holders[word]]
            incident += rng.sample(others, 12)
            background = [t for t in pool if t not in incident and t not in holders[word]]
            found = shared_themes(incident, background, stop_words)
            hits += bool(found) and word in found[0].term.split(" ")
            top3_hits += any(word in theme.term.split(" ") for theme in found[:3])
            if args.show and not (found and word in found[0].term.split(" ")):
                print(language, word, [(t.term, t.support, round(t.score, 1)) for t in found])
            baseline_hits += word in most_common(incident, stop_words, 1)[0].split(" ")
        for _ in range(20):
            unrelated = rng.sample(pool, 20)
            noise_themes += len(shared_themes(unrelated, [t for t in pool if t not in unrelated], stop_words))
            noise_runs += 1
        totals[0] += len(planted)
        totals[1] += hits
        totals[2] += baseline_hits
        totals[3] += top3_hits
        share = f"{hits / len(planted):.0%}" if planted else "-"
        base = f"{baseline_hits / len(planted):.0%}" if planted else "-"
        all_noise += noise_themes
        all_runs += noise_runs
        print(f"| {language} | {len(pool)} | {len(planted)} | {share} | {top3_hits / len(planted):.0%} | {base} "
              f"| {noise_themes / noise_runs:.1f} |")
    print(f"| all | {len(negatives)} | {totals[0]} | {totals[1] / totals[0]:.0%} | {totals[3] / totals[0]:.0%} "
          f"| {totals[2] / totals[0]:.0%} "
          f"| {all_noise / all_runs:.1f} |")


if __name__ == "__main__":
    main()
