"""A small AT Protocol lexicon checker: a value against a lexicon definition, read in place from
../shared/platform-apis/bluesky/lexicons. It covers what the Bluesky stand-in meets: objects (required, nullable),
strings (maxLength in UTF-8 bytes, maxGraphemes, minLength, minGraphemes, enum, const and the formats below),
integers, booleans, arrays, refs, unions (closed ones refuse an unknown `$type`), `unknown`, blobs, cid-links,
bytes, query `params` (strings converted by their declared type) and records (with their key type).

Checked formats: datetime, at-uri, at-identifier, did, handle, nsid, cid, record-key, tid, language, uri.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import regex

_FORMATS: dict[str, re.Pattern[str]] = {
    "at-uri": re.compile(r"^at://[A-Za-z0-9._:%-]+(/[a-zA-Z0-9.-]+(/[A-Za-z0-9._:~-]{1,512})?)?$"),
    "did": re.compile(r"^did:[a-z]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._-]$"),
    "handle": re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"),
    "nsid": re.compile(r"^[a-zA-Z]([a-zA-Z0-9-]{0,62})?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})?)+$"),
    "cid": re.compile(r"^[A-Za-z0-9+]{8,256}$"),
    "record-key": re.compile(r"^[A-Za-z0-9._:~-]{1,512}$"),
    "tid": re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$"),
    "language": re.compile(r"^(i|[a-z]{2,3})(-[A-Za-z0-9]{1,8})*$"),
    "uri": re.compile(r"^[a-z][a-z.+-]*:\S+$"),
    "datetime": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"),
}


class LexiconError(ValueError):
    """The value breaks the lexicon; the message names the path in the value."""


class Lexicons:
    def __init__(self, root: Path) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        for path in root.rglob("*.json"):
            document = json.loads(path.read_text(encoding="utf-8"))
            self.documents[document["id"]] = document

    def definition(self, ref: str, context: str = "") -> tuple[str, dict[str, Any]]:
        """(lexicon id, definition) of "nsid", "nsid#name" or "#name" (within `context`)."""
        nsid, _, name = ref.partition("#")
        nsid = nsid or context
        document = self.documents.get(nsid)
        if document is None or (name or "main") not in document["defs"]:
            raise LexiconError(f"unknown lexicon reference {ref!r}")
        return nsid, document["defs"][name or "main"]

    # What the stand-in checks -----------------------------------------------------------------------------

    def check_input(self, nsid: str, body: Any) -> None:
        _, procedure = self.definition(nsid)
        self.check(body, procedure["input"]["schema"], nsid, "input")

    def check_output(self, nsid: str, body: Any) -> None:
        _, method = self.definition(nsid)
        self.check(body, method["output"]["schema"], nsid, "output")

    def check_params(self, nsid: str, query: Mapping[str, str]) -> dict[str, Any]:
        """The query's values, converted by their declared types; LexiconError when they break the lexicon."""
        _, method = self.definition(nsid)
        params = method.get("parameters") or {"properties": {}}
        converted: dict[str, Any] = {}
        for key, raw in query.items():
            schema = params["properties"].get(key)
            if schema is None:
                continue  # XRPC servers ignore unknown parameters
            if schema["type"] == "integer":
                if not re.fullmatch(r"-?\d+", raw):
                    raise LexiconError(f"params/{key} must be an integer")
                converted[key] = int(raw)
            elif schema["type"] == "boolean":
                if raw not in ("true", "false"):
                    raise LexiconError(f"params/{key} must be a boolean")
                converted[key] = raw == "true"
            else:
                converted[key] = raw
        self.check(converted, {**params, "type": "object"}, nsid, "params")
        return converted

    def check_record(self, collection: str, record: Any, rkey: str | None = None) -> None:
        nsid, definition = self.definition(collection)
        if definition.get("type") != "record":
            raise LexiconError(f"{collection} is not a record type")
        if not isinstance(record, dict) or record.get("$type") != collection:
            raise LexiconError(f"record/$type must be {collection!r}")
        if rkey is not None and definition.get("key") == "tid" and not _FORMATS["tid"].match(rkey):
            raise LexiconError(f"rkey {rkey!r} is not a TID, which {collection} records are keyed by")
        self.check(record, definition["record"], nsid, "record")

    # Values -------------------------------------------------------------------------------------------------

    def check(self, value: Any, schema: Mapping[str, Any], context: str, where: str) -> None:
        kind = schema.get("type")
        if kind == "ref":
            nsid, target = self.definition(schema["ref"], context)
            self.check(value, target, nsid, where)
        elif kind == "union":
            self._union(value, schema, context, where)
        elif kind in ("object", "params"):
            self._object(value, schema, context, where)
        elif kind in ("record",):
            self._object(value, schema["record"], context, where)
        elif kind == "string":
            self._string(value, schema, where)
        elif kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                raise LexiconError(f"{where} must be an integer")
            if "minimum" in schema and value < schema["minimum"] or "maximum" in schema and value > schema["maximum"]:
                raise LexiconError(f"{where} is out of range")
            _enum(value, schema, where)
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise LexiconError(f"{where} must be a boolean")
        elif kind == "array":
            if not isinstance(value, list):
                raise LexiconError(f"{where} must be an array")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                raise LexiconError(f"{where} must not have more than {schema['maxLength']} elements")
            if "minLength" in schema and len(value) < schema["minLength"]:
                raise LexiconError(f"{where} must have at least {schema['minLength']} elements")
            for index, item in enumerate(value):
                self.check(item, schema["items"], context, f"{where}/{index}")
        elif kind == "unknown":
            if not isinstance(value, dict):
                raise LexiconError(f"{where} must be an object")
        elif kind == "cid-link":
            if not isinstance(value, dict) or not isinstance(value.get("$link"), str):
                raise LexiconError(f"{where} must be a cid-link")
        elif kind == "bytes":
            if not isinstance(value, dict) or not isinstance(value.get("$bytes"), str):
                raise LexiconError(f"{where} must be bytes")
        elif kind == "blob":
            if not isinstance(value, dict) or value.get("$type") != "blob":
                raise LexiconError(f"{where} must be a blob")
        elif kind == "token":
            raise LexiconError(f"{where}: a token is not a value")
        else:
            raise LexiconError(f"{where}: the checker does not know the type {kind!r}")

    def _object(self, value: Any, schema: Mapping[str, Any], context: str, where: str) -> None:
        if not isinstance(value, dict):
            raise LexiconError(f"{where} must be an object")
        nullable = set(schema.get("nullable", []))
        for key in schema.get("required", []):
            if key not in value:
                raise LexiconError(f'{where} must have the property "{key}"')
        for key, item in value.items():
            prop = schema.get("properties", {}).get(key)
            if prop is None:
                continue  # lexicon objects may carry more than they declare
            if item is None:
                if key not in nullable:
                    raise LexiconError(f"{where}/{key} must not be null")
                continue
            self.check(item, prop, context, f"{where}/{key}")

    def _union(self, value: Any, schema: Mapping[str, Any], context: str, where: str) -> None:
        if not isinstance(value, dict) or not isinstance(value.get("$type"), str):
            raise LexiconError(f"{where} must be an object with a $type")
        wanted = value["$type"].removesuffix("#main")
        for ref in schema.get("refs", []):
            nsid, _, name = ref.partition("#")
            full = f"{nsid or context}#{name}" if name and name != "main" else (nsid or context)
            if full == wanted:
                target_nsid, target = self.definition(ref, context)
                self.check(value, target, target_nsid, where)
                return
        if schema.get("closed"):
            raise LexiconError(f"{where}/$type {wanted!r} is not one of {schema.get('refs')}")

    @staticmethod
    def _string(value: Any, schema: Mapping[str, Any], where: str) -> None:
        if not isinstance(value, str):
            raise LexiconError(f"{where} must be a string")
        size = len(value.encode())
        if "maxLength" in schema and size > schema["maxLength"]:
            raise LexiconError(f"{where} must not be longer than {schema['maxLength']} characters")
        if "minLength" in schema and size < schema["minLength"]:
            raise LexiconError(f"{where} must not be shorter than {schema['minLength']} characters")
        if "maxGraphemes" in schema or "minGraphemes" in schema:
            count = len(regex.findall(r"\X", value))
            if "maxGraphemes" in schema and count > schema["maxGraphemes"]:
                raise LexiconError(f"{where} must not be longer than {schema['maxGraphemes']} graphemes")
            if "minGraphemes" in schema and count < schema["minGraphemes"]:
                raise LexiconError(f"{where} must not be shorter than {schema['minGraphemes']} graphemes")
        _enum(value, schema, where)
        form = schema.get("format")
        if form is None:
            return
        if form == "at-identifier":
            ok = bool(_FORMATS["did"].match(value) or _FORMATS["handle"].match(value))
        elif form == "record-key":
            ok = bool(_FORMATS["record-key"].match(value)) and value not in (".", "..")
        elif form in _FORMATS:
            ok = bool(_FORMATS[form].match(value))
            if ok and form == "datetime":
                try:
                    datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    ok = False
        else:
            raise LexiconError(f"{where}: the checker does not know the format {form!r}")
        if not ok:
            raise LexiconError(f"{where} must be a valid {form}")


def _enum(value: Any, schema: Mapping[str, Any], where: str) -> None:
    if "enum" in schema and value not in schema["enum"]:
        raise LexiconError(f"{where} must be one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        raise LexiconError(f"{where} must be {schema['const']!r}")
