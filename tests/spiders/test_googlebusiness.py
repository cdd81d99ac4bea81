"""The googlebusiness source type: the real `scrapy crawl` reads a stand-in location's reviews through the
Business Profile API over loopback (a service account's JWT grant, then reviews.list paged by nextPageToken)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.platform_standins.google_business import GoogleBusinessStandIn, Review

pytestmark = pytest.mark.slow  # a stand-in on loopback and a crawl in a subprocess

LOCATION = "accounts/1090/locations/5577"
EMAIL = "reader@acme-reviews.iam.gserviceaccount.com"
REVIEWS = [  # newest first, as reviews.list orders them with orderBy=updateTime desc
    Review("r5", 1, "Waited forty minutes at the counter.", create_time="2026-12-03T09:00:00Z"),
    Review("r4", 2, "Cold coffee.\n\nAgain.", anonymous=True, create_time="2026-12-02T09:00:00Z"),
    Review("r3", 5, None, create_time="2026-11-30T09:00:00Z"),  # stars only, no text
    Review("r2", 0, "No stars given, just words.", create_time="2026-11-29T09:00:00Z"),
    Review("r1", 3, "Fine, we answered this one.", create_time="2026-11-28T09:00:00Z",
           update_time="2026-11-28T10:00:00Z", reply={"comment": "Thanks!", "updateTime": "2026-11-29T08:00:00Z"}),
]


@pytest.fixture
def standin() -> Iterator[GoogleBusinessStandIn]:
    server = GoogleBusinessStandIn(page_limit=2)  # five reviews over three pages
    server.start()
    for review in REVIEWS:
        server.add_review(LOCATION, review)
    yield server
    server.stop()


def crawl(standin: GoogleBusinessStandIn, key_file: Path, out: Path) -> tuple[list[dict[str, Any]], str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("REVIEW_WATCH_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "googlebusiness", "-a", "source=acme-google",
         "-a", f"url={standin.url}/v4/{LOCATION}/reviews", "-a", "brand=Acme", "-a", f"key_file={key_file}",
         "-a", f"token_url={standin.token_url}", "-O", str(out), "-s", "DOWNLOAD_DELAY=0",
         "-s", "AUTOTHROTTLE_ENABLED=False"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    items = json.loads(out.read_text(encoding="utf-8")) if out.exists() and out.stat().st_size else []
    return items, done.stderr


def test_a_location_s_reviews_are_crawled_over_every_page(standin: GoogleBusinessStandIn, tmp_path: Path) -> None:
    key_file = tmp_path / "reader.json"
    key_file.write_text(json.dumps(standin.add_account(EMAIL, {LOCATION})), encoding="utf-8")
    items, _ = crawl(standin, key_file, tmp_path / "items.json")
    assert [item["external_id"] for item in items] == [f"{LOCATION}/reviews/r{n}" for n in (5, 4, 3, 2, 1)]
    assert [item["rating"] for item in items] == [1.0, 2.0, 5.0, None, 3.0]
    assert [item["rating_max"] for item in items] == [5.0, 5.0, 5.0, None, 5.0]
    assert [item["author"] for item in items] == ["Sam Doe", None, "Sam Doe", "Sam Doe", "Sam Doe"]
    assert [item["text"] for item in items] == [
        "Waited forty minutes at the counter.", "Cold coffee.\n\nAgain.", "", "No stars given, just words.",
        "Fine, we answered this one."]
    assert items[4]["published_at"].startswith("2026-11-28T10:00:00")  # the edit's time, not the first one's
    assert items[4]["raw"]["reviewReply"]["comment"] == "Thanks!"  # the reply already there, kept with the record
    assert {item["source_type"] for item in items} == {"googlebusiness"}
    assert [q.get("pageToken") for q in standin.list_requests] == [None, "2", "4"]
    assert standin.rejections == []


def test_a_key_the_token_endpoint_refuses_is_one_line(standin: GoogleBusinessStandIn, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger.json"  # a well-formed key of an account the platform does not know
    stranger.write_text(json.dumps(GoogleBusinessStandIn().add_account("x@y.iam.gserviceaccount.com", set())),
                        encoding="utf-8")
    items, log = crawl(standin, stranger, tmp_path / "items.json")
    assert items == [] and standin.list_requests == []
    assert "acme-google: cannot fetch" in log and "Traceback" not in log
    missing = tmp_path / "missing.json"
    items, log = crawl(standin, missing, tmp_path / "items2.json")
    assert items == [] and f"acme-google: cannot read the service account key {missing}" in log
    assert "Traceback" not in log
