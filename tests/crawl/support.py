"""Helpers for the `review-watch crawl` tests: configs over the loopback fixtures, export, summary lines."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.spiders.fixture_server import FixtureServer
from tests.spiders.fixture_sources import Source
from tests.support.cli import review_watch
from tests.support.configs import source_block, write_config

# Brands beyond the base config's Acme, chosen so that most social and feed fixtures mention one.
BrandSpec = tuple[str, list[str], list[str]]  # name, aliases, exclusions
BRANDS: list[BrandSpec] = [
    ("Trump", ["Trump", "Трамп"], ["Trump Tower"]),
    ("Apple", ["Apple", "iPhone"], []),
    ("Reddit", ["Reddit"], []),  # not "subreddit": a word that merely contains the alias
    ("Netflix", ["Netflix"], []),
    ("GitHub", ["GitHub"], []),
    ("Microsoft", ["Microsoft"], []),
    ("Ibope", ["Ibope"], []),
    ("Hoot", ["hoot"], []),
]
BASE_BRANDS: list[BrandSpec] = [("Acme", ["Acme", "acme.com", "Акме"], [])]  # as in tests/support/configs.py


def brands_toml(brands: list[BrandSpec]) -> str:
    return "".join(f"\n[[brands]]\nname = {json.dumps(name)}\naliases = {json.dumps(aliases, ensure_ascii=False)}\n"
                   f"exclude = {json.dumps(exclude)}\n" for name, aliases, exclude in brands)


def crawl_config(directory: Path, database_url: str, server: FixtureServer, sources: list[Source], *,
                 crawl: dict[str, Any] | None = None, brands: list[BrandSpec] | None = None
                 ) -> Path:
    """A config with the given sources on the loopback server; `crawl` adds keys to the [crawl] table."""
    blocks = "".join(source_block(s.name, s.type, server.url(s.path), s.brand) for s in sources)
    path = write_config(directory, database_url=database_url, sources=blocks, extra=brands_toml(brands or []))
    keys = "".join(f"{key} = {json.dumps(value)}\n" for key, value in (crawl or {}).items())
    text = path.read_text(encoding="utf-8")
    assert text.count("[crawl]\n") == 1
    path.write_text(text.replace("[crawl]\n", "[crawl]\n" + keys), encoding="utf-8")
    return path


def export(config: Path) -> list[dict[str, Any]]:
    out = review_watch("export", "--format", "jsonl", config=config).stdout
    return [json.loads(line) for line in out.splitlines()]


def summary_lines(stdout: str) -> dict[str, str]:
    """The crawl's per-source summary: source name -> the rest of its line."""
    lines: dict[str, str] = {}
    for line in stdout.splitlines():
        found = re.match(r"([\w.-]+): (\d+ new, .*|skipped \(.*\))$", line)
        if found:
            lines[found.group(1)] = found.group(2)
    return lines


def counts(line: str) -> dict[str, int]:
    return {word: int(number) for number, word in re.findall(r"(\d+) (new|duplicate|updated|failed|pages)", line)}


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def log_time(stderr: str, pattern: str) -> datetime:
    """The timestamp of the first log line matching pattern."""
    found = re.search(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*" + pattern, stderr, re.M)
    assert found, f"no log line matches {pattern!r}"
    return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f")
