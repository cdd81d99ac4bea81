"""What the bot says: service-layer views rendered for one reader, as python-telegram-bot objects."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton

from bot import digest, formatting
from bot.formatting import Keyboard, Reader
from bot.i18n import languages, t
from bot.incident_cards import render_holding_refusals, render_incident_card, render_incident_closed
from bot.please_look import render_please_look
from review_watch.config import Config
from review_watch.domain import cases as domain
from review_watch.domain.permissions import may_do_leads_work
from review_watch.services.cases import ActionRefused, ActionResult
from review_watch.services.delivery import Delivery, OutboxView
from review_watch.services.incidents import HOLDING_REFUSALS, INCIDENT_CLOSED
from review_watch.services.satisfaction import BrandSatisfaction
from review_watch.services.stats import TeamStats
from review_watch.services.views import CaseView, StaffView

LOCALES = tuple(languages())
BUTTON_ACTIONS: dict[str, domain.Action] = {
    "claim": domain.Claim(),
    "resolve": domain.Resolve(),
    "wait": domain.Wait(),
    "not_actionable": domain.NotActionable(),
}
PTBKeyboard = list[list[InlineKeyboardButton]]


@dataclass(frozen=True)
class RenderedMessage:
    html: str
    keyboard: PTBKeyboard
    case_id: int | None = None
    is_case_card: bool = False  # the alert card, whose message id later edits go to
    edit_message_id: int | None = None
    incident_card: int | None = None  # an incident card (its incident's id), whose message id its edits go to
    photo: bytes | None = None  # sent as a photo, `html` its caption

    @property
    def fingerprint(self) -> str:
        """What the reader sees: an edit to the same is refused by Telegram ("message is not modified")."""
        return self.html + repr([[button.to_dict() for button in row] for row in self.keyboard])


def reader_for(config: Config, member: StaffView) -> Reader:
    calendar = config.calendar(member.calendar) if member.calendar else config.calendar()
    return Reader(member.locale, calendar.timezone, may_do_leads_work(member.member))


def telegram_keyboard(keyboard: Keyboard) -> PTBKeyboard:
    return [[InlineKeyboardButton(b.label, callback_data=b.callback_data) if b.callback_data
             else InlineKeyboardButton(b.label, url=b.url) for b in row] for row in keyboard]


def render_delivery(config: Config, delivery: Delivery, now: datetime) -> RenderedMessage:
    """A due outbox message (services/delivery.take_due) for Telegram."""
    message = delivery.message
    reader = reader_for(config, delivery.reader)
    if delivery.incident is not None:
        return _render_incident(message.kind, delivery, reader, now)
    if delivery.edit_message_id is not None:
        assert message.case is not None
        rendered = formatting.render_alert(message.case, reader, now)
        return RenderedMessage(rendered.text, telegram_keyboard(rendered.keyboard), message.case_id,
                               edit_message_id=delivery.edit_message_id)
    if message.kind == "digest":
        return RenderedMessage(digest.render_digest(message.payload, reader.lang, reader.timezone), [])
    if message.kind == "digest_chart":
        return RenderedMessage(digest.digest_caption(message.payload, reader.lang), [],
                               photo=digest.digest_chart(message.payload, config.leads.satisfaction_warning))
    if message.kind == "please_look":
        rendered = render_please_look(delivery.unsure_items, reader.lang)
        return RenderedMessage(rendered.text, telegram_keyboard(rendered.keyboard))
    if message.kind == "notice" and message.payload.get("notice") == HOLDING_REFUSALS:
        return RenderedMessage(render_holding_refusals(message.payload, reader.lang), [])
    rendered = formatting.render_outbox(message.kind, message.payload, message.case, reader, now)
    return RenderedMessage(rendered.text, telegram_keyboard(rendered.keyboard), message.case_id,
                           is_case_card=message.kind == "alert")


def _render_incident(kind: str, delivery: Delivery, reader: Reader, now: datetime) -> RenderedMessage:
    assert delivery.incident is not None
    if kind == INCIDENT_CLOSED:
        rendered = render_incident_closed(delivery.incident, reader, now)
        return RenderedMessage(rendered.text, [])
    rendered = render_incident_card(delivery.incident, reader, now)
    return RenderedMessage(rendered.text, telegram_keyboard(rendered.keyboard),
                           edit_message_id=delivery.edit_message_id, incident_card=delivery.incident.incident_id)


def render_for_terminal(config: Config, message: OutboxView, now: datetime) -> str:
    """An outbox message as its recipient would read it, in plain text (for `review-watch demo`)."""
    member = message.recipient
    timezone = reader_for(config, member).timezone if member else ZoneInfo("UTC")
    body = formatting.render_message_text(message.kind, message.payload, message.case,
                                          member.locale if member else "en", timezone, now)
    who = f"{member.name} (Telegram id {member.telegram_id})" if member else "nobody"
    return f"To {who}:\n{body}"


def text(key: str, locale: str, **values: object) -> str:
    return t(key, locale, **values)


def refusal(exc: ActionRefused, locale: str) -> str:
    if exc.key == "illegal_transition":
        return t("illegal_transition", locale, reason=formatting.user_text(str(exc)))
    return t(exc.key, locale, case_id="?")


def action_done(action: str, result: ActionResult, locale: str) -> str:
    return t(f"done.{action}", locale, case_id=result.case_id,
             assignee=formatting.name_text(result.assignee or "—"))


def help_text(locale: str, is_lead: bool) -> str:
    return formatting.render_help(locale, is_lead)


def command_list(locale: str) -> list[tuple[str, str]]:
    return formatting.bot_commands(locale, for_leads=True)


def queue(views: list[CaseView], member: StaffView, config: Config, now: datetime) -> str:
    priorities = {view.case_id: view.priority for view in views if view.priority is not None}
    return formatting.render_queue(views, reader_for(config, member), now, priorities)


def case_details(view: CaseView, member: StaffView, config: Config, now: datetime) -> list[str]:
    return formatting.render_case(view, reader_for(config, member), now, view.history)


def stats(figures: TeamStats, locale: str, satisfaction: Sequence[BrandSatisfaction] = (),
          window_days: float = 30.0) -> str:
    return formatting.render_stats(figures, locale, formatting.render_satisfaction(satisfaction, window_days, locale))


def stats_chart(figures: TeamStats) -> bytes:
    """A bar chart of open and overdue cases per person, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    names = sorted(figures.open_by_assignee, key=lambda n: -figures.open_by_assignee[n])[:20] or ["—"]
    figure, axes = pyplot.subplots(figsize=(6, 3.5), dpi=100)
    axes.bar(names, [figures.open_by_assignee.get(n, 0) for n in names], label="open")
    axes.bar(names, [figures.overdue_by_assignee.get(n, 0) for n in names], label="overdue")
    axes.set_ylabel("cases")
    axes.legend()
    figure.autofmt_xdate()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()


def reassign_keyboard(case_id: int, names: list[str]) -> PTBKeyboard:
    return telegram_keyboard(formatting.reassign_keyboard(case_id, names))


def confirm_keyboard(case_id: int, locale: str) -> PTBKeyboard:
    return telegram_keyboard(formatting.confirm_keyboard(case_id, locale))


def confirm_reply(case_id: int, reply_text: str, locale: str) -> str:
    return formatting.render_confirm_reply(case_id, reply_text, locale)
