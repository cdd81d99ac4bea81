"""The "please look" list as a lead reads it: within Telegram's limits, escaped, one pair of buttons per item."""

from __future__ import annotations

from bot.callbacks import MAX_BYTES, decode_callback
from bot.formatting import MESSAGE_LIMIT, plain_text, visible_length
from bot.please_look import render_please_look
from review_watch.services.review_queue import ITEMS_PER_MESSAGE, UnsureItem


def item(mention_id: int, text: str, **fields: object) -> UnsureItem:
    values: dict[str, object] = {"brand": "Acme", "source": "acme-tp", "url": f"https://example.com/r/{mention_id}",
                                 "title": None, "rating": 3.0, "rating_max": 5.0, **fields}
    return UnsureItem(mention_id=mention_id, text=text, **values)  # type: ignore[arg-type]


def test_a_full_list_of_the_longest_items_fits_one_message_and_every_button_fits_telegram() -> None:
    huge = [item(999_999_999_999 - n, "Долгий отзыв & <b>не тег</b>. " * 200, brand="B" * 300, source="S" * 300,
                 title="T" * 30, url="https://example.com/" + "x" * 2000) for n in range(ITEMS_PER_MESSAGE)]
    rendered = render_please_look(huge, "ru")
    assert visible_length(rendered.text) <= MESSAGE_LIMIT
    assert "<b>не тег</b>" not in rendered.text and "&lt;b&gt;не тег" in rendered.text
    data = [button.callback_data or "" for row in rendered.keyboard for button in row]
    assert len(data) == 2 * ITEMS_PER_MESSAGE and all(len(d.encode()) <= MAX_BYTES for d in data)
    assert {decode_callback(d).action for d in data} == {"complaint", "notcomplaint"}  # type: ignore[union-attr]


def test_each_item_is_numbered_with_its_source_link_and_its_buttons() -> None:
    rendered = render_please_look([item(7, "The parcel came, eventually."), item(9, "Hmm.", rating=None)], "en")
    text = plain_text(rendered.text)
    assert "1. Acme · acme-tp · ★★★☆☆ 3/5\nThe parcel came, eventually.\n\n2. Acme · acme-tp\nHmm." in text
    assert '<a href="https://example.com/r/9">acme-tp</a>' in rendered.text
    assert [[b.label for b in row] for row in rendered.keyboard] == [["1. Complaint", "1. Not a complaint"],
                                                                     ["2. Complaint", "2. Not a complaint"]]
    assert [[b.callback_data for b in row] for row in rendered.keyboard] == [["complaint:7", "notcomplaint:7"],
                                                                             ["complaint:9", "notcomplaint:9"]]
