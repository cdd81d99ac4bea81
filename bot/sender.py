"""The one outbox sender: delivers queued messages within Telegram's limits, each exactly once.

A row is marked sent only after Telegram accepted it. 429 waits `retry_after`, timeouts back off,
403 marks the person unreachable (their cases are re-routed and the leads told), a migrated group
chat is followed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.messages import RenderedMessage, render_outbox_message
from review_watch.bootstrap import App
from review_watch.services import outbox
from review_watch.services.cases import mark_unreachable, move_chat, record_alert_message

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.05  # seconds between two messages to one chat


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
    def __init__(self, app: App, bot: Bot, batch_size: int = 200) -> None:
        self.app = app
        self.bot = bot
        self.batch_size = batch_size
        self.figures = SenderFigures()
        self._last_sent_to: dict[int, float] = defaultdict(float)
        self._shown: dict[tuple[int, int], str] = {}  # (chat, message) -> what the card shows now

    async def _db(self, work: Callable[..., object], *args: object) -> object:
        return await asyncio.to_thread(work, *args)

    def _prepare(self) -> list[_Job]:
        """Render the due messages; drop those with nobody to deliver to or nothing new to say."""
        now = self.app.clock()
        jobs = []
        with self.app.unit_of_work() as uow:
            pending = outbox.pending_messages(uow, now, self.batch_size)
            latest_edit = {m.case_id: m.id for m in pending if m.kind == "edit"}
            for message in pending:
                staff = message.staff
                if message.kind == "edit" and latest_edit[message.case_id] != message.id:
                    outbox.mark_skipped(uow, message.id, f"superseded by edit {latest_edit[message.case_id]}")
                    continue
                if message.kind == "edit":
                    chat_id = int(message.payload["chat_id"])
                elif staff is None or not staff.active or not staff.reachable:
                    outbox.mark_failed(uow, message.id, "no reachable recipient")
                    continue
                else:
                    chat_id = staff.chat_id or staff.telegram_id
                rendered = render_outbox_message(uow, self.app.config, message, now)
                if rendered is None:
                    outbox.mark_skipped(uow, message.id, "nothing left to say (case closed or answered)")
                    continue
                if rendered.edit_message_id is not None and self._shown.get(
                        (chat_id, rendered.edit_message_id)) == rendered.fingerprint:
                    outbox.mark_skipped(uow, message.id, "the card already shows this")
                    continue
                jobs.append(_Job(message.id, chat_id, staff.id if staff else None, rendered, message.attempts))
        return jobs

    async def drain_once(self) -> int:
        """Deliver what is due now; returns how many were handled."""
        jobs: list[_Job] = await asyncio.to_thread(self._prepare)
        by_chat: dict[int, list[_Job]] = defaultdict(list)
        for job in jobs:
            by_chat[job.chat_id].append(job)
        await asyncio.gather(*(self._deliver_chat(chat_jobs) for chat_jobs in by_chat.values()))
        return len(jobs)

    async def _deliver_chat(self, jobs: list[_Job]) -> None:
        for job in jobs:
            wait = self._last_sent_to[job.chat_id] + PER_CHAT_INTERVAL - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not await self._deliver(job):
                return  # keep this chat's order: the rest waits for the next round
            self._last_sent_to[job.chat_id] = time.monotonic()

    async def _deliver(self, job: _Job) -> bool:
        try:
            sent = await self._send(job)
        except RetryAfter as exc:
            delay = exc.retry_after if isinstance(exc.retry_after, int | float) else exc.retry_after.total_seconds()
            await self._postpone(job, timedelta(seconds=float(delay)), f"429 retry after {delay}s")
            return False
        except ChatMigrated as exc:
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
            await self._postpone(job, outbox.backoff(job.attempts + 1), f"network: {exc}")
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
        return await self.bot.send_message(chat_id=job.chat_id, text=rendered.html, parse_mode=ParseMode.HTML,
                                           reply_markup=markup, disable_web_page_preview=True)

    def _with_uow(self, work: Callable[..., object], *args: object) -> None:
        with self.app.unit_of_work() as uow:
            work(uow, *args)

    def _accepted(self, job: _Job, sent: Message) -> None:
        if job.rendered.is_case_card or job.rendered.edit_message_id is not None:
            self._shown[(job.chat_id, sent.message_id)] = job.rendered.fingerprint
        with self.app.unit_of_work() as uow:
            outbox.mark_sent(uow, job.message_id, sent.message_id, self.app.clock())
            if job.rendered.is_case_card and job.rendered.case_id is not None:
                record_alert_message(uow, job.rendered.case_id, job.chat_id, sent.message_id)

    def _unreachable(self, staff_id: int | None) -> None:
        if staff_id is None:
            return
        with self.app.unit_of_work() as uow:
            mark_unreachable(uow, self.app.config, staff_id, self.app.clock)

    async def _postpone(self, job: _Job, delay: timedelta, reason: str) -> None:
        self.figures.retried += 1
        until = self.app.clock() + delay
        await asyncio.to_thread(self._with_uow, outbox.postpone, job.message_id, until, reason)


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

