"""The leads' "please look" list of unsure mentions in Telegram, its buttons, and /missed URL."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import TypeVar

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from bot import callbacks
from bot.context import BotContext, in_database
from bot.formatting import Button, Keyboard, Rendered, name_text, shorten, stars, user_text
from bot.i18n import t
from review_watch.services import staff_actions
from review_watch.services.cases import ActionRefused
from review_watch.services.review_queue import AlreadyACase, UnsureItem, Verdict, waiting_items
from review_watch.services.views import StaffView
from review_watch.storage.unit_of_work import UnitOfWork

T = TypeVar("T")
# With review_queue.ITEMS_PER_MESSAGE (8) entries of at most ~230 characters of names and links, a list stays
# within Telegram's 4,096.
EXCERPT_LIMIT = 250


def render_please_look(items: Sequence[UnsureItem], lang: str) -> Rendered:
    """One numbered entry per item (brand, source with its link, stars, an excerpt) and a row of two buttons
    per item, "complaint" and "not a complaint"."""
    lines = [f"<b>{t('unsure.title', lang)}</b>", f"<i>{t('unsure.hint', lang)}</i>"]
    keyboard: Keyboard = []
    for number, item in enumerate(items, start=1):
        source = name_text(item.source)
        if item.url and item.url.startswith(("http://", "https://")) and " " not in item.url:
            source = f'<a href="{html.escape(item.url, quote=True)}">{source}</a>'
        head = f"<b>{number}.</b> " + " · ".join(
            p for p in (name_text(item.brand or ""), source, stars(item.rating, item.rating_max)) if p)
        text = " ".join(" ".join(filter(None, (item.title, item.text))).split())
        lines.append(f"{head}\n{user_text(shorten(text, EXCERPT_LIMIT))}")
        keyboard.append([
            Button(f"{number}. {t(f'button.{action}', lang)}", callbacks.encode_callback(action, item.mention_id))
            for action in (callbacks.COMPLAINT, callbacks.NOT_COMPLAINT)
        ])
    return Rendered("\n\n".join(lines), keyboard)


class PleaseLookHandlers:
    def __init__(self, app: BotContext, staff: Callable[[ContextTypes.DEFAULT_TYPE], StaffView]) -> None:
        self.app = app
        self.staff = staff

    async def _in_db(self, work: Callable[[UnitOfWork], T]) -> T:
        return await in_database(self.app, work)

    async def answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A lead's "complaint" / "not a complaint" on the list."""
        query = update.callback_query
        assert query is not None
        member = self.staff(context)
        data = callbacks.decode_callback(query.data or "")
        if data is None or data.action not in (callbacks.COMPLAINT, callbacks.NOT_COMPLAINT):
            await query.answer(t("unknown_button", member.locale), show_alert=True)
            return
        complaint = data.action == callbacks.COMPLAINT
        try:
            verdict = await self._in_db(lambda uow: staff_actions.answer_unsure(
                uow, self.app.config, data.case_id, complaint, member.staff_id, self.app.clock))
        except ActionRefused as exc:
            await query.answer(t(exc.key, member.locale), show_alert=True)
            return
        await query.answer(_verdict_text(verdict, member.locale))
        await self._drop_answered_buttons(query)

    async def _drop_answered_buttons(self, query: CallbackQuery) -> None:
        """The list keeps the buttons of the items still waiting; those answered (by anyone) go."""
        message = query.message
        if not isinstance(message, Message) or message.reply_markup is None:
            return
        rows = [(row, _mention_of(row)) for row in message.reply_markup.inline_keyboard]
        listed = [mention_id for _, mention_id in rows if mention_id is not None]
        waiting = {item.mention_id for item in await self._in_db(lambda uow: waiting_items(uow, listed))}
        keep = [row for row, mention_id in rows if mention_id in waiting]
        await message.edit_reply_markup(InlineKeyboardMarkup(keep) if keep else None)

    async def missed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/missed URL: a complaint the bot did not alert on."""
        member = self.staff(context)
        message = update.effective_message
        assert message is not None
        args = context.args or []
        if len(args) != 1:
            await message.reply_html(t("usage_missed", member.locale))
            return
        url = args[0]
        try:
            verdict = await self._in_db(lambda uow: staff_actions.report_missed(
                uow, self.app.config, url, member.staff_id, self.app.clock))
        except AlreadyACase as exc:
            await message.reply_html(t("missed.has_case", member.locale, case_id=exc.case_id))
            return
        except ActionRefused as exc:
            await message.reply_html(t(exc.key, member.locale))
            return
        await message.reply_html(t("missed.opened", member.locale, case_id=verdict.case_id,
                                   assignee=name_text(verdict.assignee or "—")))


def _mention_of(row: Sequence[InlineKeyboardButton]) -> int | None:
    data = row[0].callback_data if row else None
    decoded = callbacks.decode_callback(data) if isinstance(data, str) else None
    return decoded.case_id if decoded else None


def _verdict_text(verdict: Verdict, lang: str) -> str:
    if verdict.case_id is None:
        return t("unsure.closed", lang)
    return t("unsure.opened", lang, case_id=verdict.case_id, assignee=verdict.assignee or "—")
