"""The outbox: messages queued by the core, delivered by the bot's one sender."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from review_watch.storage.orm import OutboxMessage
from review_watch.storage.unit_of_work import UnitOfWork


def pending_messages(uow: UnitOfWork, now: datetime, limit: int = 100,
                     excluding: Collection[int] = ()) -> list[OutboxMessage]:
    """Due messages, oldest first; `excluding` are ids the sender already has in hand."""
    query = (select(OutboxMessage).options(joinedload(OutboxMessage.staff))
             .where(OutboxMessage.status == "pending", OutboxMessage.not_before <= now))
    if excluding:
        query = query.where(OutboxMessage.id.not_in(list(excluding)))
    return list(uow.session.scalars(query.order_by(OutboxMessage.id).limit(limit)))


def mark_sent(uow: UnitOfWork, message_id: int, telegram_message_id: int | None, now: datetime) -> None:
    message = uow.session.get_one(OutboxMessage, message_id)
    message.status = "sent"
    message.sent_at = now
    message.telegram_message_id = telegram_message_id
    message.attempts += 1
    uow.commit()


def postpone(uow: UnitOfWork, message_id: int, until: datetime, error: str) -> None:
    message = uow.session.get_one(OutboxMessage, message_id)
    message.attempts += 1
    message.not_before = until
    message.last_error = error
    uow.commit()


def mark_failed(uow: UnitOfWork, message_id: int, error: str) -> None:
    message = uow.session.get_one(OutboxMessage, message_id)
    message.status = "failed"
    message.attempts += 1
    message.last_error = error
    uow.commit()


def mark_skipped(uow: UnitOfWork, message_id: int, reason: str) -> None:
    """Not sent, and rightly so: superseded by a later edit, or nothing left to say."""
    message = uow.session.get_one(OutboxMessage, message_id)
    message.status = "skipped"
    message.last_error = reason
    uow.commit()


def backoff(attempts: int, base: float = 2.0, cap: float = 300.0) -> timedelta:
    return timedelta(seconds=min(cap, base ** max(attempts, 1)))
