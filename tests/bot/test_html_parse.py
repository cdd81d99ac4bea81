"""The stand-in's HTML parser: entities and offsets as Telegram computes them."""

from __future__ import annotations

import pytest

from tests.telegram_standin.html_parse import HtmlParseError, parse_html


def test_entities_offsets_in_utf16_and_nested() -> None:
    text, entities = parse_html('😀 <b>bold <i>both</i></b> <a href="https://x.example/?a=1&amp;b=2">link</a>')
    assert text == "😀 bold both link"
    assert entities == [
        {"offset": 3, "length": 9, "type": "bold"},
        {"offset": 8, "length": 4, "type": "italic"},
        {"offset": 13, "length": 4, "type": "text_link", "url": "https://x.example/?a=1&b=2"},
    ]


def test_special_tags() -> None:
    _, entities = parse_html(
        '<blockquote expandable>q</blockquote><pre><code class="language-python">x</code></pre>'
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    assert [e["type"] for e in entities] == [
        "expandable_blockquote",
        "pre",
        "spoiler",
        "spoiler",
        "custom_emoji",
    ]
    assert entities[1]["language"] == "python"


def test_entities_and_whitespace_trim() -> None:
    text, entities = parse_html("  \n<b> x </b>&#1046;&#x416;&quot;\n ")
    assert text == 'x ЖЖ"'
    assert entities == [{"offset": 0, "length": 2, "type": "bold"}]


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("a &bogus; b", 'Unsupported HTML entity "&bogus;" at byte offset 2'),
        ("&#0;", "Invalid HTML entity at byte offset 0"),
        ("ж & b", "Character '&' must be escaped as &amp; at byte offset 3"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<blockquote><blockquote>x</blockquote></blockquote>", "Nested blockquote at byte offset 12"),
        ("<tg-emoji>x</tg-emoji>", "Custom emoji tag without emoji-id at byte offset 0"),
    ],
)
def test_errors(html: str, message: str) -> None:
    with pytest.raises(HtmlParseError) as error:
        parse_html(html)
    assert str(error.value) == message
