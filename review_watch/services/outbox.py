"""The outbox: messages queued by the core, delivered by the bot's one sender."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from review_watch.storage.orm import OutboxMessage
from review_watch.storage.unit_of_work import AbstractUnitOfWork


def pending_messages(uow: AbstractUnitOfWork, now: datetime, limit: int = 100,
                     excluding: Collection[int] = ()) -> list[OutboxMessage]:
    """Due messages, oldest first; `excluding` are ids the sender already has in hand."""
    return uow.repo.pending_messages(now, limit, excluding)


def mark_sent(uow: AbstractUnitOfWork, message_id: int, telegram_message_id: int | None, now: datetime) -> None:
    message = uow.repo.outbox_message(message_id)
    message.status = "sent"
    message.sent_at = now
    message.telegram_message_id = telegram_message_id
    message.attempts += 1
    uow.commit()


def postpone(uow: AbstractUnitOfWork, message_id: int, until: datetime, error: str) -> None:
    message = uow.repo.outbox_message(message_id)
    message.attempts += 1
    message.not_before = until
    message.last_error = error
    uow.commit()


def mark_failed(uow: AbstractUnitOfWork, message_id: int, error: str) -> None:
    message = uow.repo.outbox_message(message_id)
    message.status = "failed"
    message.attempts += 1
    message.last_error = error
    uow.commit()


def mark_skipped(uow: AbstractUnitOfWork, message_id: int, reason: str) -> None:
    """Not sent, and rightly so: superseded by a later edit, or nothing left to say."""
    message = uow.repo.outbox_message(message_id)
    message.status = "skipped"
    message.last_error = reason
    uow.commit()


def backoff(attempts: int, base: float = 2.0, cap: float = 300.0) -> timedelta:
    return timedelta(seconds=min(cap, base ** max(attempts, 1)))
