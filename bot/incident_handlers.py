"""The buttons of a lead's incident card: acknowledge, send the holding reply (after a confirmation), switch
the incident's individual alert cards on or off. Each calls services/incident_actions; the card itself is
refreshed through the outbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import callbacks
from bot.context import BotContext, in_database
from bot.i18n import t
from bot.incident_cards import render_hold_confirmation, render_hold_done
from bot.messages import telegram_keyboard
from review_watch.services import incident_actions
from review_watch.services.cases import ActionRefused
from review_watch.services.views import StaffView
from review_watch.storage.unit_of_work import UnitOfWork

T = TypeVar("T")
PATTERN = "^(" + "|".join(sorted(callbacks.INCIDENT_ACTIONS)) + "):"


class IncidentHandlers:
    def __init__(self, app: BotContext, staff: Callable[[ContextTypes.DEFAULT_TYPE], StaffView]) -> None:
        self.app = app
        self.staff = staff

    async def _in_db(self, work: Callable[[UnitOfWork], T]) -> T:
        return await in_database(self.app, work)

    async def answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        member = self.staff(context)
        lang = member.locale
        data = callbacks.decode_callback(query.data or "")
        if data is None or data.action not in callbacks.INCIDENT_ACTIONS:
            await query.answer(t("unknown_button", lang), show_alert=True)
            return
        incident_id, config, clock = data.case_id, self.app.config, self.app.clock
        try:
            if data.action == callbacks.INCIDENT_ACK:
                await self._in_db(lambda uow: incident_actions.acknowledge(
                    uow, config, incident_id, member.staff_id, clock))
                await query.answer(t("incident.acknowledged_done", lang))
            elif data.action == callbacks.INCIDENT_CARDS:
                on = data.argument == "on"
                await self._in_db(lambda uow: incident_actions.set_individual_cards(
                    uow, config, incident_id, member.staff_id, on, clock))
                await query.answer(t("incident.cards_switched_on" if on else "incident.cards_switched_off", lang,
                                     incident_id=incident_id))
            elif data.action == callbacks.INCIDENT_HOLD:
                view, due = await self._in_db(lambda uow: (
                    incident_actions.view_for_lead(uow, config, incident_id, member.staff_id),
                    incident_actions.holding_reply_due(uow, incident_id)))
                if not due:
                    await query.answer(t("incident.hold_none", lang, incident_id=incident_id), show_alert=True)
                    return
                await query.answer()
                rendered = render_hold_confirmation(view, due, lang)
                await update.get_bot().send_message(
                    chat_id=query.message.chat.id if query.message else member.telegram_id, text=rendered.text,
                    parse_mode=ParseMode.HTML, reply_markup=InlineKeyboardMarkup(telegram_keyboard(rendered.keyboard)))
            else:
                figures = await self._in_db(lambda uow: incident_actions.send_holding_reply(
                    uow, config, self.app.connectors, incident_id, member.staff_id, clock))
                if not (figures.posting or figures.sent_outside or figures.refused):
                    # pressed again: the message keeps what the first press did
                    await query.answer(t("incident.hold_none", lang, incident_id=incident_id), show_alert=True)
                    return
                await query.answer()
                if isinstance(query.message, Message):
                    await query.message.edit_text(render_hold_done(incident_id, figures, lang),
                                                  parse_mode=ParseMode.HTML, reply_markup=None)
        except ActionRefused as exc:
            await query.answer(t(exc.key, lang, case_id=incident_id), show_alert=True)
