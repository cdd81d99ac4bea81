"""Replies posted back to the platform a mention came from: what a connector is asked and what it answers,
and the port the services post through. Core types: the `replies` package implements the port per platform,
the services and tests use it."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

# Why a platform refused a reply. The author is told in one line and keeps the draft, except that
# "rate_limited" and "unavailable" are retried by the sender after `retry_after`.
RefusalKind = Literal[
    "too_long",  # over the platform's limit (said before sending where the limit is known)
    "gone",  # the review or post was deleted, or can no longer be answered
    "auth",  # the credentials are wrong or the token expired and could not be renewed
    "forbidden",  # the account lacks the permission
    "unsupported",  # the platform does not allow this action (delete on Google Play, edit on Bluesky)
    "rate_limited",  # 429: wait and retry
    "unavailable",  # 5xx or a timeout: wait and retry
    "invalid",  # any other refusal of the request
]
RETRYABLE: frozenset[str] = frozenset({"rate_limited", "unavailable"})

# A reply as the platform shows it: "pending" until published (App Store), "held" by moderation (Google).
PublicationState = Literal["published", "pending", "held"]


@dataclass(frozen=True)
class ReplyTarget:
    """What is being answered: the source's platform and the platform's ids of the review or post."""

    platform: str  # the source type: "googleplay", "appstore", "trustpilot", ...
    external_id: str  # the mention's id on the platform (review id, status id, at-uri, fullname)
    url: str | None = None
    parent_ids: dict[str, str] = field(default_factory=dict)  # e.g. package name, location name, cid
    record: Mapping[str, Any] = field(default_factory=dict)  # the platform's record as the crawl stored it


@dataclass(frozen=True)
class PostedReply:
    reply_id: str  # the platform's id of the reply (equal to the review id where replies have none)
    text: str
    state: PublicationState = "published"
    posted_at: datetime | None = None


@dataclass(frozen=True)
class ReplyLimits:
    max_length: int | None  # in the platform's unit: characters, graphemes or UTF-8 bytes
    unit: Literal["characters", "graphemes", "bytes"] = "characters"
    can_edit: bool = True
    can_delete: bool = True


class ReplyRefused(Exception):
    """The platform (or the connector, before sending) refused the action; the message is one line."""

    def __init__(self, kind: RefusalKind, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind: RefusalKind = kind
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


class ReplyConnector(Protocol):
    """One platform's reply API, as one account of the team. Every method raises ReplyRefused on refusal."""

    platform: str
    limits: ReplyLimits

    async def check(self) -> str:
        """Authenticate and make a harmless read; return who we post as (for check-credentials)."""
        ...

    async def current_reply(self, target: ReplyTarget, idempotency_key: str) -> PostedReply | None:
        """Our reply to the target as the platform has it now (looked up before any retry), or None."""
        ...

    async def post(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply: ...

    async def edit(self, target: ReplyTarget, reply: PostedReply, text: str) -> PostedReply: ...

    async def delete(self, target: ReplyTarget, reply: PostedReply) -> None: ...


class ReplyConnectors(Protocol):
    """The configured connectors, by source name (built by the `replies` registry from the config)."""

    def for_source(self, source: str) -> ReplyConnector | None:
        """The source's connector; None where the source has no reply API or no `[sources.reply]`. Raises
        ReplyRefused("auth", one line) when its settings cannot make one (a missing key file, an unset variable)."""
        ...

    def sources(self) -> list[str]:
        """The names of the sources that have reply settings, in config order."""
        ...


# A reply row's life: drafted -> (awaiting_approval ->) posting -> posted | pending (published later) ;
# a refusal -> refused (the draft kept); a lead's no -> rejected; removed -> deleted; a platform without a
# reply API -> sent_outside (recorded, the text handed over to copy); dropped before sending -> cancelled.
ReplyState = Literal["draft", "awaiting_approval", "posting", "posted", "pending", "refused", "rejected",
                     "deleted", "sent_outside", "cancelled"]
VISIBLE_STATES: frozenset[str] = frozenset({"posted", "pending"})  # the platform accepted it
OPEN_DRAFT_STATES: frozenset[str] = frozenset({"draft", "awaiting_approval", "refused"})

TEMPLATE_PLACEHOLDERS = ("customer_name", "agent_name", "case_number")


def fill_template(template: str, *, customer_name: str | None, agent_name: str, case_number: int) -> str:
    """A reply template with its placeholders filled; ValueError names an unknown placeholder."""
    values = {"customer_name": customer_name or "", "agent_name": agent_name, "case_number": str(case_number)}
    try:
        filled = template.format_map(values)
    except KeyError as exc:
        raise ValueError(f"unknown placeholder {{{exc.args[0]}}} (known: "
                         f"{', '.join('{' + p + '}' for p in TEMPLATE_PLACEHOLDERS)})") from None
    except (ValueError, IndexError):
        raise ValueError("a lone { or } (write {{ or }} for a brace)") from None
    return filled.strip()


def text_length(text: str, unit: str) -> int:
    """The length a platform counts: characters (code points), UTF-8 bytes, or user-perceived graphemes."""
    if unit == "bytes":
        return len(text.encode("utf-8"))
    if unit == "graphemes":
        return _grapheme_count(text)
    return len(text)


def over_limit(limits: ReplyLimits, text: str) -> int | None:
    """The text's length when it is over the platform's limit, else None."""
    length = text_length(text, limits.unit)
    return length if limits.max_length is not None and length > limits.max_length else None


def _grapheme_count(text: str) -> int:
    """Grapheme clusters, closely enough for a length limit: combining marks, variation selectors, skin tones
    and what a zero-width joiner joins count with the character before them."""
    count = 0
    joined = False
    for char in text:
        code = ord(char)
        extends = (unicodedata.combining(char) or 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF
                   or 0xE0020 <= code <= 0xE007F)
        if char == "\u200d":
            joined = True
            continue
        if not (extends or joined) or count == 0:
            count += 1
        joined = False
    return count


def same_text(a: str, b: str) -> bool:
    """Two texts a platform would show alike (whitespace runs aside): is the platform's reply the one we sent?"""
    return " ".join(a.split()) == " ".join(b.split())
