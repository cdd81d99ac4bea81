"""The format helpers on their own: dates, encodings, HTML to text, feeds, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scrapy.http import Request, Response
from scrapy.settings import Settings

from spiders.middlewares import BackoffRetryMiddleware, retry_after_seconds
from spiders.parsing.dates import parse_datetime
from spiders.parsing.encoding import decode_body, sniff_encoding
from spiders.parsing.feeds import FeedError, parse_feed
from spiders.parsing.text import html_to_text
from tests.spiders.fixture_sources import fixture

T = datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)

DATES = [
    ("Seg, 24 Set 2018 19:42:40 -0300", T),  # Portuguese (UOL)
    ("Mon, 24 Sep 2018 19:42:40 -0300", T),
    ("Mo, 24 Sep 2018 23:42:40 +0100", T),  # German weekday
    ("lun., 24 sept. 2018 22:42:40 GMT", T),  # French
    ("Lun, 24 Sep 2018 22:42:40 +0000", T),  # Spanish / Italian weekday
    ("24 Okt 2018 22:42:40 +0000", T.replace(month=10)),  # German / Dutch month
    ("Dom, 24 Dez 2018 22:42:40 Z", T.replace(month=12)),
    ("2018-09-24T19:42:40-03:00", T),
    ("2018-09-24T22:42:40.000Z", T),
    ("2018-09-24T22:42:40+0000", T),
    ("2018-09-24 22:42:40", T),  # no offset: UTC
    (1537828960, T),
    (1537828960000, T),  # milliseconds
    ("1537828960", T),
    ("2018-09-24", datetime(2018, 9, 24, tzinfo=UTC)),
    ("yesterday", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("value", "want"), DATES, ids=[str(d[0]) for d in DATES])
def test_parse_datetime(value: object, want: datetime | None) -> None:
    got = parse_datetime(value)
    assert got == want
    if got is not None:
        assert got.tzinfo is UTC


def test_encoding_sniffing() -> None:
    uol = fixture("rss/uol-noticias_rss2_pt-BR_iso-8859-1_2018.xml")
    assert sniff_encoding(uol) == "windows-1252"  # no declaration, not UTF-8
    assert "Últimas Notícias" in decode_body(uol)
    assert "Últimas Notícias" in decode_body(uol, "utf-8")  # a wrong header does not win over the bytes
    assert sniff_encoding('<?xml version="1.0" encoding="ISO-8859-1"?><rss/>'.encode("latin-1")) == "windows-1252"
    assert sniff_encoding("é".encode()) == "utf-8"
    assert decode_body(b"\xef\xbb\xbf<rss/>") == "<rss/>"
    assert sniff_encoding(b'<meta charset="koi8-r">') == "koi8-r"


def test_html_to_text() -> None:
    assert html_to_text("<p>One &amp; two</p><p>Three&nbsp;four<br>five</p>") == "One & two\n\nThree four\nfive"
    assert html_to_text("I&#x27;m &lt;ok&gt;") == "I'm <ok>"
    assert html_to_text("<div><script>var x = 1;</script>  text \n\n\n\n more </div>") == "text\n\nmore"
    assert html_to_text(None) == "" and html_to_text("   ") == ""


def test_truncated_feed_is_an_error_and_a_complete_one_is_not() -> None:
    guardian = fixture("rss/guardian_rss2_en-gb_2018-01.xml")
    assert len(parse_feed(guardian).entries) == 55
    with pytest.raises(FeedError, match="truncated"):
        parse_feed(guardian[: len(guardian) // 2])
    with pytest.raises(FeedError):
        parse_feed(b"<html><body>not a feed</body></html>")


def test_retry_after_values() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30
    assert retry_after_seconds("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0
    assert retry_after_seconds("soon") is None


def test_backoff_doubles_and_is_capped() -> None:
    middleware = BackoffRetryMiddleware(Settings({"RETRY_BACKOFF_BASE": 2.0, "RETRY_BACKOFF_MAX": 10.0,
                                                  "RETRY_AFTER_MAX": 60.0}))
    first, third = Request("http://x/"), Request("http://x/", meta={"retry_times": 2})
    assert middleware._delay(first, None) == 2.0
    assert middleware._delay(third, None) == 8.0
    assert middleware._delay(Request("http://x/", meta={"retry_times": 5}), None) == 10.0
    assert middleware._delay(first, Response("http://x/", status=429, headers={"Retry-After": "30"})) == 30.0
    assert middleware._delay(first, Response("http://x/", status=429, headers={"Retry-After": "3600"})) == 60.0
    assert middleware._delay(third, Response("http://x/", status=503)) == 8.0
