"""The words and phrases an incident's complaints share, in any language the words are spaced in.

The method: each text becomes a set of *terms*: its words (Unicode word characters, case-folded; digits,
one-letter words and the stop words of the text's language dropped; the Arabic article "ال" taken off a
word), and the pairs of words that stand next to each other in it (phrases). A term's support is the number of
the incident's texts that hold it. Each term with enough support is scored by how much more often it occurs in
the incident's texts of the languages it occurs in than in the brand's usual complaints (the *background*, all
languages): the log odds ratio of the two document shares, each count plus one half, divided by its standard
error (a z-score). The best terms come first; a word is dropped when a chosen phrase holds it and is
nearly as common in the incident, so "card declined" is shown once, not as "card", "declined" and "card declined".

Pure: the stop words come in as an argument (the service takes them from the `stopwordsiso` package).
Measured on the project's multilingual samples in docs/crisis.md.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)
_ARABIC_ARTICLE = re.compile(r"^(?:[وفبكل]?ال|لل)(?=\w{2})")


@dataclass(frozen=True)
class Text:
    text: str
    language: str | None  # ISO 639-1; None: unknown, every list's stop words apply


@dataclass(frozen=True)
class Theme:
    term: str  # a word or a two-word phrase, case-folded
    support: int  # how many of the incident's texts hold it
    score: float  # the z-score against the background


StopWords = Mapping[str, frozenset[str]]  # language -> stop words, case-folded


def _stop_words_for(language: str | None, stop_words: StopWords) -> frozenset[str]:
    if language is not None and language in stop_words:
        return stop_words[language]
    if language is None:
        return frozenset().union(*stop_words.values())
    return frozenset()


def words(text: str, language: str | None, stop_words: StopWords) -> list[str | None]:
    """The text's words in order; a dropped word leaves None, so that no phrase spans it."""
    stop = _stop_words_for(language, stop_words)
    kept: list[str | None] = []
    for match in _WORD.finditer(text):
        word = match.group().casefold()
        if word in stop or len(word) < 2 or word.isdigit() or "_" in word:
            kept.append(None)
            continue
        stripped = _ARABIC_ARTICLE.sub("", word)
        kept.append(None if stripped in stop else stripped)
    return kept


def terms(text: str, language: str | None, stop_words: StopWords) -> frozenset[str]:
    sequence = words(text, language, stop_words)
    found = {w for w in sequence if w}
    found.update(f"{a} {b}" for a, b in zip(sequence, sequence[1:], strict=False) if a and b and a != b)
    return frozenset(found)


def _z(support: int, total: int, background_support: int, background_total: int) -> float:
    a, b = support + 0.5, total - support + 0.5
    c, d = background_support + 0.5, background_total - background_support + 0.5
    return (math.log(a / b) - math.log(c / d)) / math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)


def shared_themes(incident: Sequence[Text], background: Iterable[Text], stop_words: StopWords, limit: int = 5,
                  min_support: int = 3, min_share: float = 0.15, min_score: float = 2.5) -> list[Theme]:
    """The terms the incident's texts share most, against the brand's usual complaints, best first.

    A term needs at least `min_support` texts, `min_share` of the incident's texts and a z-score of at least
    `min_score` (in standard errors: a term no more common than usual is not a theme)."""
    incident_counts: Counter[str] = Counter()
    languages_of: dict[str, set[str | None]] = {}
    for item in incident:
        for term in terms(item.text, item.language, stop_words):
            incident_counts[term] += 1
            languages_of.setdefault(term, set()).add(item.language)
    texts_in = Counter(item.language for item in incident)
    needed = max(min_support, math.ceil(min_share * len(incident)))
    candidates = {term for term, n in incident_counts.items() if n >= needed}
    # A word can only be shared by texts of its own language: its share is among those.
    out_of = {term: sum(texts_in[language] for language in languages_of[term]) for term in candidates}
    background_counts: Counter[str] = Counter()
    background_total = 0
    for item in background:
        background_total += 1
        background_counts.update(terms(item.text, item.language, stop_words) & candidates)
    scored = sorted(
        (Theme(term, incident_counts[term],
               _z(incident_counts[term], out_of[term], background_counts[term], background_total))
         for term in candidates),
        key=lambda theme: (-theme.score, -theme.support, theme.term))
    chosen: list[Theme] = []
    for theme in scored:
        if len(chosen) == limit or theme.score < min_score:
            break
        if any(_covers(phrase, theme) for phrase in chosen):
            continue
        chosen = [c for c in chosen if not _covers(theme, c)]
        chosen.append(theme)
    return chosen


def _covers(phrase: Theme, word: Theme) -> bool:
    """A phrase stands for one of its words when it is nearly as common in the incident."""
    return " " in phrase.term and " " not in word.term and word.term in phrase.term.split(" ") \
        and phrase.support >= 0.8 * word.support
