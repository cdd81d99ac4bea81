"""The calendars of tests/domain/calendars.py written as the contract's `[[calendars]]` TOML blocks."""

from __future__ import annotations

import json

from tests.domain.calendars import CalendarSpec

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _period(start: int, end: int) -> str:
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def calendar_toml(spec: CalendarSpec) -> str:
    hours = ", ".join(f"{WEEKDAY_KEYS[day]} = {json.dumps([_period(s, e) for s, e in spans])}"
                      for day, spans in sorted(spec.periods.items()))
    lines = ["[[calendars]]", f"name = {json.dumps(spec.name)}", f"timezone = {json.dumps(spec.zone)}",
             f"hours = {{ {hours} }}"]
    if spec.country:
        lines.append(f"holidays = {json.dumps(spec.country)}")
    if spec.extra_closed:
        lines.append(f"extra_closed = {json.dumps(sorted(d.isoformat() for d in spec.extra_closed))}")
    return "\n".join(lines) + "\n\n"
