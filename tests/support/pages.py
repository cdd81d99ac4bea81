"""Review pages written in the tests, in Trustpilot's page format (`__NEXT_DATA__`)."""

from __future__ import annotations

import json
from dataclasses import dataclass


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
