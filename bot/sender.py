"""The one outbox sender: delivers queued messages within Telegram's limits, each exactly once.

A row is marked sent only after Telegram accepted it. 429 waits `retry_after`, timeouts back off,
403 marks the person unreachable (their cases are re-routed and the leads told), a migrated group
chat is followed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.context import BotContext
from bot.messages import RenderedMessage, render_delivery
from review_watch.services import delivery, outbox
from review_watch.services.cases import mark_unreachable, move_chat, record_alert_message
from review_watch.services.incidents import record_incident_card

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.05  # seconds between two messages to one chat (Telegram: about one a second)
GLOBAL_RATE = 28.0  # messages a second in all, evenly spaced (Telegram: 30, bursts included)


@dataclass
class SenderFigures:
    sent: int = 0
    failed: int = 0
    retried: int = 0


@dataclass(frozen=True)
class _Job:
    message_id: int
    chat_id: int
    staff_id: int | None
    rendered: RenderedMessage
    attempts: int


class OutboxSender:
    """`dispatch` hands due messages to one worker per chat, which keeps the chat's order and pace; a
    shared clock spaces all sends evenly. A chat whose send failed is held back until its retry time."""

    def __init__(self, app: BotContext, bot: Bot, batch_size: int = 200, per_chat_interval: float = PER_CHAT_INTERVAL,
                 global_rate: float | None = GLOBAL_RATE, may_send: Callable[[], bool] = lambda: True) -> None:
        """`may_send`: asked before each send; False (a replica whose sending lease has lapsed) stops it."""
        self.app = app
        self.may_send = may_send
        self.bot = bot
        self.batch_size = batch_size
        self.per_chat_interval = per_chat_interval
        self.global_interval = 1.0 / global_rate if global_rate else 0.0
        self.figures = SenderFigures()
        self._last_sent_to: dict[int, float] = defaultdict(float)
        self._next_slot = 0.0
        self._held_until: dict[int, float] = {}  # chat -> monotonic time before which it gets nothing
        self._queues: dict[int, deque[_Job]] = defaultdict(deque)
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._in_hand: set[int] = set()  # outbox ids queued to a worker or being sent
        self._stopping = False
        self._shown: dict[tuple[int, int], str] = {}  # (chat, message) -> what the card shows now

    def _prepare(self, in_hand: frozenset[int]) -> list[_Job]:
        """Render the due messages; drop those with nobody to deliver to or nothing new to say."""
        now = self.app.clock()
        held = {chat for chat, until in self._held_until.items() if until > time.monotonic()}
        jobs = []
        with self.app.unit_of_work() as uow:
            for due in delivery.take_due(uow, self.app.config, now, self.batch_size, excluding=in_hand,
                                         held_chats=held):
                rendered = render_delivery(self.app.config, due, now)
                if rendered.edit_message_id is not None and self._shown.get(
                        (due.chat_id, rendered.edit_message_id)) == rendered.fingerprint:
                    outbox.mark_skipped(uow, due.message.message_id, "the card already shows this")
                    continue
                recipient = due.message.recipient
                jobs.append(_Job(due.message.message_id, due.chat_id, recipient.staff_id if recipient else None,
                                 rendered, due.message.attempts))
        return jobs

    async def dispatch(self) -> int:
        """Hand what is due now to the chats' workers; returns how many messages were handed over."""
        if self._stopping or not self.may_send() or len(self._in_hand) >= self.batch_size:
            return 0  # enough in hand; the database is asked again once some are through
        jobs = await asyncio.to_thread(self._prepare, frozenset(self._in_hand))
        for job in jobs:
            self._in_hand.add(job.message_id)
            self._queues[job.chat_id].append(job)
            if job.chat_id not in self._workers:
                self._workers[job.chat_id] = asyncio.create_task(self._work(job.chat_id))
        return len(jobs)

    async def drain_once(self) -> int:
        """Dispatch what is due now and wait until it is delivered or put off."""
        count = await self.dispatch()
        await self.idle()
        return count

    async def idle(self) -> None:
        while self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def close(self, grace: float = 10.0) -> None:
        """Let each worker finish the send in progress (so its outcome is recorded), then stop; what was
        not sent stays pending in the outbox."""
        self._stopping = True
        workers = list(self._workers.values())
        if workers:
            _, late = await asyncio.wait(workers, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _work(self, chat_id: int) -> None:
        queue = self._queues[chat_id]
        try:
            while queue:
                job = queue.popleft()
                wait = self._last_sent_to[chat_id] + self.per_chat_interval - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self._global_slot()
                if self._stopping or not self.may_send():
                    break
                try:
                    delivered = await self._deliver(job)
                except Exception as exc:  # noqa: BLE001 - e.g. the database is busy; the row stays pending
                    log.error("outbox message %s: %s: %s", job.message_id, type(exc).__name__, exc)
                    self._held_until[chat_id] = time.monotonic() + 5
                    delivered = False
                self._in_hand.discard(job.message_id)
                self._last_sent_to[chat_id] = time.monotonic()
                if not delivered:  # keep this chat's order: the rest waits until the chat's hold ends
                    self._in_hand.difference_update(rest.message_id for rest in queue)
                    queue.clear()
        finally:
            self._in_hand.difference_update(rest.message_id for rest in queue)
            queue.clear()
            del self._workers[chat_id]

    async def _global_slot(self) -> None:
        """Wait for this send's turn: sends are spaced evenly, with no burst that the API might refuse."""
        now = time.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + self.global_interval
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _deliver(self, job: _Job) -> bool:
        try:
            sent = await self._send(job)
        except RetryAfter as exc:
            delay = _seconds(exc)
            log.warning("429 for outbox message %s: retrying in %s s", job.message_id, delay)
            await self._postpone(job, timedelta(seconds=delay), f"429 retry after {delay:g}s")
            self._held_until[job.chat_id] = time.monotonic() + delay
            return False
        except ChatMigrated as exc:
            if job.rendered.edit_message_id is not None:  # the old group's messages stay where they were
                await asyncio.to_thread(self._with_uow, outbox.mark_skipped, job.message_id,
                                        f"chat migrated to {exc.new_chat_id}")
                return True
            await asyncio.to_thread(self._with_uow, move_chat, job.staff_id, exc.new_chat_id)
            await self._postpone(job, timedelta(0), f"chat migrated to {exc.new_chat_id}")
            return False
        except Forbidden as exc:
            await asyncio.to_thread(self._with_uow, outbox.mark_failed, job.message_id, f"403 {exc.message}")
            await asyncio.to_thread(self._unreachable, job.staff_id)
            self.figures.failed += 1
            return False
        except BadRequest as exc:
            if "message is not modified" in exc.message.lower():
                await asyncio.to_thread(self._with_uow, outbox.mark_skipped, job.message_id, exc.message)
                return True
            log.error("Telegram refused outbox message %s: %s", job.message_id, exc.message)
            await asyncio.to_thread(self._with_uow, outbox.mark_failed, job.message_id, exc.message)
            self.figures.failed += 1
            return True
        except (TimedOut, NetworkError) as exc:
            backoff = outbox.backoff(job.attempts + 1)
            await self._postpone(job, backoff, f"network: {exc}")
            self._held_until[job.chat_id] = time.monotonic() + backoff.total_seconds()
            return False
        await asyncio.to_thread(self._accepted, job, sent)
        self.figures.sent += 1
        return True

    async def _send(self, job: _Job) -> Message:
        rendered = job.rendered
        markup = InlineKeyboardMarkup(rendered.keyboard) if rendered.keyboard else None
        if rendered.edit_message_id is not None:
            result = await self.bot.edit_message_text(
                chat_id=job.chat_id, message_id=rendered.edit_message_id, text=rendered.html,
                parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=None)
            if isinstance(result, Message):
                return result
            raise BadRequest("edit returned no message")
        if rendered.photo is not None:
            return await self.bot.send_photo(chat_id=job.chat_id, photo=rendered.photo, caption=rendered.html,
                                             parse_mode=ParseMode.HTML, reply_markup=markup)
        return await self.bot.send_message(chat_id=job.chat_id, text=rendered.html, parse_mode=ParseMode.HTML,
                                           reply_markup=markup, disable_web_page_preview=True)

    def _with_uow(self, work: Callable[..., object], *args: object) -> None:
        with self.app.unit_of_work() as uow:
            work(uow, *args)

    def _accepted(self, job: _Job, sent: Message) -> None:
        rendered = job.rendered
        if rendered.is_case_card or rendered.incident_card is not None or rendered.edit_message_id is not None:
            self._shown[(job.chat_id, sent.message_id)] = rendered.fingerprint
        with self.app.unit_of_work() as uow:
            outbox.mark_sent(uow, job.message_id, sent.message_id, self.app.clock())
            if rendered.is_case_card and rendered.case_id is not None:
                record_alert_message(uow, rendered.case_id, job.chat_id, sent.message_id)
            if rendered.incident_card is not None and rendered.edit_message_id is None and job.staff_id is not None:
                record_incident_card(uow, rendered.incident_card, job.staff_id, job.chat_id, sent.message_id)

    def _unreachable(self, staff_id: int | None) -> None:
        if staff_id is None:
            return
        with self.app.unit_of_work() as uow:
            mark_unreachable(uow, self.app.config, staff_id, self.app.clock)

    async def _postpone(self, job: _Job, delay: timedelta, reason: str) -> None:
        self.figures.retried += 1
        until = self.app.clock() + delay
        await asyncio.to_thread(self._with_uow, outbox.postpone, job.message_id, until, reason)


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that `retry_after` becomes a timedelta; both are handled
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        retry_after = exc.retry_after
    return float(retry_after) if isinstance(retry_after, int | float) else retry_after.total_seconds()


async def run_forever(step: Callable[[], Awaitable[object]], interval: float, name: str) -> None:
    """Run `step` every `interval` seconds; an error is logged in one line and the loop goes on."""
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a background loop must survive one bad round
            log.error("%s failed: %s: %s", name, type(exc).__name__, exc)
        await asyncio.sleep(interval)

