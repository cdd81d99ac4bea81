"""Writes test configs in the contract's TOML format."""

from __future__ import annotations

from pathlib import Path

BASE_CONFIG = """\
[database]
url = "{database_url}"

[telegram]
token = "{token}"
api_url = "{api_url}"
poll_timeout = 1
send_interval = 0.2
tick_interval = 1

[sentiment]
model = "{model}"

[[calendars]]
name = "stockholm"
timezone = "Europe/Stockholm"
hours = {{ mon = ["09:00-18:00"], tue = ["09:00-18:00"], wed = ["09:00-18:00"],
          thu = ["09:00-18:00"], fri = ["09:00-17:00"] }}
holidays = "SE"

[[calendars]]
name = "always"
timezone = "UTC"
hours = {{ mon = ["00:00-24:00"], tue = ["00:00-24:00"], wed = ["00:00-24:00"], thu = ["00:00-24:00"],
          fri = ["00:00-24:00"], sat = ["00:00-24:00"], sun = ["00:00-24:00"] }}

[sla]
calendar = "{sla_calendar}"
response = "{response}"
remind_at = 0.75

[[brands]]
name = "Acme"
aliases = ["Acme", "acme.com", "Акме"]

[crawl]
download_delay = 0
autothrottle = false
"""

STAFF = """
[[staff]]
name = "Anna"
telegram_id = 1001
role = "agent"
languages = ["en", "sv", "da", "no", "de", "es", "fr", "it", "nl"]

[[staff]]
name = "Boris"
telegram_id = 1002
role = "agent"
languages = ["ru"]
locale = "ru"

[[staff]]
name = "Lena"
telegram_id = 1004
role = "lead"
languages = ["en"]
"""


def source_block(name: str, type_: str, url: str, brand: str | None = "Acme") -> str:
    brand_line = f'brand = "{brand}"\n' if brand else ""
    return f'\n[[sources]]\nname = "{name}"\ntype = "{type_}"\nurl = "{url}"\n{brand_line}'


def write_config(directory: Path, *, database_url: str, sources: str = "", staff: str = STAFF,
                 api_url: str = "http://127.0.0.1:9", model: str = "builtin", sla_calendar: str = "stockholm",
                 response: str = "1 business day", extra: str = "", token: str = "123456:TEST-TOKEN") -> Path:
    path = directory / "review-watch.toml"
    path.write_text(BASE_CONFIG.format(database_url=database_url, api_url=api_url, model=model, token=token,
                                       sla_calendar=sla_calendar, response=response)
                    + sources + staff + extra, encoding="utf-8")
    return path
