"""Thin Telegram handlers: parse the update, call the service layer, format the answer."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import callbacks, incident_handlers, messages
from bot.callbacks import CallbackData, decode_callback
from bot.commands import COMMANDS
from bot.context import BotContext, in_database
from bot.formatting import Keyboard
from bot.incident_handlers import IncidentHandlers
from bot.please_look import PleaseLookHandlers
from bot.replies import ReplyHandlers, Say, template_keyboard
from review_watch.domain import cases as domain
from review_watch.domain.permissions import may_do_leads_work
from review_watch.services import staff_actions
from review_watch.services.cases import ActionRefused, ActionResult
from review_watch.services.views import StaffView
from review_watch.storage.unit_of_work import UnitOfWork

T = TypeVar("T")
ASKING_REPLY_TEXT, CONFIRMING_REPLY = range(2)
STAFF_KEY = "review_watch_staff"


class Handlers:
    def __init__(self, app: BotContext) -> None:
        self.app = app
        self.please_look = PleaseLookHandlers(app, Handlers.staff)
        self.replies = ReplyHandlers(app)

    async def _in_db(self, work: Callable[[UnitOfWork], T]) -> T:
        return await in_database(self.app, work)

    # Who is asking ------------------------------------------------------------------------------------

    async def identify(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Runs before every handler: strangers get a refusal and nothing else."""
        user = update.effective_user
        if user is None:
            raise ApplicationHandlerStop
        member = await self._in_db(lambda uow: staff_actions.identify(uow, user.id))
        if member is not None:
            context.user_data[STAFF_KEY] = member  # type: ignore[index]
            return
        message = update.effective_message
        if message is not None and message.text and message.text.startswith("/start "):
            return  # may carry an invite code
        if update.callback_query is not None:
            await update.callback_query.answer(messages.text("refused", "en"), show_alert=True)
        elif message is not None:
            await message.reply_text(messages.text("refused", "en"))
        raise ApplicationHandlerStop

    @staticmethod
    def staff(context: ContextTypes.DEFAULT_TYPE) -> StaffView:
        member = context.user_data.get(STAFF_KEY) if context.user_data is not None else None
        if not isinstance(member, StaffView):
            raise ApplicationHandlerStop
        return member

    # Commands -----------------------------------------------------------------------------------------

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user, chat, message = update.effective_user, update.effective_chat, update.effective_message
        assert user is not None and chat is not None and message is not None
        member = context.user_data.get(STAFF_KEY) if context.user_data is not None else None
        if isinstance(member, StaffView):
            await self._in_db(lambda uow: staff_actions.register_chat(uow, user.id, chat.id))
            await message.reply_text(messages.text("welcome", member.locale, name=member.name))
            return
        code = (context.args or [""])[0]
        joined = await self._in_db(lambda uow: staff_actions.join(
            uow, self.app.config, code, user.id, chat.id, user.full_name))
        if joined is None:
            await message.reply_text(messages.text("refused", "en"))
            return
        await message.reply_text(messages.text("welcome", joined.locale, name=joined.name))

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        member = self.staff(context)
        await self._reply(update, messages.help_text(member.locale, may_do_leads_work(member.member)))

    async def queue(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        member = self.staff(context)
        now = self.app.clock()
        views = await self._in_db(lambda uow: staff_actions.queue(uow, self.app.config, member.staff_id, now))
        await self._reply(update, messages.queue(views, member, self.app.config, now))

    async def case(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        member = self.staff(context)
        case_id = await self._case_id_arg(update, context, member)
        if case_id is None:
            return
        now = self.app.clock()
        try:
            view = await self._in_db(lambda uow: staff_actions.view_case(
                uow, self.app.config, case_id, member.staff_id, now))
        except ActionRefused as exc:
            await self._reply(update, messages.text(exc.key, member.locale, case_id=case_id))
            return
        for part in messages.case_details(view, member, self.app.config, now):
            await self._reply(update, part)

    async def reply_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        member = self.staff(context)
        args = context.args or []
        if len(args) < 2 or not args[0].isdigit():
            await self._reply(update, messages.text("usage_reply", member.locale))
            return
        message = update.effective_message
        assert message is not None and message.text is not None
        reply_text = message.text.split(None, 2)[2]
        await self.replies.draft(member, self._say(update), int(args[0]), reply_text)

    async def resolve(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        member = self.staff(context)
        case_id = await self._case_id_arg(update, context, member)
        if case_id is not None:
            await self._act(update, member, case_id, domain.Resolve())

    async def assign(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        member = self.staff(context)
        args = context.args or []
        if len(args) != 2 or not args[0].isdigit():
            await self._reply(update, messages.text("usage_assign", member.locale))
            return
        case_id, name = int(args[0]), args[1]
        try:
            result = await self._in_db(lambda uow: staff_actions.assign(
                uow, self.app.config, case_id, name, member.staff_id, self.app.clock))
        except ActionRefused as exc:
            await self._reply(update, messages.refusal(exc, member.locale))
            return
        await self._reply(update, messages.action_done("assign", result, member.locale))

    async def invite(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        member = self.staff(context)
        now = self.app.clock()
        try:
            code = await self._in_db(lambda uow: staff_actions.invite(uow, member.staff_id, now))
        except ActionRefused as exc:
            await self._reply(update, messages.refusal(exc, member.locale))
            return
        await self._reply(update, messages.text("invite_created", member.locale, code=code))

    async def stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        member = self.staff(context)
        now = self.app.clock()
        try:
            figures = await self._in_db(lambda uow: staff_actions.team_figures(uow, member.staff_id, now))
            satisfaction = await self._in_db(lambda uow: staff_actions.satisfaction_figures(
                uow, self.app.config, member.staff_id, now))
        except ActionRefused as exc:
            await self._reply(update, messages.text(exc.key, member.locale))
            return
        await self._reply(update, messages.stats(figures, member.locale, satisfaction,
                                                 self.app.config.leads.satisfaction_window_days))
        chart = await asyncio.to_thread(messages.stats_chart, figures)
        message = update.effective_message
        assert message is not None
        await message.reply_photo(chart, caption=messages.text("stats_chart_caption", member.locale))

    async def missed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.please_look.missed(update, context)

    async def mute(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._set_muted(update, context, True)

    async def unmute(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._set_muted(update, context, False)

    async def _set_muted(self, update: Update, context: ContextTypes.DEFAULT_TYPE, muted: bool) -> None:
        member = self.staff(context)
        moved = await self._in_db(lambda uow: staff_actions.set_muted(
            uow, self.app.config, member.staff_id, muted, self.app.clock))
        await self._reply(update, messages.text("muted" if muted else "unmuted", member.locale, moved=moved))

    # Buttons ------------------------------------------------------------------------------------------

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        member = self.staff(context)
        data = decode_callback(query.data or "")
        if data is None:
            await query.answer(messages.text("unknown_button", member.locale), show_alert=True)
            return
        if data.action == "reassign":
            await self._offer_reassign(update, member, data)
            return
        if data.action == "assignto" and data.argument is not None:
            name = data.argument
            await self._answer_action(query, member, "assign", lambda uow: staff_actions.assign(
                uow, self.app.config, data.case_id, name, member.staff_id, self.app.clock))
            return
        action = messages.BUTTON_ACTIONS.get(data.action)
        if action is None:
            await query.answer(messages.text("unknown_button", member.locale), show_alert=True)
            return
        await self._answer_action(query, member, data.action, lambda uow: staff_actions.act(
            uow, self.app.config, data.case_id, action, member.staff_id, self.app.clock))

    async def _answer_action(self, query: CallbackQuery, member: StaffView, done_key: str,
                             work: Callable[[UnitOfWork], ActionResult]) -> None:
        """Run a button's action and answer the press: what was done, or why not."""
        try:
            result = await self._in_db(work)
        except ActionRefused as exc:
            await query.answer(messages.refusal(exc, member.locale), show_alert=True)
            return
        await query.answer(messages.action_done(done_key, result, member.locale))

    async def _offer_reassign(self, update: Update, member: StaffView, data: CallbackData) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        try:
            names = await self._in_db(lambda uow: staff_actions.assignees(uow, member.staff_id))
        except ActionRefused as exc:
            await query.answer(messages.text(exc.key, member.locale), show_alert=True)
            return
        await query.answer()
        await context_reply(query.message.chat.id, update, messages.text("choose_assignee", member.locale,
                                                                         case_id=data.case_id),
                            messages.reassign_keyboard(data.case_id, names))

    # The reply button's conversation ------------------------------------------------------------------

    async def reply_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        assert query is not None
        member = self.staff(context)
        data = decode_callback(query.data or "")
        if data is None:
            await query.answer()
            return ConversationHandler.END
        now = self.app.clock()
        try:  # say so now rather than after the text is typed
            await self._in_db(lambda uow: staff_actions.check_may_reply(
                uow, self.app.config, data.case_id, member.staff_id, now))
        except ActionRefused as exc:
            await query.answer(messages.text(exc.key, member.locale, case_id=data.case_id), show_alert=True)
            return ConversationHandler.END
        context.user_data["reply_case"] = data.case_id  # type: ignore[index]
        context.user_data["reply_asked_at"] = now  # type: ignore[index]
        await query.answer()
        templates = template_keyboard(data.case_id, await self.replies.templates(data.case_id), member.locale)
        await self._say(update)(messages.text("ask_reply_text", member.locale, case_id=data.case_id),
                                templates or None)
        return ASKING_REPLY_TEXT

    async def reply_text_received(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        member = self.staff(context)
        message = update.effective_message
        assert message is not None and message.text is not None
        user_data: dict[str, Any] = context.user_data if context.user_data is not None else {}
        if await self._lead_or_posted_edit(member, update, user_data, message.text):
            return ConversationHandler.END
        case_id = user_data.get("reply_case")
        if not isinstance(case_id, int):
            return ConversationHandler.END
        waited = self.app.clock() - user_data["reply_asked_at"]  # set with reply_case by the button
        if waited.total_seconds() > self.app.config.telegram.reply_wait:
            _forget_reply(user_data)  # a text long after the button is more likely a new thought than the reply
            await self._reply(update, messages.text("reply_expired", member.locale, case_id=case_id))
            return ConversationHandler.END
        view = await self.replies.draft(member, self._say(update), case_id, message.text, confirm_outside=False)
        if view is None or view.posts_to_platform or view.setup_problem:
            _forget_reply(user_data)  # a platform's draft has its own Post button
            return ConversationHandler.END
        user_data["reply_text"], user_data["reply_id"] = message.text, view.reply_id
        await message.reply_text(messages.confirm_reply(case_id, message.text, member.locale),
                                 parse_mode=ParseMode.HTML,
                                 reply_markup=InlineKeyboardMarkup(messages.confirm_keyboard(case_id, member.locale)))
        return CONFIRMING_REPLY

    async def reply_confirmed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        assert query is not None
        member = self.staff(context)
        data = decode_callback(query.data or "")
        user_data: dict[str, Any] = context.user_data if context.user_data is not None else {}
        reply_id = user_data.get("reply_id")
        _forget_reply(user_data)
        await query.answer()
        if data is None or data.action != "confirm" or not isinstance(reply_id, int):
            await self._reply(update, messages.text("reply_cancelled", member.locale))
            return ConversationHandler.END
        await self.replies.confirm(member, self._say(update), reply_id)
        return ConversationHandler.END

    # Replies to the platform: buttons, a lead's edit, a posted reply's edit ------------------------------

    def _say(self, update: Update) -> Say:
        chat = update.effective_chat
        assert chat is not None

        async def say(html: str, keyboard: Keyboard | None) -> None:
            await context_reply(chat.id, update, html, messages.telegram_keyboard(keyboard) if keyboard else None)

        return say

    async def reply_action(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Post, cancel, approve, reject, delete, or a template chosen outside the Reply conversation."""
        await self.replies.button(update, context, self.staff(context), self._say(update))

    async def template_chosen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        if context.user_data is not None:
            _forget_reply(context.user_data)
        await self.replies.button(update, context, self.staff(context), self._say(update))
        return ConversationHandler.END

    async def edit_draft_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """A lead's Edit on an agent's draft: the lead's next text is posted instead, once approved."""
        return await self._ask_for_text(update, context, "reply_edit", "reply.ask_edit")

    async def change_reply_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Edit on a posted reply: the next text replaces it on the platform."""
        return await self._ask_for_text(update, context, "reply_change", "reply.ask_change")

    async def _ask_for_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE, purpose: str,
                            question: str) -> int:
        query = update.callback_query
        assert query is not None
        member = self.staff(context)
        data = decode_callback(query.data or "")
        await query.answer()
        case_id = await self.replies.case_of(member, self._say(update), data.case_id) if data else None
        if data is None or case_id is None or context.user_data is None:
            return ConversationHandler.END
        _forget_reply(context.user_data)
        context.user_data[purpose] = data.case_id  # the reply's id
        await self._reply(update, messages.text(question, member.locale, case_id=case_id))
        return ASKING_REPLY_TEXT

    async def _lead_or_posted_edit(self, member: StaffView, update: Update, user_data: dict[str, Any],
                                   text: str) -> bool:
        """The text asked for by a lead's Edit or a posted reply's Edit; False when it was asked for neither."""
        lead_edit, posted_edit = user_data.get("reply_edit"), user_data.get("reply_change")
        if isinstance(lead_edit, int):
            _forget_reply(user_data)
            await self.replies.approve(member, self._say(update), lead_edit, text)
            return True
        if isinstance(posted_edit, int):
            _forget_reply(user_data)
            await self.replies.change_posted(member, self._say(update), posted_edit, text)
            return True
        return False

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        member = self.staff(context)
        if context.user_data is not None:
            _forget_reply(context.user_data)
        if update.callback_query is not None:
            await update.callback_query.answer()
        await self._reply(update, messages.text("reply_cancelled", member.locale))
        return ConversationHandler.END

    # Shared -------------------------------------------------------------------------------------------

    async def _act(self, update: Update, member: StaffView, case_id: int, action: domain.Action,
                   note: str | None = None) -> None:
        try:
            result = await self._in_db(lambda uow: staff_actions.act(
                uow, self.app.config, case_id, action, member.staff_id, self.app.clock, note))
        except ActionRefused as exc:
            await self._reply(update, messages.refusal(exc, member.locale))
            return
        await self._reply(update, messages.action_done(type(action).__name__.lower(), result, member.locale))

    async def _case_id_arg(self, update: Update, context: ContextTypes.DEFAULT_TYPE,
                           member: StaffView) -> int | None:
        args = context.args or []
        if len(args) != 1 or not args[0].isdigit():
            await self._reply(update, messages.text("usage_case", member.locale))
            return None
        return int(args[0])

    @staticmethod
    async def _reply(update: Update, html: str) -> None:
        chat = update.effective_chat
        assert chat is not None
        await context_reply(chat.id, update, html, None)


def _forget_reply(user_data: dict[str, Any]) -> None:
    for key in ("reply_case", "reply_text", "reply_asked_at", "reply_id", "reply_edit", "reply_change"):
        user_data.pop(key, None)


async def context_reply(chat_id: int, update: Update, html: str,
                        keyboard: list[list[Any]] | None) -> None:
    bot = update.get_bot()
    await bot.send_message(chat_id=chat_id, text=html, parse_mode=ParseMode.HTML,
                           reply_markup=InlineKeyboardMarkup(keyboard) if keyboard else None,
                           disable_web_page_preview=True)


def install(application: Application[Any, Any, Any, Any, Any, Any], app: BotContext) -> None:
    handlers = Handlers(app)
    application.add_handler(TypeHandler(Update, handlers.identify), group=-1)
    with warnings.catch_warnings():  # per chat on purpose: the conversation spans the card and the confirmation
        warnings.simplefilter("ignore", PTBUserWarning)
        conversation = ConversationHandler(
            entry_points=[CallbackQueryHandler(handlers.reply_button, pattern=r"^reply:"),
                          CallbackQueryHandler(handlers.edit_draft_button, pattern=rf"^{callbacks.EDIT_DRAFT}:"),
                          CallbackQueryHandler(handlers.change_reply_button,
                                               pattern=rf"^{callbacks.CHANGE_REPLY}:")],
            states={
                ASKING_REPLY_TEXT: [MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.reply_text_received),
                                    CallbackQueryHandler(handlers.template_chosen,
                                                         pattern=rf"^{callbacks.TEMPLATE}:")],
                CONFIRMING_REPLY: [CallbackQueryHandler(handlers.reply_confirmed, pattern=r"^(confirm|cancel):")],
            },
            fallbacks=[CommandHandler("cancel", handlers.cancel)],
            per_message=False,
            allow_reentry=True,  # another card's Reply button starts over for that case
        )
    application.add_handler(conversation)
    for command in COMMANDS:
        application.add_handler(CommandHandler(command.name, getattr(handlers, command.handler)))
    application.add_handler(CallbackQueryHandler(
        handlers.please_look.answer, pattern=rf"^({callbacks.COMPLAINT}|{callbacks.NOT_COMPLAINT}):"))
    application.add_handler(CallbackQueryHandler(IncidentHandlers(app, Handlers.staff).answer,
                                                 pattern=incident_handlers.PATTERN))
    reply_actions = "|".join(sorted(callbacks.REPLY_ACTIONS - {callbacks.EDIT_DRAFT, callbacks.CHANGE_REPLY}))
    application.add_handler(CallbackQueryHandler(handlers.reply_action, pattern=rf"^({reply_actions}):"))
    application.add_handler(CallbackQueryHandler(handlers.button))
