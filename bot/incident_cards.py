"""The leads' incident card and the closing message, rendered from `services.incidents.IncidentView`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from itertools import groupby

from bot.callbacks import INCIDENT_ACK, INCIDENT_CARDS, INCIDENT_HOLD, INCIDENT_HOLD_CONFIRM, encode_callback
from bot.formatting import (
    Button,
    Keyboard,
    Reader,
    Rendered,
    isolate,
    name_text,
    platform_name,
    shorten,
    user_text,
)
from bot.i18n import t
from review_watch.services.incident_actions import CopyByHand, HoldingRefusal, HoldingReplyFigures
from review_watch.services.incidents import IncidentView

EXAMPLE_LIMIT = 160
TEXT_BUDGET = 3500  # characters of a holding reply's report, within Telegram's 4096 of a message
REFUSAL_LINES = 10  # more refusals than this are summed up by platform and reason
CASES_PER_REASON = 20  # case numbers listed in one summed-up line
OWN_WORDS = frozenset({"too_long", "state"})  # refusals said in the reader's language


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


def render_hold_confirmation(view: IncidentView, due: int, lang: str) -> Rendered:
    """Asked before the holding reply goes to the open cases that have not had it."""
    keyboard = [[Button(t("button.incholdok", lang),
                        encode_callback(INCIDENT_HOLD_CONFIRM, view.incident_id))]]
    return Rendered(t("incident.hold_confirm", lang, incident_id=view.incident_id, count=due), keyboard)


def render_hold_done(incident_id: int, figures: HoldingReplyFigures, lang: str) -> str:
    """What became of the press: how many are posting, the cases to copy it to by hand (with their links and
    the text), and those it could not go to."""
    lines = []
    refused = [t("incident.hold_refused", lang, count=len(figures.refused)),
               *refusal_lines(figures.refused, lang)] if figures.refused else []
    if figures.posting:
        lines.append(t("incident.hold_posting", lang, incident_id=incident_id, count=figures.posting))
    if figures.sent_outside:
        lines.append(t("incident.hold_outside", lang, incident_id=incident_id, count=len(figures.sent_outside)))
        lines += _copy_lines(figures.sent_outside, lang,
                             TEXT_BUDGET - sum(len(line) + 1 for line in lines + refused))
    return "\n".join(lines + refused) or t("incident.hold_none", lang, incident_id=incident_id)


def _copy_lines(cases: Sequence[CopyByHand], lang: str, budget: int) -> list[str]:
    """Each case with its link; the text once when every case has the same, else under each case."""
    same_text = len({case.text for case in cases}) == 1
    lines = [f"<code>{user_text(cases[0].text)}</code>"] if same_text else []
    used = sum(len(line) + 1 for line in lines)
    for shown, case in enumerate(cases):
        link = case.url if case.url and case.url.startswith(("http://", "https://")) else ""
        line = f"• #{case.case_id} ({platform_name(case.platform)}) {user_text(link)}".rstrip()
        if not same_text:
            line += f"\n<code>{user_text(case.text)}</code>"
        if used + len(line) + 1 > budget:
            lines.append(t("incident.hold_outside_more", lang, count=len(cases) - shown))
            break
        lines.append(line)
        used += len(line) + 1
    return lines


def refusal_lines(refusals: Sequence[HoldingRefusal], lang: str) -> list[str]:
    """One line per case; when there are many, one line per platform and reason with the cases' numbers."""
    if len(refusals) <= REFUSAL_LINES:
        return [f"• #{r.case_id} ({platform_name(r.platform)}): {_why(r, lang)}" for r in refusals]
    lines = []
    ordered = sorted(refusals, key=lambda r: (r.platform, r.kind, r.case_id))
    for (platform, _), group in groupby(ordered, key=lambda r: (r.platform, r.kind)):
        cases = list(group)
        numbers = ", ".join(f"#{r.case_id}" for r in cases[:CASES_PER_REASON])
        if len(cases) > CASES_PER_REASON:
            numbers += " " + t("incident.hold_and_more", lang, count=len(cases) - CASES_PER_REASON)
        lines.append(f"• {len(cases)} × {platform_name(platform)}: {_why(cases[0], lang)}: {numbers}")
    return lines


def _why(refusal: HoldingRefusal, lang: str) -> str:
    reason = user_text(shorten(" ".join(refusal.reason.split()), 200))
    return t(f"incident.hold_why.{refusal.kind}", lang, detail=reason) if refusal.kind in OWN_WORDS else reason


def render_holding_refusals(payload: Mapping[str, object], lang: str) -> str:
    """The gathered notice: the platforms refused these holding replies (services/incidents.queue_holding_refusal)."""
    raw = payload.get("refusals")
    refusals = [HoldingRefusal(int(r["case_id"]), str(r["platform"]), str(r["kind"]), str(r["reason"]))
                for r in (raw if isinstance(raw, list) else [])]
    return "\n".join([t("incident.hold_refused_notice", lang, incident_id=payload.get("incident_id", "?"),
                         count=len(refusals)), *refusal_lines(refusals, lang), t("incident.hold_retry", lang)])


def render_incident_closed(view: IncidentView, reader: Reader, now: datetime) -> Rendered:
    lang = reader.lang
    closed = view.closed_at or now
    return Rendered(t("incident.closed", lang, incident_id=view.incident_id, scope=name_text(view.brand),
                      lasted=_span(closed - view.opened_at, lang), count=view.cases, answered=view.answered,
                      open=view.open_cases), [])
