"""Rows for report, digest and history tests, written straight to the database (no crawl, no model)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select

from review_watch.entrypoints.bootstrap import App
from review_watch.storage.orm import Author, Case, Mention, SentimentResult, Source, Staff


def author(app: App, platform: str, key: str, name: str | None = None, by_name: bool = False) -> int:
    with app.unit_of_work() as uow:
        row = Author(platform=platform, key=key, display_name=name or key, by_name=by_name)
        uow.session.add(row)
        uow.commit()
        return row.id


def mention(app: App, source: str, *, arrived_at: datetime, text: str, rating: float | None = None,
            rating_max: float | None = 5.0, negative: bool = False, author_id: int | None = None,
            published_at: datetime | None = None, churn: bool = False, competitor: str | None = None,
            language: str = "en") -> int:
    """A judged mention of the source's brand."""
    with app.unit_of_work() as uow:
        row_source = uow.session.scalars(select(Source).where(Source.name == source)).one()
        digest = hashlib.sha256(f"{source}{arrived_at.isoformat()}{text}".encode()).hexdigest()
        row = Mention(source_id=row_source.id, external_id=digest[:20], brand_id=row_source.brand_id,
                      author_id=author_id, url=None, published_at=published_at or arrived_at, rating=rating,
                      rating_max=rating_max, title=None, text=text, language=language, content_hash=digest, raw={},
                      arrived_at=arrived_at, edit_count=0)
        uow.session.add(row)
        uow.session.flush()
        uow.session.add(SentimentResult(mention_id=row.id, label="negative" if negative else "positive",
                                        score=0.9, negative=negative, language=language, churn_intent=churn,
                                        competitor=competitor, model="test", classified_at=arrived_at))
        uow.commit()
        return row.id


def case(app: App, mention_id: int, brand: str, *, assignee: str | None, deadline_at: datetime,
         answered_at: datetime | None = None, status: str | None = None) -> int:
    """A case on the mention; replied when answered, else assigned."""
    with app.unit_of_work() as uow:
        row_mention = uow.session.get_one(Mention, mention_id)
        staff_id = (uow.session.scalars(select(Staff.id).where(Staff.name == assignee)).one()
                    if assignee else None)
        uow.session.add(Case(
            id=mention_id, brand=brand, status=status or ("replied" if answered_at else "assigned"),
            assignee_id=staff_id, arrived_at=row_mention.arrived_at, deadline_at=deadline_at,
            remind_at=row_mention.arrived_at + (deadline_at - row_mention.arrived_at) * 0.75, escalation_level=0,
            answered_at=answered_at, next_due_at=None if answered_at else deadline_at - timedelta(minutes=1)))
        uow.commit()
        return mention_id


STOCKHOLM_TZ = "Europe/Stockholm"


def seed_review_week(app: App, source: str = "acme-tp", brand: str = "Acme") -> dict[str, int]:
    """The week of Monday 23 March 2026 09:00 CET to Monday 30 March 09:00 CEST (the clocks went forward on
    the Sunday) on the Stockholm calendar (Mon-Thu 09-18, Fri 09-17): six five-star reviews and seven
    complaints, five of them answered, one open and overdue at the week's end, one open and not yet due.
    Returns the complaints' case ids by name."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(STOCKHOLM_TZ)

    def local(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 3, day, hour, minute, tzinfo=zone)

    for day in range(23, 29):
        mention(app, source, arrived_at=local(day, 12), text=f"Lovely shop, day {day}", rating=5)
    complaints = {  # name: (arrived, stars, deadline, answered, assignee)
        "A3": (local(23, 9, 30), 1, local(24, 9, 30), local(24, 11), "Anna"),
        "A1": (local(24, 10), 2, local(25, 10), local(24, 12, 30), "Anna"),
        "A2": (local(26, 17), 1, local(27, 17), local(27, 10), "Anna"),
        "B1": (local(25, 9), 2, local(26, 9), local(25, 9, 45), "Boris"),
        "B2": (local(27, 16), 1, local(30, 17), local(30, 8, 30), "Boris"),
        "O1": (local(26, 15), 1, local(27, 15), None, "Anna"),
        "O2": (local(27, 11), 2, local(30, 11), None, "Boris"),
    }
    ids = {}
    for name, (arrived, stars, deadline_at, answered, assignee) in complaints.items():
        mention_id = mention(app, source, arrived_at=arrived, text=f"Parcel lost again and support is slow ({name})",
                             rating=stars, negative=True, churn=name == "O1")
        ids[name] = case(app, mention_id, brand, assignee=assignee, deadline_at=deadline_at, answered_at=answered)
    return ids
