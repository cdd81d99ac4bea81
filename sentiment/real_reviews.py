"""Real customer reviews with star ratings, from the shared fixtures, as a weakly labelled set.

    python -m sentiment.real_reviews    # how many reviews each split holds, per language and stars

The recorded Trustpilot, App Store, Google Play and schema.org pages in `<shared>/fixtures/` are parsed
by the project's own spiders. 1-2 stars count as a complaint, 5 stars as none; 3 and 4 stars are
reported, not scored. Reviews without text (some recipe pages carry only a rating) are left out.

The split is fixed by the sha256 of each review's stable id, whatever the order of the files:
a quarter "train", a quarter "dev", half "test". The test split is never trained or tuned on.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler

from sentiment.corpus import Example
from sentiment.language import detect_languages
from spiders.items import MentionItem
from spiders.registry import SPIDERS
from spiders.spiders.base import STAT_FAILURE_REASON, STAT_PARSE_FAILURES

REPO = Path(__file__).resolve().parents[1]
SHARED_ENV = "REVIEW_WATCH_SHARED"
SPLITS = ("train", "dev", "test")
# sha256(id) mod 4 -> split: a quarter train, a quarter dev, half test.
_SPLIT_OF_QUARTER = ("train", "dev", "test", "test")


class FixturesNotFound(ValueError):
    """The shared fixtures folder is not where it should be; the message is one line."""


@dataclass(frozen=True)
class RealReview:
    id: str  # "<platform>:<platform id>", or "<platform>:<hash of file, author, date, text>" where none
    source: str  # the fixture file, relative to the fixtures folder
    platform: str  # trustpilot | appstore | googleplay | schemaorg
    title: str | None
    text: str
    stars: int  # 1..5
    language: str | None  # the platform's, else detected
    split: str  # train | dev | test


@dataclass(frozen=True)
class _Fixture:
    """How a folder's recorded pages are fed to a spider: which files, under which URLs."""

    platform: str
    pattern: str
    html: bool
    start_url: Callable[[str], str]  # file name -> the URL the spider is started with
    page_url: Callable[[str], str] | None = None  # file name -> the URL the page answers; default start_url


def _first(pattern: str, name: str, default: str) -> str:
    found = re.search(pattern, name)
    return found.group(1) if found else default


def _trustpilot_url(name: str) -> str:
    domain = _first(r"^review_([^_]+)_", name, "example.com")
    return f"https://www.trustpilot.com/review/{domain}?languages=all"


def _app_store_url(name: str) -> str:
    app = _first(r"(\d{6,})", name, "1")
    if name.startswith("amp-api"):
        return f"https://amp-api.apps.apple.com/v1/catalog/us/apps/{app}/reviews"
    return f"https://itunes.apple.com/us/rss/customerreviews/id={app}/json"


def _google_play_url(name: str) -> str:
    return f"https://play.google.com/store/apps/details?id={_first(r'reviews_(.+?)_', name, 'app')}&hl=en"


def _batchexecute_url(name: str) -> str:
    return "https://play.google.com/_/PlayStoreUi/data/batchexecute?rpcids=UsvDTd&hl=en"


def _schema_org_url(name: str) -> str:
    site = _first(r"^[a-z]+_([^_]+)_", name, "example.com")
    return f"https://{site}/{name.removesuffix('.html')}"


_FIXTURES = {
    "trustpilot": _Fixture("trustpilot", "*.html", True, _trustpilot_url),
    "app_store": _Fixture("appstore", "*.json", False, _app_store_url),
    "google_play": _Fixture("googleplay", "*.txt", False, _google_play_url, _batchexecute_url),
    "schema_org": _Fixture("schemaorg", "*.html", True, _schema_org_url),
}


def shared_dir() -> Path:
    """The shared folder: $REVIEW_WATCH_SHARED, else the folder next to the repository."""
    return Path(os.environ.get(SHARED_ENV) or REPO.parent / "shared").resolve()


def _items(fixture: _Fixture, path: Path) -> list[MentionItem]:
    """What the platform's spider yields for one recorded page, run through its parse callback."""
    spider_class = SPIDERS[fixture.platform]
    crawler = get_crawler(spider_class, {"LOG_ENABLED": False})
    start_url = fixture.start_url(path.name)
    spider = spider_class.from_crawler(crawler, source=f"real-{fixture.platform}", url=start_url)
    url = fixture.page_url(path.name) if fixture.page_url else start_url
    response = (HtmlResponse if fixture.html else TextResponse)(url=url, body=path.read_bytes(), encoding="utf-8")
    items = [out for out in spider.parse(response) if isinstance(out, MentionItem)]
    stats = crawler.stats
    assert stats is not None
    if stats.get_value(STAT_PARSE_FAILURES):
        raise ValueError(f"{path}: {stats.get_value(STAT_FAILURE_REASON)}")
    return items


def _stars(rating: float, rating_max: float | None) -> int:
    """A rating on a 1..5 scale: rating / max * 5, rounded half up."""
    scaled = rating / (rating_max or 5.0) * 5.0
    return min(5, max(1, int(scaled + 0.5)))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def split_of(review_id: str) -> str:
    return _SPLIT_OF_QUARTER[int(_digest(review_id)[:8], 16) % 4]


def load_real_reviews(shared: Path | None = None) -> list[RealReview]:
    """Every review with a star rating and some text in the shared fixtures, each once."""
    fixtures = (shared or shared_dir()) / "fixtures"
    if not fixtures.is_dir():
        raise FixturesNotFound(f"no shared fixtures folder at {fixtures} (set {SHARED_ENV})")
    found: list[tuple[str, str, MentionItem]] = []  # (id, source, item)
    seen: set[str] = set()
    for folder, fixture in _FIXTURES.items():
        for path in sorted((fixtures / folder).glob(fixture.pattern)):
            source = f"{folder}/{path.name}"
            for item in _items(fixture, path):
                if item.rating is None or not (item.text or item.title):
                    continue
                published = item.published_at.isoformat() if item.published_at else ""
                content = _digest(source, item.author or "", published, item.text)
                # schema.org reviews without an id of their own get a hash in place of one ("sha1:...").
                own_id = None if item.external_id.startswith("sha1:") else item.external_id
                review_id = f"{fixture.platform}:{own_id or content[:20]}"
                if review_id in seen or content in seen:  # a page may carry a review twice
                    continue
                seen.update((review_id, content))
                found.append((review_id, source, item))
    unsaid = [_joined(item.title, item.text) for _, _, item in found if not item.language]
    detected = iter(detect_languages(unsaid, [None] * len(unsaid)) if unsaid else [])
    reviews = []
    for review_id, source, item in found:
        language = item.language or next(detected)
        reviews.append(RealReview(
            id=review_id, source=source, platform=item.source_type, title=item.title, text=item.text,
            stars=_stars(item.rating or 0.0, item.rating_max),
            language="no" if language == "nb" else language,  # lingua says nb, platforms no
            split=split_of(review_id),
        ))
    return reviews


def _joined(title: str | None, text: str) -> str:
    """Title and text as the classifier reads them."""
    return f"{title}. {text}" if title else text


def in_split(reviews: Sequence[RealReview], split: str) -> list[RealReview]:
    """The reviews of one split, or all of them for "all"."""
    if split not in (*SPLITS, "all"):
        raise ValueError(f"unknown split {split!r}: use one of {', '.join((*SPLITS, 'all'))}")
    return [r for r in reviews if split in ("all", r.split)]


def real_review_examples(split: str, shared: Path | None = None) -> list[Example]:
    """Training examples from one split: 1-2 stars "negative", 5 stars "positive", 3-4 stars left out.
    The text is title and text together, with no rating, as a social post is judged."""
    if split == "test":
        raise ValueError("the real reviews' test split is held out: never trained or tuned on")
    return [
        Example(_joined(r.title, r.text), "negative" if r.stars <= 2 else "positive", "real_reviews",
                language=r.language or "und")
        for r in in_split(load_real_reviews(shared), split)
        if r.stars != 3 and r.stars != 4
    ]


def _rate(hits: int, n: int) -> str:
    return f"{hits / n:.3f}" if n else "-"


def real_review_report(reviews: Sequence[RealReview], flagged: Sequence[bool]) -> list[str]:
    """Per language and overall: 1-2 star reviews and the share flagged (recall), 5 star reviews and the
    share flagged (false alarms), and for 3 and 4 stars the share flagged (reported, not scored)."""
    if len(reviews) != len(flagged):
        raise ValueError(f"{len(reviews)} reviews but {len(flagged)} judgements")
    lines = [f"{'language':<9}{'1-2*':>6}{'recall':>8}{'5*':>6}{'false alarms':>14}"
             f"{'3*':>6}{'flagged':>9}{'4*':>6}{'flagged':>9}"]

    def row(name: str, subset: list[int]) -> str:
        counts: Counter[tuple[str, bool]] = Counter()
        for i in subset:
            stars = reviews[i].stars
            bucket = "low" if stars <= 2 else str(stars)
            counts[bucket, flagged[i]] += 1
        n = {bucket: counts[bucket, True] + counts[bucket, False] for bucket in ("low", "3", "4", "5")}
        return (f"{name:<9}{n['low']:>6}{_rate(counts['low', True], n['low']):>8}"
                f"{n['5']:>6}{_rate(counts['5', True], n['5']):>14}"
                f"{n['3']:>6}{_rate(counts['3', True], n['3']):>9}"
                f"{n['4']:>6}{_rate(counts['4', True], n['4']):>9}")

    by_language = Counter(r.language or "?" for r in reviews)
    for language, _ in sorted(by_language.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(row(language, [i for i, r in enumerate(reviews) if (r.language or "?") == language]))
    lines.append(row("overall", list(range(len(reviews)))))
    return lines


def misjudged(review: RealReview, flagged: bool) -> bool:
    """A 1-2 star review not flagged, or a 5 star review flagged."""
    return (review.stars <= 2 and not flagged) or (review.stars == 5 and flagged)


def split_counts(reviews: Sequence[RealReview]) -> list[str]:
    """Per split and language: how many reviews of 1-2, 3, 4 and 5 stars."""
    lines = [f"{'split':<7}{'language':<9}{'1-2*':>6}{'3*':>5}{'4*':>5}{'5*':>5}"]
    for split in SPLITS:
        members = [r for r in reviews if r.split == split]
        languages = sorted(Counter(r.language or "?" for r in members).items(), key=lambda kv: (-kv[1], kv[0]))
        for language in [name for name, _ in languages] + ["all"]:
            stars = Counter(r.stars for r in members if language in ("all", r.language or "?"))
            lines.append(f"{split:<7}{language:<9}{stars[1] + stars[2]:>6}{stars[3]:>5}{stars[4]:>5}{stars[5]:>5}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sentiment.real_reviews", description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, help=f"the shared folder (default ${SHARED_ENV} or ../shared)")
    args = parser.parse_args(argv)
    try:
        reviews = load_real_reviews(args.shared)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(reviews)} real reviews with text and stars")
    print("\n".join(split_counts(reviews)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
