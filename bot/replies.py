"""Replies posted to the platform from Telegram: the confirmation (where, as whom, the limit), templates, the
leads' approval, and editing or deleting a posted reply. Handlers parse, call services/replies, and format
(the texts the sender delivers, the leads' approval requests and the author's notices, are in formatting.py).

Buttons carry a reply's id where the callback data's number is (`rpost:<reply id>`), except the template
buttons, which carry the case and the template's name (`rtpl:<case id>:<name>`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks
from bot.context import BotContext, in_database
from bot.formatting import Button, Keyboard, Rendered, name_text, platform_name, reply_quote, user_text
from bot.i18n import t
from review_watch.services import replies
from review_watch.services.cases import ActionRefused
from review_watch.services.replies import ReplyProblem, ReplyView
from review_watch.services.views import StaffView
from review_watch.storage.unit_of_work import UnitOfWork

T = TypeVar("T")
Say = Callable[[str, Keyboard | None], Awaitable[None]]  # sends HTML (with buttons) to the person


# Rendering -----------------------------------------------------------------------------------------------


def render_confirmation(view: ReplyView, lang: str) -> Rendered:
    """Where the reply will be posted, as whom, its length against the limit; Post and Cancel."""
    values = {"case_id": view.case_id, "platform": platform_name(view.platform),
              "account": name_text(view.account or "?"), "length": view.length,
              "limit": view.max_length or "—", "unit": t(f"reply.unit.{view.length_unit}", lang)}
    lines = [t("reply.confirm", lang, **values), t("reply.length", lang, **values)]
    if view.needs_approval:
        lines.append(t("reply.needs_approval", lang))
    keyboard: Keyboard = [[Button(t("button.rpost", lang), callbacks.encode_callback(callbacks.POST_REPLY,
                                                                                          view.reply_id)),
                           Button(t("button.rcancel", lang), callbacks.encode_callback(callbacks.CANCEL_REPLY,
                                                                                      view.reply_id))]]
    if view.too_long:
        lines.append(t("reply.too_long", lang, **values))
        keyboard = []
    return Rendered("\n".join(lines) + "\n" + reply_quote(view.text), keyboard)


def render_after_confirm(view: ReplyView, lang: str) -> str:
    platform = platform_name(view.platform)
    if view.state == "sent_outside":
        return outside_text(view, lang)
    if view.state == "awaiting_approval":
        return t("reply.sent_for_approval", lang, case_id=view.case_id)
    return t("reply.posting", lang, case_id=view.case_id, platform=platform)


def outside_text(view: ReplyView, lang: str) -> str:
    """A platform without a reply API: recorded, and the text handed over to post by hand."""
    link = view.original_url if view.original_url and view.original_url.startswith(("http://", "https://")) else ""
    return "\n".join(line for line in (
        t("done.reply", lang, case_id=view.case_id),
        t("reply.copy_outside", lang, platform=platform_name(view.platform)),
        f"<code>{user_text(view.text)}</code>",
        user_text(link)) if line)


def template_keyboard(case_id: int, names: list[str], lang: str) -> Keyboard:
    buttons = []
    for name in names:
        try:
            buttons.append(Button(f"{t('button.rtpl', lang)}: {name}",
                                  callbacks.encode_callback(callbacks.TEMPLATE, case_id, name)))
        except callbacks.CallbackDataError:
            continue
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def problem_text(problem: ReplyProblem | ActionRefused, lang: str) -> str:
    if isinstance(problem, ActionRefused):
        return t(problem.key, lang, case_id="?") if problem.key != "illegal_transition" else t(
            "illegal_transition", lang, reason=user_text(str(problem)))
    values: dict[str, Any] = {key: (platform_name(str(value)) if key == "platform" else value)
                              for key, value in problem.values.items()}
    if "reason" in values:
        values["reason"] = user_text(" ".join(str(values["reason"]).split()))
    return t(problem.key, lang, **values)


# Handlers ------------------------------------------------------------------------------------------------


class ReplyHandlers:
    """The reply flow's steps; `handlers.Handlers` routes commands, buttons and texts here."""

    def __init__(self, app: BotContext) -> None:
        self.app = app

    async def _in_db(self, work: Callable[[UnitOfWork], T]) -> T:
        return await in_database(self.app, work)

    async def _try(self, member: StaffView, say: Say, work: Callable[[UnitOfWork], T]) -> T | None:
        try:
            return await self._in_db(work)
        except (ReplyProblem, ActionRefused) as problem:
            await say(problem_text(problem, member.locale), None)
            return None

    async def draft(self, member: StaffView, say: Say, case_id: int, text: str,
                    confirm_outside: bool = True) -> ReplyView | None:
        """`/reply ID TEXT`, `/reply ID #template`, or the text after the Reply button: a platform's draft is
        shown for confirmation; one for a platform without a reply API is recorded at once (`confirm_outside`)
        or left to the caller's own confirmation."""
        config, connectors, now = self.app.config, self.app.connectors, self.app.clock()
        template = text[1:].strip() if text.startswith("#") and len(text.split()) == 1 else None

        def work(uow: UnitOfWork) -> ReplyView:
            if template is not None:
                return replies.draft_from_template(uow, config, connectors, case_id, member.staff_id, template, now)
            return replies.draft(uow, config, connectors, case_id, member.staff_id, text, now)

        view = await self._try(member, say, work)
        if view is None or (not view.posts_to_platform and view.setup_problem is None and not confirm_outside):
            return view
        await self.show_draft(member, say, view)
        return view

    async def show_draft(self, member: StaffView, say: Say, view: ReplyView) -> None:
        if not view.posts_to_platform and view.setup_problem is None:
            confirmed = await self._try(member, say, lambda uow: replies.confirm(
                uow, self.app.config, self.app.connectors, view.reply_id, member.staff_id, self.app.clock))
            if confirmed is not None:
                await say(outside_text(confirmed, member.locale), None)
            return
        rendered = render_confirmation(view, member.locale)
        await say(rendered.text, rendered.keyboard or None)

    async def confirm(self, member: StaffView, say: Say, reply_id: int) -> None:
        view = await self._try(member, say, lambda uow: replies.confirm(
            uow, self.app.config, self.app.connectors, reply_id, member.staff_id, self.app.clock))
        if view is not None:
            await say(render_after_confirm(view, member.locale), None)

    async def cancel(self, member: StaffView, say: Say, reply_id: int) -> None:
        now = self.app.clock()
        await self._try(member, say, lambda uow: replies.cancel(uow, reply_id, member.staff_id, now))
        await say(t("reply_cancelled", member.locale), None)

    async def approve(self, member: StaffView, say: Say, reply_id: int, text: str | None = None) -> None:
        now = self.app.clock()
        view = await self._try(member, say, lambda uow: replies.approve(
            uow, self.app.config, self.app.connectors, reply_id, member.staff_id, now, text))
        if view is not None:
            await say(t("reply.approved", member.locale, case_id=view.case_id, author=name_text(view.author),
                        platform=platform_name(view.platform)), None)

    async def reject(self, member: StaffView, say: Say, reply_id: int) -> None:
        now = self.app.clock()
        view = await self._try(member, say, lambda uow: replies.reject(
            uow, self.app.config, self.app.connectors, reply_id, member.staff_id, now))
        if view is not None:
            await say(t("reply.rejected", member.locale, case_id=view.case_id, author=name_text(view.author)), None)

    async def change_posted(self, member: StaffView, say: Say, reply_id: int, text: str) -> None:
        try:
            view = await replies.edit_posted(self.app.unit_of_work, self.app.config, self.app.connectors, reply_id,
                                             member.staff_id, text, self.app.clock)
        except (ReplyProblem, ActionRefused) as problem:
            await say(problem_text(problem, member.locale), None)
            return
        await say(t("reply.edited", member.locale, case_id=view.case_id, platform=platform_name(view.platform)),
                  None)

    async def delete_posted(self, member: StaffView, say: Say, reply_id: int) -> None:
        try:
            view = await replies.delete_posted(self.app.unit_of_work, self.app.config, self.app.connectors,
                                               reply_id, member.staff_id, self.app.clock)
        except (ReplyProblem, ActionRefused) as problem:
            await say(problem_text(problem, member.locale), None)
            return
        await say(t("reply.deleted", member.locale, case_id=view.case_id, platform=platform_name(view.platform)),
                  None)

    async def case_of(self, member: StaffView, say: Say, reply_id: int) -> int | None:
        view = await self._try(member, say, lambda uow: replies.view(uow, self.app.config, self.app.connectors,
                                                                      reply_id))
        return view.case_id if view is not None else None

    async def templates(self, case_id: int) -> list[str]:
        return await self._in_db(lambda uow: replies.templates_for(uow, self.app.config, case_id))

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE, member: StaffView,
                     say: Say) -> None:
        """Post, cancel, approve, reject, delete and template buttons (edit buttons ask for a text first)."""
        query = update.callback_query
        assert query is not None
        data = callbacks.decode_callback(query.data or "")
        await query.answer()
        if data is None:
            return
        if data.action == callbacks.POST_REPLY:
            await self.confirm(member, say, data.case_id)
        elif data.action == callbacks.CANCEL_REPLY:
            await self.cancel(member, say, data.case_id)
        elif data.action == callbacks.APPROVE_REPLY:
            await self.approve(member, say, data.case_id)
        elif data.action == callbacks.REJECT_REPLY:
            await self.reject(member, say, data.case_id)
        elif data.action == callbacks.DELETE_REPLY:
            await self.delete_posted(member, say, data.case_id)
        elif data.action == callbacks.TEMPLATE and data.argument:
            await self.draft(member, say, data.case_id, f"#{data.argument}")
