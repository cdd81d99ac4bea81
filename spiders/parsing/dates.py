"""Dates as platforms write them, to timezone-aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz

# Month and weekday names in the languages feeds are written in, to their English RFC 822 forms.
_MONTHS = {
    "jan": ["jan", "janv", "ene", "gen", "jän", "янв"],
    "feb": ["feb", "fev", "fév", "févr", "fevr", "fébr", "фев"],
    "mar": ["mar", "mär", "mars", "maart", "мар"],
    "apr": ["apr", "abr", "avr", "apr", "апр"],
    "may": ["may", "mai", "mag", "mei", "maj", "mayo", "мая", "май"],
    "jun": ["jun", "juin", "giu", "jun", "июн"],
    "jul": ["jul", "juil", "lug", "июл"],
    "aug": ["aug", "ago", "août", "aou", "aoû", "авг"],
    "sep": ["sep", "set", "sept", "сен"],
    "oct": ["oct", "out", "okt", "ott", "окт"],
    "nov": ["nov", "ноя"],
    "dec": ["dec", "dez", "dic", "déc", "des", "дек"],
}
_MONTH_ALIASES = {alias: english for english, aliases in _MONTHS.items() for alias in aliases}
_WEEKDAY_PREFIX = re.compile(r"^\s*[^\W\d_]+\.?,\s*")
_WORD = re.compile(r"[^\W\d_]+\.?")
_OFFSET_WITHOUT_COLON = re.compile(r"([+-]\d{2})(\d{2})$")


def parse_datetime(value: object) -> datetime | None:
    """Epoch seconds, ISO 8601 or RFC 822 (English or localised names) to an aware UTC datetime.

    A value without an offset is taken as UTC. Unparseable values give None.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return _from_epoch(float(text))
    return _parse_iso(text) or _parse_rfc822(text)


def _from_epoch(seconds: float) -> datetime | None:
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _parse_iso(text: str) -> datetime | None:
    candidate = text.replace("Z", "+00:00").replace("z", "+00:00")
    candidate = _OFFSET_WITHOUT_COLON.sub(r"\1:\2", candidate)
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    return _as_utc(parsed)


def _parse_rfc822(text: str) -> datetime | None:
    without_weekday = _WEEKDAY_PREFIX.sub("", text)
    english = _WORD.sub(lambda m: _english_word(m.group(0)), without_weekday)
    parts = parsedate_tz(english)
    if parts is None:
        return None
    year, month, day, hour, minute, second = parts[:6]
    try:
        naive = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    offset = parts[9] or 0
    return naive.replace(tzinfo=timezone(timedelta(seconds=offset))).astimezone(UTC)


def _english_word(word: str) -> str:
    key = word.rstrip(".").lower()
    if key in _MONTH_ALIASES:
        return _MONTH_ALIASES[key]
    for length in (4, 3):
        if key[:length] in _MONTH_ALIASES:
            return _MONTH_ALIASES[key[:length]]
    return word


def _as_utc(parsed: datetime) -> datetime:
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
