"""RSS 2.0, RSS 1.0 and Atom feeds to a flat list of entries, whatever their encoding."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from spiders.parsing.encoding import decode_body

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class FeedError(ValueError):
    """The body is not a complete RSS or Atom feed."""


@dataclass
class FeedEntry:
    id: str | None
    link: str | None
    title: str | None
    author: str | None
    published: str | None  # as written in the feed
    updated: str | None
    content: str | None  # HTML or text, as written
    language: str | None
    categories: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)  # every child element's text, by local name


@dataclass
class Feed:
    kind: str  # "rss" or "atom"
    title: str | None
    language: str | None
    entries: list[FeedEntry]
    next_url: str | None  # RFC 5005 rel="next", when the feed pages


def parse_feed(body: bytes, declared_encoding: str | None = None) -> Feed:
    text = _XML_DECLARATION.sub("", decode_body(body, declared_encoding), count=1)
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"not XML: {exc}") from exc
    if root is None:
        raise FeedError("not XML")
    name = _local(root)
    if not re.search(rf"</([\w.-]+:)?{re.escape(name)}\s*>\s*$", text):
        raise FeedError(f"truncated feed: no closing </{name}>")
    if name == "feed":
        return _atom(root)
    if name in ("rss", "RDF"):
        return _rss(root)
    raise FeedError(f"not a feed: root element <{name}>")


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if _local(child) == name]


def _text(element: etree._Element, name: str) -> str | None:
    for child in _children(element, name):
        value = "".join(child.itertext()).strip() if len(child) == 0 else _inner_xml(child)
        if value:
            return value
    return None


def _inner_xml(element: etree._Element) -> str:
    """The markup inside an element (Atom type="xhtml" content)."""
    parts = [element.text or ""]
    parts += [etree.tostring(child, encoding="unicode", with_tail=True) for child in element]
    return "".join(parts).strip()


def _fields(element: etree._Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for child in element:
        name = _local(child)
        if name and name not in found:
            found[name] = "".join(child.itertext()).strip() or child.get("href") or child.get("term") or ""
    return found


def _atom(root: etree._Element) -> Feed:
    feed_language = root.get(_XML_LANG)
    entries = []
    for entry in _children(root, "entry"):
        authors = [_text(author, "name") for author in _children(entry, "author")]
        entries.append(
            FeedEntry(
                id=_text(entry, "id"),
                link=_atom_link(entry, "alternate"),
                title=_text(entry, "title"),
                author=next((a for a in authors if a), None),
                published=_text(entry, "published") or _text(entry, "issued"),
                updated=_text(entry, "updated") or _text(entry, "modified"),
                content=_text(entry, "content") or _text(entry, "summary"),
                language=entry.get(_XML_LANG) or feed_language,
                categories=[c.get("term", "") for c in _children(entry, "category") if c.get("term")],
                fields=_fields(entry),
            )
        )
    return Feed("atom", _text(root, "title"), feed_language, entries, _atom_link(root, "next"))


def _atom_link(element: etree._Element, rel: str) -> str | None:
    for link in _children(element, "link"):
        if link.get("rel", "alternate") == rel and link.get("href"):
            return str(link.get("href"))
    return None


def _rss(root: etree._Element) -> Feed:
    channel = next(iter(_children(root, "channel")), root)
    language = _text(channel, "language")
    # RSS 1.0 puts items next to the channel, RSS 2.0 inside it.
    items = _children(channel, "item") or _children(root, "item")
    entries = []
    for item in items:
        guid = _text(item, "guid")
        about = item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
        entries.append(
            FeedEntry(
                id=guid or about,
                link=_text(item, "link"),
                title=_text(item, "title"),
                author=_text(item, "creator") or _text(item, "author"),
                published=_text(item, "pubDate") or _text(item, "date"),
                updated=None,
                content=_text(item, "encoded") or _text(item, "description"),
                language=language,
                categories=[c for c in (_element_text(c) for c in _children(item, "category")) if c],
                fields=_fields(item),
            )
        )
    next_url = next((str(link.get("href")) for link in channel.iter("{http://www.w3.org/2005/Atom}link")
                     if link.get("rel") == "next" and link.get("href")), None)
    return Feed("rss", _text(channel, "title"), language, entries, next_url)


def _element_text(element: etree._Element) -> str:
    return "".join(element.itertext()).strip()
