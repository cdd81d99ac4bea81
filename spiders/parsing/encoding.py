"""Decoding bodies whose encoding is declared badly or not at all."""

from __future__ import annotations

import codecs
import re

_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._:-]+)[\"']")
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def sniff_encoding(body: bytes, declared: str | None = None) -> str:
    """The encoding to decode body with.

    Order: byte-order mark, XML declaration, HTML meta charset, the HTTP charset, then UTF-8 when the
    bytes are valid UTF-8, else windows-1252 (a superset of ISO-8859-1 that never fails).
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    head = body[:2048]
    for pattern in (_XML_DECLARATION, _META_CHARSET):
        found = pattern.search(head)
        if found and _known(found.group(1).decode("ascii")):
            return _normalise(found.group(1).decode("ascii"))
    if declared and _known(declared):
        name = _normalise(declared)
        if name != "utf-8" or _is_utf8(body):
            return name
    return "utf-8" if _is_utf8(body) else "windows-1252"


def decode_body(body: bytes, declared: str | None = None) -> str:
    """body decoded with the sniffed encoding, without a byte-order mark."""
    return body.decode(sniff_encoding(body, declared), errors="replace").lstrip("\ufeff")


def _known(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _normalise(name: str) -> str:
    canonical = codecs.lookup(name).name
    # Servers that say ISO-8859-1 almost always mean windows-1252 (the WHATWG rule).
    return "windows-1252" if canonical in ("latin-1", "iso8859-1", "ascii") else canonical


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
