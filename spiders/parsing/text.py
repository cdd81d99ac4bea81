"""HTML fragments to tidy plain text."""

from __future__ import annotations

import html
import re

import lxml.html
from lxml import etree

_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "table", "td", "th", "tr", "ul",
})
_DROPPED_TAGS = ("script", "style", "noscript", "template")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_TAG_HINT = re.compile(r"<[A-Za-z!/]")


def tidy_whitespace(text: str | None) -> str:
    """Collapse runs of spaces, trim each line, keep at most one blank line between paragraphs."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(fragment: str | None) -> str:
    """Plain text of an HTML fragment: tags stripped, entities decoded, whitespace tidied."""
    if not fragment:
        return ""
    if not _TAG_HINT.search(fragment):
        return tidy_whitespace(html.unescape(fragment))
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return tidy_whitespace(html.unescape(re.sub(r"<[^>]+>", " ", fragment)))
    for element in root.iter(*_DROPPED_TAGS):
        element.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
            if element.tag.lower() != "br":
                element.text = "\n" + (element.text or "")
    return tidy_whitespace(root.text_content())


def plain_text(value: str | None) -> str:
    """Entities decoded and whitespace tidied, for fields that are plain text or markdown."""
    return tidy_whitespace(html.unescape(value or ""))
