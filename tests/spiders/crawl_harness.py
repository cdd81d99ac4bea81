"""Runs one in-process Scrapy crawl of the given sources and writes what came out, for the tests.

    python -m tests.spiders.crawl_harness SPEC.json OUT_DIR

SPEC: {"sources": [{"name", "type", "url", "brand", "known_ids", "brands"?}], "settings": {...}}.
A source's "brands" ([{"name", "aliases", "exclude"}]) becomes the spider's brand_matcher, as the
crawl runner does it.
OUT_DIR receives items.jsonl (one item per line, "raw" replaced by its key count) and stats.json
(per source: Scrapy's stats collector dump).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess

from review_watch.domain.brand_matching import BrandMatcher
from spiders.filters import brand_specs
from spiders.items import MentionItem
from spiders.settings import crawler_settings

OUT_SETTING = "HARNESS_ITEMS_PATH"


class JsonLinesPipeline:
    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JsonLinesPipeline:
        return cls(crawler.settings.get(OUT_SETTING))

    def process_item(self, item: MentionItem) -> MentionItem:
        record = dataclasses.asdict(item)
        record["raw"] = len(item.raw)
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record, default=_json_default, ensure_ascii=False) + "\n")
        return item


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return "NAIVE:" + value.isoformat()
        return value.isoformat()
    raise TypeError(type(value).__name__)


def main(spec_path: str, out_dir: str) -> None:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    out = Path(out_dir)
    items_path = out / "items.jsonl"
    items_path.write_text("", encoding="utf-8")
    settings = crawler_settings(**spec.get("settings", {}))
    settings[OUT_SETTING] = str(items_path)
    settings["ITEM_PIPELINES"] = {**settings["ITEM_PIPELINES"], __name__ + ".JsonLinesPipeline": 900}
    process = CrawlerProcess(settings)
    crawlers: dict[str, Crawler] = {}
    for source in spec["sources"]:
        crawler = process.create_crawler(source["type"])  # found by Scrapy's spider loader, as the runner does
        crawlers[source["name"]] = crawler
        extra = {}
        if "brands" in source:
            extra["brand_matcher"] = BrandMatcher(brand_specs(source["brands"]))
        process.crawl(
            crawler,
            source=source["name"],
            url=source["url"],
            brand=source.get("brand"),
            known_ids=frozenset(source.get("known_ids", [])),
            **extra,
        )
    process.start()
    stats = {name: crawler.stats.get_stats() for name, crawler in crawlers.items() if crawler.stats}
    (out / "stats.json").write_text(json.dumps(stats, default=str, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
