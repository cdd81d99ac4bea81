"""The bot's own words in English and Russian: ``t(key, lang, **values)``, English when a language lacks one."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"


@cache
def catalogue(lang: str) -> dict[str, Any]:
    path = LOCALES_DIR / f"{lang}.json"
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def languages() -> list[str]:
    return sorted(p.stem for p in LOCALES_DIR.glob("*.json"))


def normalise(lang: str | None) -> str:
    """``ru-RU`` -> ``ru``; an unknown or missing language -> English."""
    base = (lang or "").split("-")[0].split("_")[0].lower()
    return base if base in languages() else DEFAULT_LANGUAGE


def plural_form(lang: str, count: int) -> str:
    """CLDR plural category of an integer count (English and Russian rules; others use English)."""
    n = abs(count)
    if lang == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    return "one" if n == 1 else "other"


def t(key: str, lang: str | None = None, **values: Any) -> str:
    """The message ``key`` in ``lang`` with ``values`` filled in; plural entries choose by ``count``."""
    code = normalise(lang)
    entry = catalogue(code).get(key)
    if entry is None:
        code, entry = DEFAULT_LANGUAGE, catalogue(DEFAULT_LANGUAGE).get(key)
    if entry is None:
        raise KeyError(f"no message {key!r} in the catalogues")
    if isinstance(entry, dict):
        forms: dict[str, str] = entry
        form = plural_form(code, int(values["count"]))
        entry = forms.get(form) or forms["other" if "other" in forms else "many"]
    text: str = entry.format(**values)
    return text
