"""Which configured brand a social post or feed entry talks about, if any."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, kana, CJK, Hangul): an alias
# in them matches as a plain substring, and their letters count as word boundaries for other aliases.
_NO_SPACE_RANGES = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
)
_NO_SPACE_SCRIPTS = re.compile(f"[{_NO_SPACE_RANGES}]")
_WORD_BEFORE = f"(?<![^\\W{_NO_SPACE_RANGES}])"  # not preceded by a letter or digit of a spaced script
_WORD_AFTER = f"(?![^\\W{_NO_SPACE_RANGES}])"
# Short words that Hebrew and Arabic write joined to the next one ("and", "the", "in", "to" ...).
_HEBREW = re.compile("[\u0590-\u05ff]")
_HEBREW_PREFIXES = "(?:[\u05d5\u05d4\u05d1\u05db\u05dc\u05de\u05e9]{0,3})"
_ARABIC = re.compile("[\u0600-\u06ff]")
_ARABIC_PREFIXES = "(?:[\u0648\u0641]?[\u0628\u0644\u0643]?(?:\u0627\u0644)?)"

BrandSpec = tuple[str, Sequence[str], Sequence[str]]  # name, aliases, exclusions


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def brand_key(name: str) -> str:
    """What makes two brand names one brand, wherever names are compared: "acme" is "Acme"."""
    return _normalise(name.strip())


def covers_brand(brands: Iterable[str] | None, brand: str) -> bool:
    """Whether a staff member's brand list (None: every brand) takes in `brand`."""
    return brands is None or brand_key(brand) in {brand_key(b) for b in brands}


def _pattern(phrase: str) -> re.Pattern[str]:
    """A phrase as a whole word (or words): no letter or digit of a spaced script may touch it."""
    phrase = _normalise(phrase.strip())
    body = r"\s+".join(re.escape(word) for word in phrase.split())
    if _NO_SPACE_SCRIPTS.search(phrase):
        return re.compile(body)
    prefix = ""
    if _HEBREW.match(phrase):
        prefix = _HEBREW_PREFIXES
    elif _ARABIC.match(phrase):
        prefix = _ARABIC_PREFIXES
    return re.compile(f"{_WORD_BEFORE}{prefix}{body}{_WORD_AFTER}")


@dataclass(frozen=True)
class _Brand:
    name: str
    aliases: tuple[re.Pattern[str], ...]
    exclusions: tuple[re.Pattern[str], ...]


class BrandMatcher:
    """Finds the configured brands whose aliases occur in a text and whose exclusions do not.

    Matching ignores case and Unicode width/compatibility forms, and respects word boundaries in
    any script; aliases in scripts written without spaces (CJK, Thai ...) match as substrings.
    A brand with no aliases is matched by its name.
    """

    def __init__(self, brands: Sequence[BrandSpec]) -> None:
        self._brands = tuple(
            _Brand(
                name=name,
                aliases=tuple(_pattern(alias) for alias in (aliases or [name]) if alias.strip()),
                exclusions=tuple(_pattern(phrase) for phrase in excludes if phrase.strip()),
            )
            for name, aliases, excludes in brands
        )

    @property
    def brand_names(self) -> tuple[str, ...]:
        return tuple(brand.name for brand in self._brands)

    def matches(self, title: str | None, text: str | None) -> list[str]:
        """The names of every brand mentioned in title or text, in the order they were configured."""
        haystack = _normalise(f"{title or ''}\n{text or ''}")
        return [brand.name for brand in self._brands
                if any(p.search(haystack) for p in brand.aliases)
                and not any(p.search(haystack) for p in brand.exclusions)]
