"""Review pages written in the tests, in the platforms' formats: Trustpilot's `__NEXT_DATA__` page, the
App Store's customer-reviews feed as Atom XML, Google Play's batchexecute answer, and a shop's page with
schema.org reviews."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr


@dataclass(frozen=True)
class Review:
    id: str
    rating: int
    text: str
    language: str = "en"
    title: str = "Review"
    author: str = "A customer"
    published: str = "2026-11-20T08:00:00.000Z"


def trustpilot_page(reviews: list[Review], page: int = 1, total_pages: int = 1) -> bytes:
    data = {"props": {"pageProps": {
        "businessUnit": {"id": "6501b0000000000000000000", "displayName": "Acme", "identifyingName": "acme.com",
                         "numberOfReviews": len(reviews)},
        "reviews": [{"id": r.id, "rating": r.rating, "title": r.title, "text": r.text, "language": r.language,
                     "dates": {"publishedDate": r.published, "experiencedDate": None, "updatedDate": None},
                     "consumer": {"id": f"c-{r.author}", "displayName": r.author, "countryCode": "SE"},
                     "labels": {}, "likes": 0, "reply": None} for r in reviews],
        "filters": {"pagination": {"currentPage": page, "perPage": 20, "totalCount": len(reviews),
                                   "totalPages": total_pages}}}}}
    script = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Acme reviews</title></head>'
            f'<body><main></main><script id="__NEXT_DATA__" type="application/json">{script}</script>'
            f"</body></html>").encode()


def app_store_atom_page(reviews: list[Review], app_id: str = "284815942", next_url: str | None = None) -> bytes:
    """The App Store's customer-reviews feed in its Atom XML form: the app itself as the first entry (no
    rating), then one entry per review with its text both as type="text" and as type="html" content."""
    feed_url = f"https://itunes.apple.com/us/rss/customerreviews/id={app_id}/sortby=mostrecent/xml"
    links = f'<link rel="alternate" type="text/html" href="https://apps.apple.com/us/app/id{app_id}"/>'
    links += f"<link rel=\"self\" href={quoteattr(feed_url)}/>"
    if next_url:
        links += f"<link rel=\"next\" href={quoteattr(next_url)}/>"
    app_entry = (f"<entry><updated>2026-11-20T09:00:00-07:00</updated><id>{app_id}</id>"
                 f"<title>Acme - Acme Inc.</title><im:name>Acme</im:name></entry>")
    entries = "".join(
        f"<entry><updated>{r.published.replace('.000Z', '-07:00')}</updated><id>{escape(r.id)}</id>"
        f"<title>{escape(r.title)}</title>"
        f'<content type="text">{escape(r.text)}</content>'
        f'<link rel="related" href="https://itunes.apple.com/us/review?id={app_id}&amp;type=Purple%20Software"/>'
        f'<im:voteSum>0</im:voteSum><im:contentType term="Application" label="Application"/>'
        f"<im:voteCount>0</im:voteCount><im:rating>{r.rating}</im:rating><im:version>8.1</im:version>"
        f"<author><name>{escape(r.author)}</name>"
        f"<uri>https://itunes.apple.com/us/reviews/id{zlib.crc32(r.author.encode())}</uri><label/></author>"
        f'<content type="html">{escape("<table><tr><td>" + escape(r.text) + "</td></tr></table>")}</content>'
        f"</entry>"
        for r in reviews)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns:im="http://itunes.apple.com/rss" xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
            f"<id>{feed_url}</id><title>iTunes Store: Customer Reviews</title>"
            f"<updated>2026-11-20T09:00:00-07:00</updated>{links}"
            f"<icon>http://itunes.apple.com/favicon.ico</icon>{app_entry}{entries}</feed>").encode()


def schema_org_page(reviews: list[Review], shapes: list[str], ids: bool = False) -> bytes:
    """A shop's product page carrying the reviews once per shape, each shape one of "jsonld" (a Product with
    its reviews in a JSON-LD block) and "microdata" (schema.org itemprops on the visible reviews). With ids,
    each JSON-LD review has an @id and each microdata review a data-reviewid, as shops write them."""
    product = "https://shop.example/acme-kettle"

    def json_ld() -> str:
        data = {"@context": "https://schema.org", "@type": "Product", "name": "Acme Kettle",
                "aggregateRating": {"@type": "AggregateRating", "ratingValue": 3.5, "reviewCount": len(reviews)},
                "review": [{"@type": "Review", **({"@id": f"{product}#review-{r.id}"} if ids else {}),
                            "author": {"@type": "Person", "name": r.author}, "datePublished": r.published,
                            "name": r.title, "reviewBody": r.text, "inLanguage": r.language,
                            "reviewRating": {"@type": "Rating", "ratingValue": r.rating, "bestRating": 5}}
                           for r in reviews]}
        return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'

    def microdata() -> str:
        return "".join(
            f'<div itemprop="review" itemscope itemtype="https://schema.org/Review"'
            f'{f" data-reviewid={quoteattr(r.id)}" if ids else ""}>'
            f'<h3 itemprop="name">{escape(r.title)}</h3>'
            f'<span itemprop="author" itemscope itemtype="https://schema.org/Person">'
            f'<span itemprop="name">{escape(r.author)}</span></span>'
            f'<time itemprop="datePublished" datetime={quoteattr(r.published)}>{escape(r.published[:10])}</time>'
            f'<div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">'
            f'<meta itemprop="ratingValue" content="{r.rating}"><meta itemprop="bestRating" content="5"></div>'
            f'<p itemprop="reviewBody">{escape(r.text)}</p></div>'
            for r in reviews)

    parts = "".join(json_ld() if shape == "jsonld" else microdata() for shape in shapes)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Acme Kettle</title></head>'
            f'<body><main itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Acme Kettle</h1>'
            f"{parts}</main></body></html>").encode()


def google_play_response(reviews: list[Review], app_version: str = "8.1.0") -> bytes:
    """Google Play's answer to the UsvDTd (reviews) call of batchexecute: the XSSI prefix, then the envelope
    whose row carries the reviews as a JSON string. A review listed twice under one id is its history."""
    rows = [[r.id, [r.author, [None, 2, None, [None, None, f"https://play-lh.googleusercontent.com/a/{r.author}"]]],
             r.rating, None, r.text, [int(datetime.fromisoformat(r.published).timestamp()), 0], 0, None, None,
             None, app_version] for r in reviews]
    inner = json.dumps([rows, [None, None]], ensure_ascii=False, separators=(",", ":"))
    envelope = [["wrb.fr", "UsvDTd", inner, None, None, None, "generic"], ["di", 48], ["af.httprm", 47, "0", 1]]
    return b")]}'\n\n" + json.dumps(envelope, ensure_ascii=False).encode()
