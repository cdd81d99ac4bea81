"""Language detection for routing, restricted to the languages customers write in (faster, fewer mix-ups)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

LANGUAGES = (
    Language.ENGLISH,
    Language.RUSSIAN,
    Language.ARABIC,
    Language.HEBREW,
    Language.SWEDISH,
    Language.GERMAN,
    Language.SPANISH,
    Language.FRENCH,
    Language.UKRAINIAN,
    Language.POLISH,
    Language.ITALIAN,
    Language.PORTUGUESE,
    Language.DUTCH,
    Language.TURKISH,
    Language.FINNISH,
    Language.DANISH,
    Language.BOKMAL,
)
# lingua names Norwegian Bokmål "nb"; platforms usually say "no".
_ISO = {language: language.iso_code_639_1.name.lower() for language in LANGUAGES}
SUPPORTED = frozenset(_ISO.values()) | {"no"}
MIN_CONFIDENCE = 0.5


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*LANGUAGES).with_preloaded_language_models().build()


def preload() -> None:
    """Load the language models now (a few seconds) rather than on the first texts."""
    _detector()


def detect_languages(texts: Sequence[str], hints: Sequence[str | None]) -> list[str | None]:
    """ISO 639-1 per text: lingua's answer when it is confident, else the platform's hint."""
    all_confidences = _detector().compute_language_confidence_values_in_parallel(list(texts))  # on every core
    results: list[str | None] = []
    for text, hint, confidences in zip(texts, hints, all_confidences, strict=True):
        hint = hint.lower()[:2] if hint else None
        if not text.strip():
            confidences = []
        if confidences and confidences[0].value >= MIN_CONFIDENCE:
            results.append(_ISO[confidences[0].language])
        elif hint:
            results.append(hint)
        else:
            results.append(_ISO[confidences[0].language] if confidences else None)
    return results
