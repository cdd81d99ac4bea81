"""Alert cards, reminders, /queue, /case and /stats as Telegram HTML."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import telegram
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.formatting import (
    FSI,
    MESSAGE_LIMIT,
    PDI,
    Reader,
    business_time_left,
    deadline_line,
    keyboard_rows,
    render_alert,
    render_case,
    render_escalation,
    render_help,
    render_message_text,
    render_outbox,
    render_queue,
    render_reminder,
    render_stats,
    shorten,
    split_for_telegram,
    stars,
    user_text,
    visible_length,
)
from review_watch.services.views import CaseView
from tests.telegram_standin import ControlClient
from tests.telegram_standin.html_parse import HtmlParseError, parse_html, utf16_len

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY_9_UTC = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EN_LEAD = Reader("en", STOCKHOLM, is_lead=True)
EN_AGENT = Reader("en", STOCKHOLM)
HOSTILE = 'Bob <script>alert("x")</script> & "friends" \'quoted\' &amp; <b>'


def case(**changes: object) -> CaseView:
    base = CaseView(
        case_id=42,
        brand="Acme",
        source="acme-trustpilot",
        source_type="trustpilot",
        url="https://www.trustpilot.com/reviews/abc?x=1&y=2",
        author="Bob",
        rating=2,
        rating_max=5,
        language="en",
        title="Slow",
        text="I waited 3 weeks. Nobody answered.",
        sentiment="negative",
        sentiment_score=0.934,
        churn_intent=False,
        competitor=None,
        threat=False,
        staff_abuse=False,
        status="assigned",
        assignee="Anna",
        deadline_at=datetime(2026, 11, 24, 13, 0, tzinfo=UTC),
        business_seconds_left=5 * 3600,
        routing_note=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def plain(text_html: str) -> str:
    return parse_html(text_html)[0]


def test_hostile_text_is_escaped_and_arrives_intact() -> None:
    card = render_alert(case(author=HOSTILE, title=HOSTILE, text=HOSTILE, brand=HOSTILE), EN_AGENT, MONDAY_9_UTC)
    shown = plain(card.text)
    assert shown.count(HOSTILE) == 4
    assert "<script>" not in card.text
    assert "&lt;script&gt;" in card.text
    assert "&amp;amp;" in card.text


def test_card_shows_what_staff_need_at_a_glance() -> None:
    card = render_alert(case(churn_intent=True, competitor="Globex", staff_abuse=True), EN_AGENT, MONDAY_9_UTC)
    shown = plain(card.text)
    assert "★★☆☆☆ 2/5" in shown
    assert "negative 0.93" in shown
    assert "churn risk, mentions competitor Globex, abuse of staff" in shown
    assert "reply by Tue 14:00, 5 business hours left" in shown  # 13:00 UTC is 14:00 in Stockholm
    assert "Assignee: Anna" in shown
    assert "Case #42" in shown  # the id that `export` shows
    _, entities = parse_html(card.text)
    links = [e["url"] for e in entities if e["type"] == "text_link"]
    assert links == ["https://www.trustpilot.com/reviews/abc?x=1&y=2"]


def test_keyboard_claim_first_reassign_for_leads_open_original_last() -> None:
    lead = render_alert(case(), EN_LEAD, MONDAY_9_UTC).keyboard
    agent = render_alert(case(), EN_AGENT, MONDAY_9_UTC).keyboard
    assert lead[0][0].callback_data == "claim:42"
    assert [b.callback_data for row in lead for b in row][:-1] == [
        "claim:42",
        "reply:42",
        "resolve:42",
        "wait:42",
        "not_actionable:42",
        "reassign:42",
    ]
    assert lead[-1][0].url == "https://www.trustpilot.com/reviews/abc?x=1&y=2"
    assert "reassign:42" not in [b.callback_data for row in agent for b in row]
    claimed = render_alert(case(status="claimed"), EN_AGENT, MONDAY_9_UTC).keyboard
    assert claimed[0][0].callback_data == "reply:42"
    resolved = render_alert(case(status="resolved"), EN_AGENT, MONDAY_9_UTC).keyboard
    assert [[b.url for b in row] for row in resolved] == [["https://www.trustpilot.com/reviews/abc?x=1&y=2"]]
    no_link = render_alert(case(url="javascript:alert(1)"), EN_AGENT, MONDAY_9_UTC)
    assert all(b.url is None for row in no_link.keyboard for b in row)
    assert "javascript:" not in no_link.text


@pytest.mark.parametrize(
    ("seconds", "lang", "expected"),
    [
        (5 * 3600, "en", "5 business hours left"),
        (3600, "en", "1 business hour left"),
        (80 * 60, "en", "1 h 20 min of business time left"),
        (20 * 60, "en", "20 business minutes left"),
        (59, "en", "1 business minute left"),
        (5 * 3600, "ru", "осталось 5 рабочих часов"),
        (2 * 3600, "ru", "осталось 2 рабочих часа"),
        (21 * 3600, "ru", "остался 21 рабочий час"),
        (11 * 60, "ru", "осталось 11 рабочих минут"),
    ],
)
def test_business_time_left(seconds: float, lang: str, expected: str) -> None:
    assert business_time_left(seconds, lang) == expected


def test_deadline_in_the_readers_time_zone_and_overdue() -> None:
    deadline = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    tokyo = Reader("en", ZoneInfo("Asia/Tokyo"))
    assert deadline_line(deadline, 3600, "assigned", tokyo, MONDAY_9_UTC) == "reply by Tue 22:00, 1 business hour left"
    moscow = Reader("ru", ZoneInfo("Europe/Moscow"))
    assert deadline_line(deadline, 3 * 3600, "claimed", moscow, MONDAY_9_UTC) == (
        "ответить до Вт 16:00, осталось 3 рабочих часа"
    )
    later = deadline + timedelta(hours=2, minutes=5)
    assert deadline_line(deadline, -7500, "escalated", EN_AGENT, later) == "OVERDUE by 2 h 5 min (was due Tue 14:00)"
    far = datetime(2026, 12, 8, 13, 0, tzinfo=UTC)
    assert deadline_line(far, 3600 * 40, "assigned", EN_AGENT, MONDAY_9_UTC).startswith("reply by Tue 08.12 14:00")
    assert deadline_line(deadline, 100, "replied", EN_AGENT, MONDAY_9_UTC) == "reply recorded; was due Tue 14:00"


def test_stars() -> None:
    assert stars(1, 5) == "★☆☆☆☆ 1/5"
    assert stars(4.5, 5) == "★★★★★ 4.5/5"
    assert stars(7, 10) == "★★★★☆ 7/10"
    assert stars(3, None) == "★★★☆☆ 3/5"
    assert stars(None, 5) == ""


def test_rtl_text_is_isolated_per_line_and_ltr_text_is_untouched() -> None:
    arabic = "الخدمة سيئة جدا\nلن أعود أبدا"
    card = render_alert(case(text=arabic, author="דוד כהן", title="Bad"), EN_AGENT, MONDAY_9_UTC)
    shown = plain(card.text)
    assert f"{FSI}الخدمة سيئة جدا{PDI}\n{FSI}لن أعود أبدا{PDI}" in shown
    assert f"by {FSI}דוד כהן{PDI}" in shown
    assert shown.count(FSI) == shown.count(PDI) == 3
    latin = render_alert(case(), EN_AGENT, MONDAY_9_UTC)
    assert FSI not in latin.text and PDI not in latin.text


def long_review(size: int = 6000) -> str:
    sentences = [
        f'Sentence {n} says the parcel & the <refund> were "late" again; Ünïcode 😀 works. ' for n in range(size // 60)
    ]
    text = "".join(sentences)
    text = text[: size // 2] + "\n\n" + text[size // 2 :]
    return text[:size]


def test_long_review_is_shortened_in_the_card_with_a_way_to_read_the_rest() -> None:
    text = long_review()
    assert len(text) == 6000
    card = render_alert(case(text=text), EN_AGENT, MONDAY_9_UTC)
    shown = plain(card.text)
    assert utf16_len(shown) <= MESSAGE_LIMIT
    assert "Full text: /case 42" in shown
    assert "…" in shown
    parts = render_case(case(text=text), EN_AGENT, MONDAY_9_UTC)
    assert len(parts) >= 2
    assert all(utf16_len(plain(p)) <= MESSAGE_LIMIT for p in parts)
    joined = "".join(plain(p) for p in parts)
    assert joined.replace("\n", "").replace(" ", "").count("Sentence") == text.count("Sentence")
    assert all(part.rstrip().endswith((".", "</blockquote>", "42</code>")) for part in parts[:-1])


def test_card_stays_within_the_limit_whatever_the_title_and_names() -> None:
    huge = "&<>" * 3000
    card = render_alert(case(title=huge, author=huge, text=huge * 2, brand="B" * 300), EN_LEAD, MONDAY_9_UTC)
    assert utf16_len(plain(card.text)) <= MESSAGE_LIMIT


async def test_six_thousand_characters_are_accepted_by_the_stand_in(telegram_standin: ControlClient) -> None:
    view = case(text=long_review(), author=HOSTILE)
    card = render_alert(view, EN_LEAD, MONDAY_9_UTC)
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.callback_data, url=b.url) for b in row]
            for row in card.keyboard
        ]
    )
    async with telegram.Bot(telegram_standin.token, base_url=telegram_standin.base_url) as bot:
        await bot.send_message(1001, card.text, parse_mode="HTML", reply_markup=markup)
        for part in render_case(view, EN_LEAD, MONDAY_9_UTC):
            await bot.send_message(1001, part, parse_mode="HTML")
        await bot.send_message(1001, render_help("ru", True), parse_mode="HTML")
    assert telegram_standin.rejections() == []
    [first, *rest] = telegram_standin.messages(1001)
    assert first["reply_markup"]["inline_keyboard"] == keyboard_rows(card.keyboard)
    assert len(rest) >= 3


_PIECES = st.text(alphabet=list("ab cd.!\n&<>\"'😀ж"), min_size=1, max_size=40).map(user_text)
_TAGS = st.sampled_from(["b", "i", "u", "s", "code", "blockquote", 'a href="https://x.example/?a=1&amp;b=2"'])


def _wrap(pair: tuple[str, list[str]]) -> str:
    tag, inner = pair
    return f"<{tag}>{''.join(inner)}</{tag.split()[0]}>"


_HTML = st.recursive(
    _PIECES,
    lambda inner: (
        st.tuples(_TAGS, st.lists(inner, min_size=1, max_size=4)).map(_wrap)
        | st.lists(inner, min_size=2, max_size=4).map("".join)
    ),
    max_leaves=25,
)


@settings(max_examples=80, deadline=None)
@given(_HTML, st.integers(min_value=8, max_value=120))
def test_split_never_breaks_html_and_respects_the_limit(text_html: str, limit: int) -> None:
    try:
        assume(plain(text_html) != "")
    except HtmlParseError:
        assume(False)  # e.g. a blockquote inside a blockquote: not valid input
    parts = split_for_telegram(text_html, limit)
    assert parts
    for part in parts:
        shown, _ = parse_html(part)  # raises on broken tags or entities
        assert 0 < utf16_len(shown) <= limit
    joined = "".join(plain(p) for p in parts)
    assert "".join(joined.split()) == "".join(plain(text_html).split())


def test_split_prefers_paragraphs_then_sentences() -> None:
    text = "First paragraph one. Still first.\n\nSecond paragraph here. And more words follow"
    assert split_for_telegram(text, 60) == [
        "First paragraph one. Still first.",
        "Second paragraph here. And more words follow",
    ]
    assert split_for_telegram("Alpha beta gamma. Delta epsilon zeta", 24) == ["Alpha beta gamma.", "Delta epsilon zeta"]
    assert split_for_telegram("Hi. Three four five six seven", 20) == ["Hi. Three four five", "six seven"]
    assert split_for_telegram("<b>abcdefghij</b>", 4) == ["<b>abcd</b>", "<b>efgh</b>", "<b>ij</b>"]
    assert split_for_telegram("short", 4096) == ["short"]


def test_shorten_cuts_at_sentence_or_word() -> None:
    assert shorten("One. Two three four.", 12) == "One…" or shorten("One. Two three four.", 12).endswith("…")
    assert shorten("alpha beta gamma delta", 14) == "alpha beta…"
    assert shorten("short", 10) == "short"
    assert len(shorten("x" * 50, 10)) == 10


def test_visible_length_counts_entities_once_and_emoji_twice() -> None:
    assert visible_length("<b>&amp;</b>😀") == 3


def test_reminder_and_escalation() -> None:
    reminder = render_reminder(case(business_seconds_left=1800), EN_AGENT, MONDAY_9_UTC)
    assert plain(reminder.text).startswith("⏰ Reminder: case #42 is waiting for a reply")
    assert "30 business minutes left" in plain(reminder.text)
    assert reminder.keyboard[0][0].callback_data == "claim:42"
    later = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    escalation = render_escalation(case(status="escalated", business_seconds_left=-3600), EN_LEAD, later)
    shown = plain(escalation.text)
    assert "🚨 Escalated: case #42 is overdue" in shown
    assert "Assigned to Anna" in shown
    assert "OVERDUE by 1 h 0 min" in shown
    assert ["reassign:42"] in [[b.callback_data for b in row] for row in escalation.keyboard]


def test_queue_soonest_deadline_first_and_bounded() -> None:
    cases = [
        case(case_id=n, deadline_at=MONDAY_9_UTC + timedelta(hours=30 - n), text=f"text {n} " * 20)
        for n in range(1, 200)
    ]
    queue = render_queue(cases, EN_AGENT, MONDAY_9_UTC)
    shown = plain(queue)
    assert utf16_len(shown) <= MESSAGE_LIMIT
    assert shown.index("#199") < shown.index("#198")
    assert "… and " in shown
    assert render_queue([], EN_AGENT, MONDAY_9_UTC) == "No open cases. 🎉"
    assert "Ваши открытые обращения (2)" in plain(render_queue(cases[:2], Reader("ru", STOCKHOLM), MONDAY_9_UTC))


@dataclasses.dataclass(frozen=True)
class Figures:
    open_cases: int = 7
    overdue: int = 2
    answered_this_week: int = 10
    answered_in_time_this_week: int = 8
    median_first_reply_hours: float | None = 2.5
    open_by_assignee: dict[str, int] = dataclasses.field(default_factory=lambda: {"Anna": 4, "<Boris>": 3})
    overdue_by_assignee: dict[str, int] = dataclasses.field(default_factory=lambda: {"Anna": 2})


def test_stats_text() -> None:
    shown = plain(render_stats(Figures(), "en"))
    assert "Open cases: 7" in shown
    assert "Answered in time this week: 8 of 10" in shown
    assert "Median time to first reply: 2 h 30 min" in shown
    assert "• Anna: 4 (2)\n• <Boris>: 3 (0)" in shown
    assert "за неделю ответов не было" in plain(render_stats(Figures(median_first_reply_hours=None), "ru"))


def test_help_lists_lead_commands_only_for_leads() -> None:
    assert "/assign" in render_help("en", True)
    assert "/assign" not in render_help("en", False)
    assert plain(render_help("ru", False)).startswith("Что я умею:")


def test_every_button_fits_telegram() -> None:
    card = render_alert(case(case_id=10**17), EN_LEAD, MONDAY_9_UTC)
    for row in card.keyboard:
        for button in row:
            assert (button.callback_data is None) != (button.url is None)
            if button.callback_data:
                assert len(button.callback_data.encode()) <= callbacks.MAX_BYTES


def test_outbox_messages_for_the_terminal_and_for_telegram() -> None:
    tz = STOCKHOLM
    alert = render_message_text("alert", {}, case(text="Bad & <slow>"), "en", tz, MONDAY_9_UTC)
    assert "Bad & <slow>" in alert
    assert alert.splitlines()[-1].startswith("[✋ Claim]  [💬 Reply]")
    assert "Напоминание: обращение #42" in render_message_text("reminder", {}, case(), "ru", tz, MONDAY_9_UTC)
    unreachable = {"notice": "unreachable", "staff": "Anna <A>", "why": "bot was blocked", "cases": [3, 4]}
    assert render_message_text("notice", unreachable, None, "en", tz, MONDAY_9_UTC) == (
        "⚠️ Anna <A> cannot be reached in Telegram (bot was blocked). Their open cases were re-routed: #3, #4"
    )
    broken = render_outbox(
        "notice", {"notice": "source_broken", "source": "s", "reason": "HTTP 503 & more"}, None, EN_LEAD, MONDAY_9_UTC
    )
    assert plain(broken.text) == "🛠 Source s keeps failing: HTTP 503 & more"
    assert broken.keyboard == []
    routing = render_outbox(
        "notice", {"notice": "routing", "reason": "no agent speaks ar"}, case(), EN_LEAD, MONDAY_9_UTC
    )
    assert plain(routing.text) == "ℹ️ Case #42: no agent speaks ar"
    assert render_outbox("edit", {}, case(status="claimed"), EN_LEAD, MONDAY_9_UTC).keyboard[0][0].label == "💬 Reply"
    assert "Case #" not in render_message_text("escalation", {"level": 1}, None, "en", tz, MONDAY_9_UTC)
