"""A page that carries each review twice (two JSON-LD blocks, JSON-LD and microdata) stores each review once:
the same mentions, export and cases as the page that carries each review once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.crawl.support import counts, crawl_config, export, summary_lines
from tests.spiders.fixture_server import FixtureServer, Reply
from tests.spiders.fixture_sources import Source
from tests.support.cli import review_watch
from tests.support.pages import Review, schema_org_page

HTML = "text/html; charset=utf-8"
REVIEWS = [
    Review("r1", 1, "The kettle broke after a week. Terrible.", title="Broken", author="Maja",
           published="2026-11-20T08:00:00.000Z"),
    # Three people's "Great!": the same text, told apart by author or date.
    Review("r2", 5, "Great!", title="Great", author="Olle", published="2026-11-19T10:00:00.000Z"),
    Review("r3", 5, "Great!", title="Great", author="Sara", published="2026-11-19T10:00:00.000Z"),
    Review("r4", 5, "Great!", title="Great", author="Olle", published="2026-11-18T09:00:00.000Z"),
]
SHAPES = [  # (the shapes of the page that carries each review twice, whether reviews carry ids)
    (["jsonld", "jsonld"], False),
    (["jsonld", "jsonld"], True),
    (["jsonld", "microdata"], False),
    (["jsonld", "microdata"], True),  # the ids differ between the two: "...#review-r1" and "r1"
    (["microdata", "microdata"], True),
]
IDS = [f"{'-'.join(shapes)}{'-ids' if ids else ''}" for shapes, ids in SHAPES]
# What differs between two sources however alike their pages: the row, the source, its page and brand, who
# got the case and when it arrived.
PER_SOURCE = {"id", "source", "url", "brand", "assignee", "deadline"}


def source(name: str, shapes: list[str], ids: bool, server: FixtureServer) -> Source:
    server.routes[f"/{name}/acme-kettle"] = Reply(schema_org_page(REVIEWS, shapes, ids), HTML)
    return Source(name, "schemaorg", f"/{name}/acme-kettle", (), brand=name)  # a brand each: no cross-posts


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], list[dict[str, Any]]]]:
    """One crawl of every shape, each beside the page of its first shape alone."""
    directory = tmp_path_factory.mktemp("repeated")
    with FixtureServer() as server:
        server.routes["/robots.txt"] = Reply(b"User-agent: *\nAllow: /\n", "text/plain")
        sources = []
        for name, (shapes, ids) in zip(IDS, SHAPES, strict=True):
            sources += [source(f"once-{name}", shapes[:1], ids, server), source(f"twice-{name}", shapes, ids, server)]
        config = crawl_config(directory, f"sqlite:///{directory / 'rw.db'}", server, sources,
                              brands=[(s.brand or "", [s.brand or ""], []) for s in sources])
        run = review_watch("crawl", config=config)
        assert "Traceback" not in run.stderr
        yield summary_lines(run.stdout), export(config)


def rows_of(rows: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    return sorted(({k: v for k, v in row.items() if k not in PER_SOURCE} for row in rows if row["source"] == source),
                  key=lambda row: (row["published_at"], row["author"]))


@pytest.mark.parametrize("name", IDS)
def test_a_page_with_every_review_twice_stores_what_the_page_with_each_once_does(
        crawled: tuple[dict[str, str], list[dict[str, Any]]], name: str) -> None:
    lines, rows = crawled
    once, twice = rows_of(rows, f"once-{name}"), rows_of(rows, f"twice-{name}")
    assert [(row["author"], row["text"]) for row in twice] == [
        ("Olle", "Great!"), ("Olle", "Great!"), ("Sara", "Great!"), ("Maja", REVIEWS[0].text)]
    assert twice == once
    assert counts(lines[f"twice-{name}"]) == counts(lines[f"once-{name}"]) == {
        "new": 4, "duplicate": 0, "updated": 0, "failed": 0, "pages": 1}
    # One case for the one complaint, as on the page that carries it once.
    assert [row["status"] for row in twice if row["status"] != "none"] == ["assigned"]
