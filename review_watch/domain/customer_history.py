"""A customer's history: who counts as the same author, and how each of their earlier mentions was handled.

The same author: on platforms that give a stable author id (Trustpilot, the App Store, Reddit, Mastodon,
Bluesky), the same id on the same platform, in any of its sources; elsewhere (Google Play, Hacker News, RSS,
schema.org pages), the same display name within the same source only, since a name is not unique on a platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class AuthorRef:
    platform: str  # the source type
    source: str  # the source's name
    author_id: str | None  # the platform's stable id, when it gives one
    name: str | None


def same_author(a: AuthorRef, b: AuthorRef) -> bool:
    if a.platform != b.platform:
        return False
    if a.author_id is not None and b.author_id is not None:
        return a.author_id == b.author_id
    if a.author_id is not None or b.author_id is not None:
        return False
    return a.name is not None and a.name == b.name and a.source == b.source


class Handling(StrEnum):
    NO_CASE = "no_case"  # the mention needed no response
    IN_TIME = "in_time"
    LATE = "late"
    OVERDUE = "overdue"  # not answered, past its deadline
    OPEN = "open"  # not answered, before its deadline
    CLOSED_UNANSWERED = "closed_unanswered"  # closed without a reply (not actionable)


def handling(deadline_at: datetime | None, answered_at: datetime | None, closed: bool, now: datetime) -> Handling:
    if deadline_at is None:
        return Handling.NO_CASE
    if answered_at is not None:
        return Handling.IN_TIME if answered_at <= deadline_at else Handling.LATE
    if closed:
        return Handling.CLOSED_UNANSWERED
    return Handling.OVERDUE if now > deadline_at else Handling.OPEN


@dataclass(frozen=True)
class HistoryEntry:
    """One earlier mention of the author on the brand, and what became of it."""

    mention_id: int
    source: str
    at: datetime  # the mention's date (published, else arrived)
    rating: float | None
    text: str
    case_status: str | None
    handled_by: str | None
    answered_at: datetime | None
    handling: Handling
