"""Checks Bot API requests against the machine-readable specification in ../shared/telegram."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?")
_MISSING = {"chat_id": "chat_id is empty", "text": "message text is empty"}
SCALARS = {"String", "Integer", "Float", "Boolean", "InputFile"}


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional response parameters."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True)
class UploadedFile:
    """A file sent as a multipart part."""

    filename: str
    content_type: str
    data: bytes


def shared_dir() -> Path:
    env = os.environ.get("REVIEW_WATCH_SHARED")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / ".." / "shared"


@cache
def load_spec(path: Path | None = None) -> Spec:
    spec_path = path or shared_dir() / "telegram" / "bot-api-spec.json"
    return Spec(json.loads(spec_path.read_text(encoding="utf-8")))


class Spec:
    """Methods and types of the Bot API, and validation of parameters against them."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data["version"]
        self.methods: dict[str, dict[str, Any]] = data["methods"]
        self.types: dict[str, dict[str, Any]] = data["types"]
        self._methods_lower = {name.lower(): name for name in self.methods}

    def method_name(self, name: str) -> str | None:
        """Telegram matches method names case-insensitively."""
        return self._methods_lower.get(name.lower())

    def validate_params(self, method: str, raw: dict[str, Any], from_form: bool) -> dict[str, Any]:
        """The parameters converted to JSON values, or ApiError(400) naming the first problem."""
        fields = {f["name"]: f for f in self.methods[method].get("fields", [])}
        for name in raw:
            if name not in fields:
                raise bad_request(f'unknown parameter "{name}" for method {method}')
        parsed: dict[str, Any] = {}
        for name, spec_field in fields.items():
            if name not in raw:
                if spec_field["required"]:
                    raise bad_request(_MISSING.get(name, f"{name} is required"))
                continue
            value = raw[name]
            if from_form and isinstance(value, str):
                value = self._from_form(value, spec_field["types"], name)
            parsed[name] = self.check(value, spec_field["types"], name)
        return parsed

    def _from_form(self, value: str, types: list[str], path: str) -> Any:
        """Form values are strings; nested values arrive JSON-encoded."""
        if any(t not in SCALARS for t in types) and value[:1] in ("{", "["):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise bad_request(f'can\'t parse JSON in parameter "{path}": {exc.msg}') from None
        if "Boolean" in types:
            lowered = value.lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
        if ("Integer" in types or "Float" in types) and _INT.fullmatch(value):
            return int(value)
        if "Float" in types and _FLOAT.fullmatch(value):
            return float(value)
        return value

    def check(self, value: Any, types: list[str], path: str) -> Any:
        errors: list[str] = []
        for type_name in types:
            problem = self._problem(value, type_name, path)
            if problem is None:
                return value
            errors.append(problem)
        objects = [e for e in errors if not e.startswith("expected")]
        raise bad_request(objects[0] if objects else f'parameter "{path}" must be {" or ".join(types)}')

    def _problem(self, value: Any, type_name: str, path: str) -> str | None:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return "expected an array"
            for index, item in enumerate(value):
                problem = self._problem(item, type_name[9:], f"{path}[{index}]")
                if problem is not None:
                    return problem
            return None
        if type_name == "String":
            return None if isinstance(value, str) else "expected a string"
        if type_name == "Integer":
            ok = (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, str) and _INT.fullmatch(value) is not None
            )
            return None if ok else "expected an integer"
        if type_name == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return None if ok else "expected a number"
        if type_name == "Boolean":
            return None if isinstance(value, bool) else "expected a boolean"
        if type_name == "InputFile":
            ok = isinstance(value, UploadedFile) or (isinstance(value, str) and value.startswith("attach://"))
            return None if ok else "expected a file"
        type_spec = self.types.get(type_name)
        if type_spec is None:
            return f"unknown type {type_name}"
        subtypes = type_spec.get("subtypes")
        if subtypes:
            problems = [self._problem(value, sub, path) for sub in subtypes]
            if any(p is None for p in problems):
                return None
            real = [p for p in problems if p is not None and not p.startswith("expected")]
            return real[0] if real else f'field "{path}" must be {type_name}'
        if not isinstance(value, dict):
            return f'field "{path}" must be a JSON object ({type_name})'
        fields = {f["name"]: f for f in type_spec.get("fields", [])}
        for key in value:
            if key not in fields:
                return f'unknown field "{key}" in {path} ({type_name})'
        for name, spec_field in fields.items():
            if name not in value:
                if spec_field["required"]:
                    return f'field "{path}.{name}" is required ({type_name})'
                continue
            types = spec_field["types"]
            problems = [self._problem(value[name], t, f"{path}.{name}") for t in types]
            if all(p is not None for p in problems):
                real = [p for p in problems if p is not None and not p.startswith("expected")]
                return real[0] if real else f'field "{path}.{name}" must be {" or ".join(types)}'
        return None
