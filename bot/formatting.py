"""Telegram HTML for alerts, reminders, escalations, /queue, /case and /stats; pure functions, no I/O.

Every function returns text that Telegram's HTML parse mode accepts: user-supplied strings are escaped,
each message stays within 4096 characters after entity parsing, and right-to-left text is wrapped in
Unicode isolates so that it reads correctly next to the left-to-right labels.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import callbacks, commands
from bot.i18n import t
from review_watch.domain.cases import CLAIMABLE_STATUSES, CLOSED_STATUSES, OPEN_STATUSES
from review_watch.domain.customer_history import HistoryEntry
from review_watch.domain.priority import Priority, by_priority

MESSAGE_LIMIT = 4096
ALERT_TEXT_LIMIT = 1200
NAME_LIMIT = 100
FSI, PDI = "\u2068", "\u2069"
_RTL_BIDI = frozenset({"R", "AL"})
_TOKEN = re.compile(r"<[^>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);|.", re.DOTALL)
_TAG_NAME = re.compile(r"</?([a-zA-Z][a-zA-Z0-9-]*)")
_SENTENCE_END = frozenset(".!?…。！？؟")


class CaseFields(Protocol):
    """What a card shows about a case (the service layer's ``CaseView`` fits)."""

    @property
    def case_id(self) -> int: ...
    @property
    def brand(self) -> str | None: ...
    @property
    def source(self) -> str: ...
    @property
    def source_type(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def author(self) -> str | None: ...
    @property
    def rating(self) -> float | None: ...
    @property
    def rating_max(self) -> float | None: ...
    @property
    def language(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def text(self) -> str: ...
    @property
    def sentiment(self) -> str | None: ...
    @property
    def sentiment_score(self) -> float | None: ...
    @property
    def churn_intent(self) -> bool: ...
    @property
    def competitor(self) -> str | None: ...
    @property
    def threat(self) -> bool: ...
    @property
    def staff_abuse(self) -> bool: ...
    @property
    def status(self) -> str: ...
    @property
    def assignee(self) -> str | None: ...
    @property
    def deadline_at(self) -> datetime: ...
    @property
    def business_seconds_left(self) -> float: ...
    @property
    def reply_state(self) -> str | None: ...  # of its reply on the platform
    @property
    def reply_id(self) -> int | None: ...


@dataclass(frozen=True)
class Reader:
    """Who reads the message: their language, time zone and whether they lead the team."""

    lang: str
    timezone: ZoneInfo
    is_lead: bool = False


@dataclass(frozen=True)
class Button:
    """One inline button: exactly one of ``callback_data`` and ``url`` is set."""

    label: str
    callback_data: str | None = None
    url: str | None = None


Keyboard = list[list[Button]]


@dataclass(frozen=True)
class Rendered:
    text: str
    keyboard: Keyboard


class StatsFields(Protocol):
    @property
    def open_cases(self) -> int: ...
    @property
    def overdue(self) -> int: ...
    @property
    def answered_this_week(self) -> int: ...
    @property
    def answered_in_time_this_week(self) -> int: ...
    @property
    def median_first_reply_hours(self) -> float | None: ...
    @property
    def open_by_assignee(self) -> Mapping[str, int]: ...
    @property
    def overdue_by_assignee(self) -> Mapping[str, int]: ...


# ------------------------------------------------------------------------------------------- text pieces


def has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in _RTL_BIDI for c in text)


def isolate(text: str) -> str:
    """Each line of right-to-left text wrapped in FSI..PDI (isolates end at a line break anyway)."""
    if not has_rtl(text):
        return text
    return "\n".join(f"{FSI}{line}{PDI}" if line else line for line in text.split("\n"))


def user_text(text: str) -> str:
    """Text from a review or a platform, made safe for HTML parse mode."""
    return isolate(html.escape(text, quote=False))


def name_text(text: str) -> str:
    """A name (brand, source, author, person) from outside, escaped and cut to ``NAME_LIMIT``."""
    return user_text(shorten(text, NAME_LIMIT))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def stars(rating: float | None, rating_max: float | None) -> str:
    """``★★☆☆☆ 2/5``; the stars are out of five whatever the platform's scale."""
    if rating is None:
        return ""
    scale = rating_max or 5.0
    filled = max(0, min(5, math.floor(rating / scale * 5 + 0.5)))
    return "★" * filled + "☆" * (5 - filled) + f" {_number(rating)}/{_number(scale)}"


def _link(url: str | None) -> str | None:
    if url and re.match(r"https?://\S+$", url):
        return url
    return None


def visible_length(text_html: str) -> int:
    """Length Telegram checks against its limits: UTF-16 units of the text after entity parsing."""
    plain = "".join(html.unescape(tok) if tok[0] in "&" else tok for tok in _visible_tokens(text_html))
    return len(plain.strip().encode("utf-16-le")) // 2


def _visible_tokens(text_html: str) -> list[str]:
    return [tok for tok in _TOKEN.findall(text_html) if not (tok.startswith("<") and tok.endswith(">"))]


# ------------------------------------------------------------------------------------------- time


def _when(moment: datetime, reader: Reader, now: datetime) -> str:
    local = moment.astimezone(reader.timezone)
    today = now.astimezone(reader.timezone).date()
    day = t(f"weekday.{local.weekday()}", reader.lang)
    if abs((local.date() - today).days) < 6:
        return f"{day} {local:%H:%M}"
    return f"{day} {local:%d.%m} {local:%H:%M}"


def _duration(seconds: float, lang: str) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 60:
        return t("duration.minutes", lang, count=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return t("duration.hours_minutes", lang, hours=hours, minutes=minutes)
    days, hours = divmod(hours, 24)
    return t("duration.days_hours", lang, days=days, hours=hours)


def business_time_left(seconds: float, lang: str) -> str:
    """``5 business hours left``, ``1 h 20 min of business time left``, ``20 business minutes left``."""
    minutes = math.ceil(seconds / 60)
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return t("left.minutes", lang, count=minutes)
    if rest == 0 or hours >= 10:
        return t("left.hours", lang, count=hours)
    return t("left.hours_minutes", lang, hours=hours, minutes=rest)


def deadline_line(
    deadline_at: datetime, business_seconds_left: float, status: str, reader: Reader, now: datetime
) -> str:
    """``reply by Tue 14:00, 5 business hours left`` in the reader's time zone, or the overdue form."""
    when = _when(deadline_at, reader, now)
    if status not in OPEN_STATUSES:
        return t("reply_stopped", reader.lang, when=when)
    if business_seconds_left <= 0:
        overdue_for = max(-business_seconds_left, (now - deadline_at).total_seconds())
        return t("overdue", reader.lang, ago=_duration(overdue_for, reader.lang), when=when)
    return t("reply_by", reader.lang, when=when, left=business_time_left(business_seconds_left, reader.lang))


# ------------------------------------------------------------------------------------------- shortening


def shorten(text: str, limit: int) -> str:
    """Plain ``text`` cut to at most ``limit`` characters at a sentence or word end, with an ellipsis."""
    if len(text) <= limit:
        return text
    window = text[: max(limit - 1, 1)]
    floor = len(window) // 2
    cut = max((m.end() for m in re.finditer(r"[.!?…。！？؟](?=\s)", window) if m.end() >= floor), default=0)
    if not cut:
        cut = max((m.start() for m in re.finditer(r"\s", window) if m.start() >= floor), default=len(window))
    return window[:cut].rstrip() + "…"


def _break_priority(units: Sequence[str], index: int) -> int:
    """How good a split is right after ``units[index]``: paragraph 4, line 3, sentence 2, word 1."""
    unit = units[index]
    previous = units[index - 1] if index else ""
    if unit == "\n":
        return 4 if previous == "\n" else 3
    if unit.isspace():
        return 2 if previous in _SENTENCE_END else 1
    return 2 if unit in {"。", "！", "？"} else 0


def split_for_telegram(text_html: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split Telegram HTML into messages of at most ``limit`` visible characters each.

    Each part ends at the best place in its second half: a paragraph end, else a line end, else a
    sentence end, else a word end (the best place in the first half when the second has none; a hard
    cut when there is no space at all). Never inside a tag or an entity; tags open at a split are
    closed at the end of one part and opened again at the start of the next.
    """
    tokens = _TOKEN.findall(text_html)
    parts: list[str] = []
    reopen: list[str] = []
    start = 0
    while start < len(tokens):
        length = 0
        end = start
        late: tuple[int, int] = (0, -1)  # best (priority, token index) to split after, second half
        early: tuple[int, int] = (0, -1)  # the same in the first half
        visible: list[str] = []
        while end < len(tokens):
            token = tokens[end]
            if not (token.startswith("<") and token.endswith(">")):
                unit = html.unescape(token)
                width = len(unit.encode("utf-16-le")) // 2
                if length + width > limit:
                    break
                length += width
                visible.append(unit)
                priority = _break_priority(visible, len(visible) - 1)
                if priority and length * 2 >= limit and priority >= late[0]:
                    late = (priority, end)
                elif priority and length * 2 < limit and priority >= early[0]:
                    early = (priority, end)
            end += 1
        best = late if late[1] >= 0 else early
        cut = end if end >= len(tokens) or best[1] < 0 else best[1] + 1
        if cut == start:  # a single unit wider than the limit cannot happen for limit >= 2
            cut = start + 1
        body = "".join(tokens[start:cut])
        stack = list(reopen)
        for token in tokens[start:cut]:
            _track(stack, token)
        closing = "".join(f"</{_tag_name(tag)}>" for tag in reversed(stack))
        part = "".join(reopen) + body + closing
        if visible_length(part):
            parts.append(part.strip())
        reopen = stack
        start = cut
    return parts


def _tag_name(tag: str) -> str:
    match = _TAG_NAME.match(tag)
    return match.group(1).lower() if match else ""


def _track(stack: list[str], token: str) -> None:
    if not (token.startswith("<") and token.endswith(">")):
        return
    if token.startswith("</"):
        if stack:
            stack.pop()
    else:
        stack.append(token)


# ------------------------------------------------------------------------------------------- cards


def _header(case: CaseFields, reader: Reader) -> list[str]:
    lang = reader.lang
    source = name_text(case.source)
    url = _link(case.url)
    if url:
        source = f'<a href="{html.escape(url, quote=True)}">{source}</a>'
    first = " · ".join(
        p
        for p in (
            f"<b>{name_text(case.brand)}</b>" if case.brand else "",
            source,
            html.escape(shorten(case.source_type, NAME_LIMIT)),
        )
        if p
    )
    details = [stars(case.rating, case.rating_max)]
    if case.language:
        details.append(f"{t('label.language', lang)}: {html.escape(shorten(case.language, 20))}")
    if case.sentiment:
        label = t(f"sentiment.{case.sentiment}", lang)
        score = f" {case.sentiment_score:.2f}" if case.sentiment_score is not None else ""
        details.append(label + score)
    lines = [first, " · ".join(d for d in details if d)]
    flags = _flags(case, lang)
    if flags:
        lines.append("⚠️ " + ", ".join(flags))
    if case.author:
        lines.append(f"{t('label.by', lang)} <i>{name_text(case.author)}</i>")
    return [line for line in lines if line]


def _flags(case: CaseFields, lang: str) -> list[str]:
    flags = []
    if case.churn_intent:
        flags.append(t("flag.churn", lang))
    if case.competitor:
        flags.append(t("flag.competitor", lang, name=name_text(case.competitor)))
    if case.threat:
        flags.append(t("flag.threat", lang))
    if case.staff_abuse:
        flags.append(t("flag.staff_abuse", lang))
    return flags


def _footer(case: CaseFields, reader: Reader, now: datetime) -> list[str]:
    lang = reader.lang
    deadline = deadline_line(case.deadline_at, case.business_seconds_left, case.status, reader, now)
    assignee = name_text(case.assignee) if case.assignee else t("label.unassigned", lang)
    return [
        f"⏰ <b>{deadline}</b>",
        f"{t('label.assignee', lang)}: {assignee} · {t('label.status', lang)}: {t(f'status.{case.status}', lang)}",
        *_reply_lines(case, lang),
        f"{t('label.case', lang)} <code>#{case.case_id}</code>",
    ]


def _body(title: str | None, text: str) -> str:
    quote = "<blockquote expandable>" if len(text) > 300 else "<blockquote>"
    body = f"{quote}{user_text(text)}</blockquote>" if text.strip() else ""
    if title and title.strip():
        body = f"<b>{user_text(title)}</b>\n{body}"
    return body


def render_alert(case: CaseFields, reader: Reader, now: datetime, text_limit: int = ALERT_TEXT_LIMIT) -> Rendered:
    """The alert card: header, the (shortened) review, the deadline, and the buttons."""
    title = shorten(case.title, 200) if case.title else None
    limit = text_limit
    while True:
        text = shorten(case.text, limit)
        lines = _header(case, reader) + [_body(title, text)]
        if text != case.text:
            lines.append(t("read_rest", reader.lang, case_id=case.case_id))
        message = "\n".join(line for line in lines if line) + "\n\n" + "\n".join(_footer(case, reader, now))
        if visible_length(message) <= MESSAGE_LIMIT or limit <= 50:
            return Rendered(message, alert_keyboard(case, reader))
        limit = limit * 3 // 4


def alert_keyboard(case: CaseFields, reader: Reader) -> Keyboard:
    """Claim first; reply/resolve; waiting/not actionable; reassign for leads; the original's link."""
    lang, case_id = reader.lang, case.case_id

    def button(action: str) -> Button:
        return Button(t(f"button.{action}", lang), callbacks.encode_callback(action, case_id))

    rows: Keyboard = []
    if case.status not in CLOSED_STATUSES:
        if case.status in CLAIMABLE_STATUSES:
            rows.append([button(callbacks.CLAIM)])
        rows.append([button(callbacks.REPLY), button(callbacks.RESOLVE)])
        rows.append([button(callbacks.WAIT), button(callbacks.NOT_ACTIONABLE)])
        if reader.is_lead:
            rows.append([button(callbacks.REASSIGN)])
    rows.extend(_reply_buttons(case, lang))
    url = _link(case.url)
    if url:
        rows.append([Button(t("button.open", lang), url=url)])
    return rows


def reassign_keyboard(case_id: int, names: Sequence[str], per_row: int = 2) -> Keyboard:
    """One button per staff member; names too long for the 64-byte callback data are left out."""
    buttons = []
    for name in names:
        try:
            buttons.append(Button(name, callbacks.encode_callback(callbacks.ASSIGN_TO, case_id, name)))
        except callbacks.CallbackDataError:
            continue
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def confirm_keyboard(case_id: int, lang: str) -> Keyboard:
    return [
        [
            Button(t("button.confirm", lang), callbacks.encode_callback(callbacks.CONFIRM, case_id)),
            Button(t("button.cancel", lang), callbacks.encode_callback(callbacks.CANCEL, case_id)),
        ]
    ]


def render_confirm_reply(case_id: int, reply_text: str, lang: str) -> str:
    question = t("confirm_reply", lang, case_id=case_id)
    room = MESSAGE_LIMIT - len(question) - 10
    return f"{question}\n<blockquote>{user_text(shorten(reply_text, room))}</blockquote>"


def _excerpt(case: CaseFields, limit: int) -> str:
    return f"<i>{user_text(shorten(' '.join(case.text.split()), limit))}</i>"


def render_reminder(case: CaseFields, reader: Reader, now: datetime) -> Rendered:
    lines = [
        f"<b>{t('reminder.title', reader.lang, case_id=case.case_id)}</b>",
        " · ".join(p for p in (name_text(case.brand or ""), name_text(case.source)) if p),
        _excerpt(case, 300),
        "⏰ " + deadline_line(case.deadline_at, case.business_seconds_left, case.status, reader, now),
    ]
    return Rendered("\n".join(line for line in lines if line), alert_keyboard(case, reader))


def render_escalation(case: CaseFields, reader: Reader, now: datetime) -> Rendered:
    assignee = name_text(case.assignee) if case.assignee else t("label.unassigned", reader.lang)
    lines = [
        f"<b>{t('escalation.title', reader.lang, case_id=case.case_id)}</b>",
        t("escalation.assignee", reader.lang, name=assignee),
        " · ".join(p for p in (name_text(case.brand or ""), name_text(case.source)) if p),
        _excerpt(case, 300),
        "⏰ " + deadline_line(case.deadline_at, case.business_seconds_left, case.status, reader, now),
    ]
    return Rendered("\n".join(line for line in lines if line), alert_keyboard(case, reader))


def priority_text(priority: Priority, lang: str) -> str:
    return ", ".join(t(f"priority.{reason.value}", lang) for reason in priority.reasons)


def render_queue(cases: Sequence[CaseFields], reader: Reader, now: datetime,
                 priorities: Mapping[int, Priority] | None = None) -> str:
    """The reader's open cases in one message (the rest counted): by priority (domain/priority) when given,
    else soonest deadline first."""
    if not cases:
        return t("queue.empty", reader.lang)
    if priorities is None:
        ordered = sorted(cases, key=lambda c: (c.deadline_at, c.case_id))
        title = t("queue.title", reader.lang, count=len(ordered))
    else:
        ordered = by_priority((c, priorities.get(c.case_id, Priority(0, ())), c.deadline_at, c.case_id)
                              for c in cases)
        title = t("queue.title_priority", reader.lang, count=len(ordered))
    lines = [f"<b>{title}</b>"]
    shown = 0
    for case in ordered:
        deadline = deadline_line(case.deadline_at, case.business_seconds_left, case.status, reader, now)
        head = " · ".join(
            p
            for p in (f"<b>#{case.case_id}</b>", name_text(case.brand or ""), stars(case.rating, case.rating_max))
            if p
        )
        priority = priorities.get(case.case_id) if priorities else None
        if priority is not None and priority.reasons:
            head += f"\n❗ {priority_text(priority, reader.lang)}"
        entry = f"{head}\n⏰ {deadline}\n{_excerpt(case, 80)}"
        more = t("queue.more", reader.lang, count=len(ordered) - shown - 1)
        if visible_length("\n\n".join([*lines, entry, more])) > MESSAGE_LIMIT:
            break
        lines.append(entry)
        shown += 1
    if shown < len(ordered):
        lines.append(t("queue.more", reader.lang, count=len(ordered) - shown))
    return "\n\n".join(lines)


def render_case(case: CaseFields, reader: Reader, now: datetime, history: Sequence[HistoryEntry] = ()) -> list[str]:
    """The whole case for /case ID: header, full text, deadline, and the author's earlier mentions of the brand
    with how each was handled; as many messages as it takes."""
    lines = _header(case, reader) + [_body(case.title, case.text), "", *_footer(case, reader, now)]
    if history:
        lines += ["", f"<b>{t('history.title', reader.lang, count=len(history))}</b>"]
        lines += [_history_line(entry, reader, now) for entry in history]
    return split_for_telegram("\n".join(lines))


def _history_line(entry: HistoryEntry, reader: Reader, now: datetime) -> str:
    who = name_text(entry.handled_by or t("label.unassigned", reader.lang))
    answered = _when(entry.answered_at, reader, now) if entry.answered_at else ""
    handling = t(f"handling.{entry.handling.value}", reader.lang, who=who, when=answered)
    rating = stars(entry.rating, 5.0) if entry.rating is not None else ""
    line = t("history.entry", reader.lang, mention_id=entry.mention_id, when=_when(entry.at, reader, now),
             source=name_text(entry.source), stars=f"{rating} · " if rating else "", handling=handling)
    return f"{line}\n  {user_text(shorten(' '.join(entry.text.split()), 100))}"


class IndexFields(Protocol):
    @property
    def average(self) -> float | None: ...
    @property
    def count(self) -> int: ...
    @property
    def trend(self) -> float | None: ...


class SatisfactionFields(Protocol):
    @property
    def brand(self) -> str: ...
    @property
    def index(self) -> IndexFields: ...
    @property
    def by_source(self) -> Mapping[str, IndexFields]: ...
    @property
    def warned(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class _PayloadIndex:
    """A source's figures as a satisfaction warning's payload carries them."""

    average: float | None
    count: int
    trend: float | None


def _satisfaction_line(scope: str, index: IndexFields, warned: bool, lang: str) -> str:
    if index.average is None:
        return t("stats.satisfaction_none", lang, scope=scope)
    trend = "" if index.trend is None else (
        f" ({'▲' if index.trend > 0 else '▼' if index.trend < 0 else '='}{abs(index.trend):.2f})")
    return t("stats.satisfaction_brand", lang, scope=scope, average=f"{index.average:.2f}", count=index.count,
             trend=trend, warning=t("stats.satisfaction_warning", lang) if warned else "")


def render_satisfaction(brands: Sequence[SatisfactionFields], window_days: float, lang: str) -> list[str]:
    """/stats' lines on the satisfaction index: each brand, then its sources ("" in `warned`: the brand's)."""
    if not brands:
        return []
    lines = ["", t("stats.satisfaction_title", lang, days=f"{window_days:g}")]
    for brand in brands:
        lines.append(_satisfaction_line(name_text(brand.brand), brand.index, "" in brand.warned, lang))
        for source, index in brand.by_source.items():
            lines.append("  " + _satisfaction_line(name_text(source), index, source in brand.warned, lang))
    return lines


def render_stats(stats: StatsFields, lang: str, satisfaction: Sequence[str] = ()) -> str:
    in_time = t("stats.in_time", lang, in_time=stats.answered_in_time_this_week, answered=stats.answered_this_week)
    median = (
        t("stats.median", lang, duration=_duration(stats.median_first_reply_hours * 3600, lang))
        if stats.median_first_reply_hours is not None
        else t("stats.median_none", lang)
    )
    lines = [
        f"<b>{t('stats.title', lang)}</b>",
        t("stats.open", lang, count=stats.open_cases),
        t("stats.overdue", lang, count=stats.overdue),
        in_time,
        median,
    ]
    if stats.open_by_assignee:
        lines.append("")
        lines.append(t("stats.by_person", lang))
        for name, count in sorted(stats.open_by_assignee.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"• {name_text(name)}: {count} ({stats.overdue_by_assignee.get(name, 0)})")
    lines += satisfaction
    return split_for_telegram("\n".join(lines))[0]


def bot_commands(lang: str, for_leads: bool = False) -> list[tuple[str, str]]:
    """(command, description) pairs in ``lang``, for /help and setMyCommands (the table: bot/commands.py)."""
    return [(command.name, t(f"command.{command.name}", lang)) for command in commands.listed(for_leads)]


def render_help(lang: str, is_lead: bool) -> str:
    lines = [f"<b>{t('help.title', lang)}</b>"]
    lines += [f"/{name} — {html.escape(text, quote=False)}" for name, text in bot_commands(lang, is_lead)]
    return "\n".join(lines)


def keyboard_rows(keyboard: Keyboard) -> list[list[dict[str, str]]]:
    """The keyboard as Bot API JSON (``reply_markup.inline_keyboard``)."""
    return [
        [
            {"text": b.label, "callback_data": b.callback_data}
            if b.callback_data
            else {"text": b.label, "url": b.url or ""}
            for b in row
        ]
        for row in keyboard
    ]


def render_satisfaction_warning(payload: Mapping[str, object], lang: str) -> str:
    source = payload.get("source")
    scope = name_text(str(payload.get("brand", "?"))) + (f" / {name_text(str(source))}" if source else "")

    def figure(key: str) -> str:
        value = payload.get(key)
        return "—" if value is None else f"{float(str(value)):g}"

    headline = t(f"notice.satisfaction_{'drop' if payload.get('reason') == 'drop' else 'below'}", lang,
                 scope=scope, average=figure("average"), previous=figure("previous"),
                 threshold=figure("threshold"), count=payload.get("count", 0), days=figure("window_days"))
    sources = payload.get("sources")
    lines = [headline]
    for row in sources if isinstance(sources, list) else []:
        index = _PayloadIndex(row.get("average"), int(row.get("count", 0)), row.get("trend"))
        lines.append(_satisfaction_line(name_text(str(row.get("source", "?"))), index, bool(row.get("warned")), lang))
    return "\n".join(lines)


def render_notice(payload: Mapping[str, object], case_id: int | None, lang: str) -> str:
    """Notices to leads: a staff member unreachable, a routing note, a broken source."""
    notice = str(payload.get("notice", ""))
    about_a_reply = render_reply_notice(payload, case_id, lang)
    if about_a_reply is not None:
        return about_a_reply
    if notice == "unreachable":
        raw_cases = payload.get("cases")
        cases = ", ".join(f"#{c}" for c in raw_cases) if isinstance(raw_cases, list) and raw_cases else "—"
        return t(
            "notice.unreachable",
            lang,
            staff=name_text(str(payload.get("staff", "?"))),
            why=user_text(str(payload.get("why", ""))),
            cases=cases,
        )
    if notice == "routing":
        return t("notice.routing", lang, case_id=case_id or "?", reason=user_text(str(payload.get("reason", ""))))
    if notice == "source_broken":
        return t(
            "notice.source_broken",
            lang,
            source=name_text(str(payload.get("source", "?"))),
            reason=user_text(str(payload.get("reason", ""))),
        )
    if notice == "satisfaction":
        return render_satisfaction_warning(payload, lang)
    return t("notice.other", lang, text=user_text(", ".join(f"{k}: {v}" for k, v in payload.items())))


def render_outbox(
    kind: str, payload: Mapping[str, object], case: CaseFields | None, reader: Reader, now: datetime
) -> Rendered:
    """The message for an outbox row: ``alert`` and ``edit`` (the card again), ``reminder``,
    ``escalation`` and ``notice``; a case-bound kind whose case is gone becomes a notice."""
    if case is not None and kind in ("alert", "edit"):
        return render_alert(case, reader, now)
    if case is not None and kind == "reminder":
        return render_reminder(case, reader, now)
    if case is not None and kind == "escalation":
        return render_escalation(case, reader, now)
    if kind == "reply_approval":
        return render_approval_request(payload, case.case_id if case else None, reader.lang)
    return Rendered(render_notice(payload, case.case_id if case else None, reader.lang), [])


def plain_text(text_html: str) -> str:
    """What a reader sees of Telegram HTML: tags dropped, entities decoded."""
    return "".join(html.unescape(token) for token in _visible_tokens(text_html)).strip()


def render_message_text(
    kind: str, payload: Mapping[str, object], case: CaseFields | None, lang: str, timezone: ZoneInfo, now: datetime
) -> str:
    """An outbox message as plain text with its buttons, for the terminal (``review-watch demo``)."""
    rendered = render_outbox(kind, payload, case, Reader(lang, timezone), now)
    buttons = "  ".join(f"[{b.label}]" for row in rendered.keyboard for b in row)
    return plain_text(rendered.text) + (f"\n{buttons}" if buttons else "")


# ------------------------------------------------------------------------------------------- replies

PLATFORM_NAMES = {
    "googleplay": "Google Play", "appstore": "the App Store", "trustpilot": "Trustpilot",
    "googlebusiness": "Google reviews", "mastodon": "Mastodon", "bluesky": "Bluesky", "reddit": "Reddit",
    "hackernews": "Hacker News", "rss": "the feed's site", "schemaorg": "the shop's page",
}
REPLY_QUOTE_LIMIT = 3000


def platform_name(source_type: str) -> str:
    return PLATFORM_NAMES.get(source_type, source_type)


def reply_quote(text: str) -> str:
    return f"<blockquote>{user_text(shorten(text, REPLY_QUOTE_LIMIT))}</blockquote>"


def _reply_lines(case: CaseFields, lang: str) -> list[str]:
    """The card's line about its reply on the platform: posting, pending, visible, refused ..."""
    if case.reply_state not in ("posting", "pending", "posted", "awaiting_approval", "refused", "deleted"):
        return []
    return [t(f"card.reply.{case.reply_state}", lang, platform=platform_name(case.source_type))]


def _reply_buttons(case: CaseFields, lang: str) -> Keyboard:
    """Edit and delete for a reply the platform shows."""
    if case.reply_id is None or case.reply_state not in ("posted", "pending"):
        return []
    return [[Button(t("button.rchange", lang), callbacks.encode_callback(callbacks.CHANGE_REPLY, case.reply_id)),
             Button(t("button.rdelete", lang),
                    callbacks.encode_callback(callbacks.DELETE_REPLY, case.reply_id))]]


def render_approval_request(payload: Mapping[str, object], case_id: int | None, lang: str) -> Rendered:
    """To a lead: an agent's draft, with Approve, Edit and Reject."""
    reply_id = int(str(payload.get("reply_id", 0)))
    text = t("reply.approval_request", lang, author=name_text(str(payload.get("author", "?"))),
             case_id=case_id or "?", platform=platform_name(str(payload.get("platform", ""))))
    keyboard: Keyboard = [[
        Button(t("button.rapprove", lang), callbacks.encode_callback(callbacks.APPROVE_REPLY, reply_id)),
        Button(t("button.redit", lang), callbacks.encode_callback(callbacks.EDIT_DRAFT, reply_id)),
        Button(t("button.rreject", lang), callbacks.encode_callback(callbacks.REJECT_REPLY, reply_id)),
    ]]
    return Rendered(f"{text}\n{reply_quote(str(payload.get('text', '')))}", keyboard)


def render_reply_notice(payload: Mapping[str, object], case_id: int | None, lang: str) -> str | None:
    """The author told what became of their reply; None for a notice about something else."""
    notice = str(payload.get("notice", ""))
    platform = platform_name(str(payload.get("platform", "")))
    case = case_id or "?"
    if notice == "reply_posted":
        key = "notice.reply_pending" if payload.get("state") == "pending" else "notice.reply_posted"
        return t(key, lang, case_id=case, platform=platform)
    if notice == "reply_refused":
        reason = user_text(" ".join(str(payload.get("reason", "")).split()))
        return "\n".join((t("notice.reply_refused", lang, case_id=case, platform=platform, reason=reason),
                          reply_quote(str(payload.get("text", ""))), t("reply.draft_kept", lang, case_id=case)))
    if notice == "reply_approved":
        key = "notice.reply_approved_edited" if payload.get("edited") else "notice.reply_approved"
        return t(key, lang, case_id=case, lead=name_text(str(payload.get("lead", "?"))))
    if notice == "reply_rejected":
        return "\n".join((t("notice.reply_rejected", lang, case_id=case, lead=name_text(str(payload.get("lead", "?")))),
                          reply_quote(str(payload.get("text", "")))))
    return None
