"""The leads' incident card and the closing message, rendered from `services.incidents.IncidentView`."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.callbacks import INCIDENT_ACK, INCIDENT_CARDS, INCIDENT_HOLD, INCIDENT_HOLD_CONFIRM, encode_callback
from bot.formatting import Button, Keyboard, Reader, Rendered, isolate, name_text, shorten, user_text
from bot.i18n import t
from review_watch.services.incident_actions import HoldingReplyFigures
from review_watch.services.incidents import IncidentView

EXAMPLE_LIMIT = 160


def _span(span: timedelta, lang: str) -> str:
    hours, minutes = divmod(max(1, round(span.total_seconds() / 60)), 60)
    if not hours:
        return t("incident.span_minutes", lang, count=minutes)
    if not minutes:
        return t("incident.span_hours", lang, count=hours)
    return t("incident.span_hours_minutes", lang, hours=hours, minutes=minutes)


def _usual(usual: float) -> str:
    return f"{usual:.1f}" if usual >= 0.1 else f"{usual:.2f}"


def render_incident_card(view: IncidentView, reader: Reader, now: datetime) -> Rendered:
    """The card: what spiked against its usual, what the complaints share, a few of them, the running count
    of cases, and the leads' buttons while it is open."""
    lang = reader.lang
    scope = name_text(view.brand) + (f" · {name_text(view.source)}" if view.source else "")
    lines = [t("incident.title_closed" if view.status == "closed" else "incident.title", lang,
               incident_id=view.incident_id, scope=scope)]
    lines.append(t("incident.spike", lang, count=view.count_at_open, span=_span(view.window, lang),
                   usual=_usual(view.usual_at_open)))
    if view.themes:
        lines.append(t("incident.themes", lang, themes=", ".join(isolate(user_text(term)) for term in view.themes)))
    if view.examples:
        lines.append("")
        lines.append(t("incident.examples", lang))
        for example in view.examples:
            lines.append(t("incident.example", lang, case_id=example.case_id, source=name_text(example.source),
                           text=isolate(user_text(shorten(example.text, EXAMPLE_LIMIT)))))
    lines.append("")
    lines.append(t("incident.count", lang, count=view.cases, open=view.open_cases, answered=view.answered))
    if view.withheld:
        lines.append(t("incident.withheld", lang, count=view.withheld))
    if view.acknowledged_by:
        lines.append(t("incident.acknowledged", lang, name=name_text(view.acknowledged_by)))
    if view.holding_reply_by and view.holding_reply_at:
        lines.append(t("incident.holding_sent", lang, name=name_text(view.holding_reply_by),
                       when=view.holding_reply_at.astimezone(reader.timezone).strftime("%H:%M")))
    if view.status == "open":
        lines.append(t("incident.cards_on" if view.individual_cards else "incident.cards_off", lang))
        lines.append(t("incident.queue_hint", lang))
    return Rendered("\n".join(lines), incident_keyboard(view, lang) if view.status == "open" else [])


def incident_keyboard(view: IncidentView, lang: str) -> Keyboard:
    rows: Keyboard = []
    first = []
    if view.acknowledged_by is None:
        first.append(Button(t("button.incack", lang), encode_callback(INCIDENT_ACK, view.incident_id)))
    if view.holding_reply_configured and view.open_cases:
        first.append(Button(t("button.inchold", lang), encode_callback(INCIDENT_HOLD, view.incident_id)))
    if first:
        rows.append(first)
    switch = "off" if view.individual_cards else "on"
    rows.append([Button(t(f"button.incident_cards_{switch}", lang),
                        encode_callback(INCIDENT_CARDS, view.incident_id, switch))])
    return rows


def render_hold_confirmation(view: IncidentView, lang: str) -> Rendered:
    """Asked before the holding reply goes to every open case."""
    keyboard = [[Button(t("button.incholdok", lang),
                        encode_callback(INCIDENT_HOLD_CONFIRM, view.incident_id))]]
    return Rendered(t("incident.hold_confirm", lang, incident_id=view.incident_id, count=view.open_cases), keyboard)


def render_hold_done(incident_id: int, figures: HoldingReplyFigures, lang: str) -> str:
    text = t("incident.hold_done", lang, incident_id=incident_id, count=figures.replied)
    if figures.refused:
        text += "\n" + t("incident.hold_refused", lang, count=figures.refused)
    return text


def render_incident_closed(view: IncidentView, reader: Reader, now: datetime) -> Rendered:
    lang = reader.lang
    closed = view.closed_at or now
    return Rendered(t("incident.closed", lang, incident_id=view.incident_id, scope=name_text(view.brand),
                      lasted=_span(closed - view.opened_at, lang), count=view.cases, answered=view.answered,
                      open=view.open_cases), [])
