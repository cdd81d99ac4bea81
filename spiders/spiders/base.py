"""What every Review Watch spider shares: construction, incremental paging and failure accounting."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import scrapy
from OpenSSL import SSL
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.log import SpiderLoggerAdapter
from twisted.python.failure import Failure

from review_watch.domain.brand_matching import BrandMatcher
from review_watch.domain.mentions import MentionItem
from spiders.parsing.encoding import decode_body

STAT_PAGES = "review_watch/pages"
STAT_ITEMS = "review_watch/items"
STAT_PARSE_FAILURES = "review_watch/parse_failures"
STAT_FETCH_FAILURES = "review_watch/fetch_failures"
STAT_FAILURE_REASON = "review_watch/failure_reason"
STAT_SKIPPED = "review_watch/skipped"  # removed or deleted posts, which carry no text
STAT_STOPPED_KNOWN = "review_watch/stopped_on_known_page"
STAT_NO_BRAND = "review_watch/no_brand"  # social posts that mention no brand the source watches
STAT_REPEATED = "review_watch/repeated"  # a review met again on the same crawl, not newer: not sent twice

MAX_PAGES_SETTING = "REVIEW_WATCH_MAX_PAGES"
# What a record of unexpected shape raises while an item is built from it.
RECORD_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)
Record = TypeVar("Record")


class ParseError(ValueError):
    """A page that does not have the shape its spider expects."""


@dataclass
class Page:
    items: list[MentionItem]
    next_request: Request | None = None
    skipped: int = 0  # records left out on purpose (removed, deleted)


class ReviewWatchSpider(scrapy.Spider):
    """Base of all spiders. Subclasses set name (Scrapy's spider name: the source type, so that
    `scrapy crawl trustpilot` finds it) and implement parse_page.

    Arguments (`scrapy crawl TYPE -a NAME=VALUE`): source (the source's name in the config), url (where its
    reviews start) and brand (a review site's brand; a social source's one watched brand). Given only
    source, the spider looks it up in the config (spiders.from_config). The crawl runner also passes
    known_ids (stop paging at a page of them) and may pass brand_matcher.
    """

    def __init__(
        self,
        source: str | None = None,
        url: str | None = None,
        brand: str | None = None,
        known_ids: Iterable[str] = frozenset(),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not source or not url:
            raise ValueError(f"{self.name}: give the source's name, and its url unless the config has it: "
                             f"scrapy crawl {self.name} -a source=NAME [-a url=URL] [-a brand=BRAND]")
        self.source_name = source
        self.start_url = url
        self.brand = brand
        self.known_ids = frozenset(known_ids)
        self.yielded: dict[str, MentionItem] = {}  # by external id: each review's version sent on this crawl
        self.pages_followed = 0
        # Set by the brand filter for social sources (or by the runner); None: every item is kept.
        self.brand_matcher: BrandMatcher | None = kwargs.get("brand_matcher")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        if kwargs.get("source") and not kwargs.get("url"):  # `scrapy crawl TYPE -a source=NAME`
            from spiders.from_config import configure_from_config  # the config only for spiders started so

            kwargs = configure_from_config(crawler, cls.name, kwargs)
        return super().from_crawler(crawler, *args, **kwargs)

    @property
    def source_type(self) -> str:
        return self.name

    @property
    def logger(self) -> SpiderLoggerAdapter:
        """Named after the source, not the spider: several sources of one type crawl side by side."""
        return SpiderLoggerAdapter(logging.getLogger(self.source_name), {"spider": self})

    async def start(self) -> AsyncIterator[Request]:
        yield self.first_request()

    def first_request(self) -> Request:
        return self.page_request(self.start_url)

    def page_request(self, url: str, **kwargs: Any) -> Request:
        return Request(url, callback=self.parse, errback=self.on_fetch_error, **kwargs)

    def parse_page(self, response: Response) -> Page:
        raise NotImplementedError

    def parse(self, response: Response, **kwargs: Any) -> Iterator[MentionItem | Request]:
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value(STAT_PAGES)
        try:
            page = self.parse_page(response)
        except Exception as exc:  # any parse error is recorded, never raised
            self.record_parse_failure(response.url, exc)
            return
        brings_new = False
        for item in newest_versions(page.items):
            before = self.yielded.get(item.external_id)
            if before is not None and not is_newer(item, before):
                stats.inc_value(STAT_REPEATED)  # already sent on this crawl, in this version or a newer one
                continue
            self.yielded[item.external_id] = item
            stats.inc_value(STAT_ITEMS)
            for kept in self.about_brands(item):
                if before is None and kept.external_id not in self.known_ids:
                    brings_new = True
                yield kept
        if page.skipped:
            stats.inc_value(STAT_SKIPPED, page.skipped)
        if page.next_request is None:
            return
        if not brings_new:
            stats.inc_value(STAT_STOPPED_KNOWN)
            self.logger.info("%s: stopping at %s: nothing new", self.source_name, response.url)
            return
        max_pages = self.crawler.settings.getint(MAX_PAGES_SETTING, 100)
        self.pages_followed += 1
        if self.pages_followed >= max_pages:
            self.logger.info("%s: stopping after %d pages", self.source_name, max_pages)
            return
        yield page.next_request

    def about_brands(self, item: MentionItem) -> list[MentionItem]:
        """The item once per brand it is about. Without a brand matcher (review sites) the item as it is;
        a social post once per brand it mentions, under its own id for the first brand (config order) and
        under "<id>#brand=<name>" for each further one, since each brand's team gets its own case."""
        if self.brand_matcher is None:
            return [item]
        brands = self.brand_matcher.matches(item.title, item.text)
        if not brands:
            stats = self.crawler.stats
            assert stats is not None
            stats.inc_value(STAT_NO_BRAND)  # the normal case on a social source: never stored
        return [dataclasses.replace(item, brand=brand, external_id=item.external_id if n == 0
                                    else f"{item.external_id}#brand={brand}") for n, brand in enumerate(brands)]

    def build_items(self, url: str, records: Iterable[Record],
                    build: Callable[[Record], MentionItem]) -> list[MentionItem]:
        """Items built from records; a record that cannot be read is counted and logged, the others kept."""
        items = []
        for record in records:
            try:
                items.append(build(record))
            except RECORD_ERRORS as exc:
                self.record_parse_failure(url, exc, what="a record on")
        return items

    def record_parse_failure(self, url: str, exc: BaseException, what: str = "") -> None:
        stats = self.crawler.stats
        assert stats is not None
        where = f"{what} {url}" if what else url
        reason = f"cannot parse {where}: {type(exc).__name__}: {_one_line(str(exc))}"
        stats.inc_value(STAT_PARSE_FAILURES)
        stats.set_value(STAT_FAILURE_REASON, reason)
        self.logger.error("%s: %s", self.source_name, reason)

    def on_fetch_error(self, failure: Failure) -> None:
        stats = self.crawler.stats
        assert stats is not None and failure.value is not None
        request = getattr(failure, "request", None)
        url = request.url if request is not None else self.start_url
        reason = f"cannot fetch {url}: {failure_reason(failure.value)}"
        stats.inc_value(STAT_FETCH_FAILURES)
        stats.set_value(STAT_FAILURE_REASON, reason)
        self.logger.error("%s: %s", self.source_name, reason)


def is_newer(item: MentionItem, than: MentionItem) -> bool:
    """Whether item is a later version of the same review, by the platform's own dates."""
    return item.published_at is not None and than.published_at is not None and item.published_at > than.published_at


def newest_versions(items: list[MentionItem]) -> list[MentionItem]:
    """One item per external id, the newest version where a page carries several (an edit history, or the
    same review in two places), in the order the ids first appear."""
    newest: dict[str, MentionItem] = {}
    for item in items:
        if item.external_id not in newest or is_newer(item, newest[item.external_id]):
            newest[item.external_id] = item
    return list(newest.values())


# Exceptions whose own message says what happened, in words a reader of the log understands.
_SELF_EXPLAINING = (CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError, IgnoreRequest)


def failure_reason(exc: BaseException) -> str:
    """Why a download failed, on one line."""
    if isinstance(exc, HttpError):
        return f"HTTP {getattr(exc.response, 'status', '?')}"
    cause = _cause(exc)
    if isinstance(cause, SSL.Error):
        details = cause.args[0] if cause.args and isinstance(cause.args[0], list) else []
        return "TLS handshake failed: " + ("; ".join(str(d[-1]) for d in details if isinstance(d, tuple) and d)
                                           or _one_line(str(cause)))
    if isinstance(exc, _SELF_EXPLAINING):
        return _one_line(str(exc)).rstrip(".") or type(exc).__name__
    return f"{type(cause).__name__}: {_one_line(str(cause)).rstrip('.')}"


def _cause(exc: BaseException) -> BaseException:
    """The error under Scrapy's and Twisted's wrappers (Twisted's HTTP client keeps its reasons as Failures)."""
    while True:
        reasons = [r.value for r in getattr(exc, "reasons", None) or () if isinstance(r, Failure) and r.value]
        if reasons:
            exc = reasons[0]
        elif exc.__cause__ is not None:
            exc = exc.__cause__
        else:
            return exc


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:300]


def response_charset(response: Response) -> str | None:
    """The charset the Content-Type header declares, if any."""
    found = re.search(rb"charset=[\"']?([\w.:-]+)", response.headers.get("Content-Type") or b"")
    return found.group(1).decode("ascii") if found else None


def response_text(response: Response) -> str:
    return decode_body(response.body, response_charset(response))


def response_json(response: Response) -> Any:
    """The JSON body; ParseError when it is not JSON."""
    try:
        return json.loads(response.body)
    except ValueError as exc:
        raise ParseError(f"invalid JSON: {exc}") from exc


_HTML_END = re.compile(r"</html\s*>(?:\s|<!--.*?-->)*$", re.IGNORECASE | re.DOTALL)


def require_complete_html(html: str) -> None:
    """ParseError unless the page ends with </html> (comments after it allowed): a cut-off download."""
    if not _HTML_END.search(html[-16384:]):
        raise ParseError("truncated page: no closing </html>")


def with_query(url: str, **params: str | int | None) -> str:
    """url with the given query parameters set (None removes one), others kept in order."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def query_value(url: str, name: str) -> str | None:
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key == name:
            return value
    return None


def dig(data: Any, *path: str | int) -> Any:
    """data[path[0]][path[1]]..., or None where any step is missing."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(data, list) or not -len(data) <= step < len(data):
                return None
        elif not isinstance(data, dict):
            return None
        data = data[step] if isinstance(step, int) else data.get(step)
    return data


def as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def language_code(value: Any) -> str | None:
    """The ISO 639-1 part of a language tag ("pt-BR" -> "pt"), or None."""
    if not isinstance(value, str):
        return None
    code = re.split(r"[-_]", value.strip(), maxsplit=1)[0].lower()
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None
