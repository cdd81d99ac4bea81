"""What the bot shows about replies to the platform: the confirmation, the card's reply line and buttons, the
leads' approval request and the author's notices (pure rendering, checked by Telegram's HTML rules)."""

from __future__ import annotations

from bot import callbacks
from bot.formatting import Keyboard, render_alert, render_outbox
from bot.i18n import t
from bot.replies import render_confirmation
from review_watch.services.replies import ReplyView
from tests.bot.test_formatting import EN_AGENT, EN_LEAD, case, plain


def view(text: str, **changes: object) -> ReplyView:
    values: dict[str, object] = dict(
        reply_id=7, case_id=42, state="draft", text=text, draft_text=text, author="Anna", approved_by=None,
        source="acme-play", platform="googleplay", original_url="https://play.google.com/x", account="me@x.iam",
        posts_to_platform=True, max_length=350, length_unit="characters", length=len(text), needs_approval=False,
        can_edit=True, can_delete=False, setup_problem=None, last_error=None, platform_reply_id=None)
    values.update(changes)
    return ReplyView(**values)  # type: ignore[arg-type]


def data(keyboard: Keyboard) -> list[str]:
    return [b.callback_data for row in keyboard for b in row if b.callback_data]


def test_the_confirmation_says_where_as_whom_and_the_length() -> None:
    shown = render_confirmation(view("Sorry <b>really</b> & thanks"), "en")
    text = plain(shown.text)
    assert "Google Play" in text and "me@x.iam" in text and "28 of at most 350" in text
    assert "Sorry <b>really</b> & thanks" in text  # the draft, escaped
    assert data(shown.keyboard) == ["rpost:7", "rcancel:7"]


def test_too_long_is_said_with_the_count_and_offers_no_post_button() -> None:
    shown = render_confirmation(view("x" * 412), "en")
    assert "412" in plain(shown.text) and "350" in plain(shown.text) and shown.keyboard == []


def test_the_card_shows_the_reply_and_offers_edit_and_delete_once_posted() -> None:
    posting = render_alert(case(reply_state="posting", reply_id=7, source_type="googleplay"), EN_AGENT,
                           case().deadline_at)
    assert t("card.reply.posting", "en", platform="Google Play") in plain(posting.text)
    assert not {"rchange:7", "rdelete:7"} & set(data(posting.keyboard))
    posted = render_alert(case(reply_state="posted", reply_id=7, status="replied", source_type="googleplay"),
                          EN_AGENT, case().deadline_at)
    assert t("card.reply.posted", "en", platform="Google Play") in plain(posted.text)
    assert {"rchange:7", "rdelete:7"} <= set(data(posted.keyboard))
    assert plain(posted.text).splitlines()[-1].endswith("#42")  # the case line stays last


def test_a_lead_gets_the_draft_with_approve_edit_and_reject() -> None:
    payload = {"reply_id": 7, "text": "sorry!!", "author": "Anna", "platform": "googleplay"}
    shown = render_outbox("reply_approval", payload, case(), EN_LEAD, case().deadline_at)
    assert "Anna" in plain(shown.text) and "sorry!!" in plain(shown.text) and "#42" in plain(shown.text)
    assert data(shown.keyboard) == [f"{action}:7" for action in (callbacks.APPROVE_REPLY, callbacks.EDIT_DRAFT,
                                                                   callbacks.REJECT_REPLY)]


def test_a_refusal_reaches_the_author_in_one_line_with_the_draft() -> None:
    payload = {"notice": "reply_refused", "reply_id": 7, "text": "Sorry about that", "platform": "googleplay",
               "reason": "Google Play: the review is gone (deleted)"}
    text = plain(render_outbox("notice", payload, case(), EN_AGENT, case().deadline_at).text)
    (reason,) = [line for line in text.splitlines() if "review is gone" in line]
    assert "#42" in reason and "Sorry about that" in text and "/reply 42" in text
