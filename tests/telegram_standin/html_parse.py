"""Telegram's HTML parse mode, as strict as the Bot API documentation: text plus entities, or an error."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
ALL_TAGS = set(SIMPLE_TAGS) | {"a", "span", "blockquote", "tg-emoji"}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]*));")
_TAG_NAME = re.compile(r"[a-zA-Z0-9-]*")
_ATTR_NAME = re.compile(r"[a-zA-Z0-9_-]+")


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; the message is what Telegram would say after the colon."""


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    name: str
    byte_offset: int
    offset: int
    attrs: dict[str, str] = field(default_factory=dict)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, i: int) -> tuple[str, int]:
    match = _ENTITY.match(text, i)
    if match is None:
        raise HtmlParseError(f"Character '&' must be escaped as &amp; at byte offset {_byte_offset(text, i)}")
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name not in NAMED_ENTITIES:
            raise HtmlParseError(f'Unsupported HTML entity "&{name};" at byte offset {_byte_offset(text, i)}')
        return NAMED_ENTITIES[name], match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise HtmlParseError(f"Invalid HTML entity at byte offset {_byte_offset(text, i)}")
    return chr(code), match.end()


def _read_attrs(text: str, i: int, tag: str, tag_byte: int) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while i < n and text[i] in " \t\n\r":
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {tag_byte}")
        if text[i] == ">":
            return attrs, i + 1
        name_match = _ATTR_NAME.match(text, i)
        if name_match is None:
            raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(text, i)}')
        attr = name_match.group().lower()
        i = name_match.end()
        while i < n and text[i] in " \t\n\r":
            i += 1
        if i < n and text[i] != "=":
            attrs[attr] = ""
            continue
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {tag_byte}")
        i += 1
        while i < n and text[i] in " \t\n\r":
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {tag_byte}")
        value_chars: list[str] = []
        if text[i] in "\"'":
            quote = text[i]
            i += 1
            while i < n and text[i] != quote:
                if text[i] == "&":
                    decoded, i = _decode_entity(text, i)
                    value_chars.append(decoded)
                elif text[i] == "<":
                    raise HtmlParseError(f"Unexpected '<' in an attribute at byte offset {_byte_offset(text, i)}")
                else:
                    value_chars.append(text[i])
                    i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {tag_byte}")
            i += 1
        else:
            while i < n and text[i] not in " \t\n\r>":
                value_chars.append(text[i])
                i += 1
        attrs[attr] = "".join(value_chars)


def _entity_for(tag: _Open, length: int, parent: _Open | None) -> dict[str, Any] | None:
    entity: dict[str, Any] = {"offset": tag.offset, "length": length}
    if tag.name == "a":
        href = tag.attrs.get("href", "")
        if not href:
            return None
        entity.update(type="text_link", url=href)
    elif tag.name == "span":
        entity["type"] = "spoiler"
    elif tag.name == "tg-emoji":
        entity.update(type="custom_emoji", custom_emoji_id=tag.attrs["emoji-id"])
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
    elif tag.name == "code" and parent is not None and parent.name == "pre":
        language = tag.attrs.get("class", "")
        if not language.startswith("language-"):
            return {"offset": tag.offset, "length": length, "type": "code"}
        return {"offset": tag.offset, "length": length, "type": "pre", "language": language[9:]}
    else:
        entity["type"] = SIMPLE_TAGS[tag.name]
    return entity


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """The plain text and entities Telegram makes of ``text``, surrounding whitespace trimmed."""
    out: list[str] = []
    out_len = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "&":
            decoded, i = _decode_entity(text, i)
            out.append(decoded)
            out_len += utf16_len(decoded)
            continue
        if c == ">":
            raise HtmlParseError(f"Character '>' must be escaped as &gt; at byte offset {_byte_offset(text, i)}")
        if c != "<":
            out.append(c)
            out_len += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue
        tag_byte = _byte_offset(text, i)
        if i + 1 < n and text[i + 1] == "/":
            name_match = _TAG_NAME.match(text, i + 2)
            assert name_match is not None
            name = name_match.group().lower()
            j = name_match.end()
            while j < n and text[j] in " \t\n\r":
                j += 1
            if j >= n or text[j] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {tag_byte}")
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {tag_byte}")
            top = stack.pop()
            if name != top.name:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {tag_byte}, expected "</{top.name}>", found "</{name}>"'
                )
            entity = _entity_for(top, out_len - top.offset, stack[-1] if stack else None)
            merged_into_code = (
                entity is not None
                and entities
                and entity["type"] == "pre"
                and entities[-1]["type"] == "pre"
                and (entities[-1]["offset"], entities[-1]["length"]) == (entity["offset"], entity["length"])
            )  # <pre><code class="language-x">: one pre entity with the language
            if entity is not None and out_len > top.offset and not merged_into_code:
                entities.append(entity)
            i = j + 1
            continue
        name_match = _TAG_NAME.match(text, i + 1)
        assert name_match is not None
        name = name_match.group().lower()
        if name not in ALL_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {tag_byte}')
        attrs, i = _read_attrs(text, name_match.end(), name, tag_byte)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(f'Unsupported start tag "span" at byte offset {tag_byte}')
        if name == "tg-emoji" and not attrs.get("emoji-id"):
            raise HtmlParseError(f"Custom emoji tag without emoji-id at byte offset {tag_byte}")
        if name == "blockquote" and any(s.name == "blockquote" for s in stack):
            raise HtmlParseError(f"Nested blockquote at byte offset {tag_byte}")
        stack.append(_Open(name, tag_byte, out_len, attrs))
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return _trim("".join(out), entities)


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    stripped = text.strip()
    if not stripped:
        return "", []
    head = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    trimmed: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - head, 0)
        end = min(entity["offset"] + entity["length"] - head, size)
        if end > start:
            trimmed.append({**entity, "offset": start, "length": end - start})
    trimmed.sort(key=lambda e: (e["offset"], -e["length"]))
    return stripped, trimmed
