"""The TOML config, loaded into typed, validated objects.

Every mistake becomes a `ConfigError` whose message is one line naming the file, the key and what was
expected.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import tomli
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from review_watch.domain.brand_matching import brand_key
from review_watch.domain.business_time import (
    WEEKDAY_NAMES,
    BusinessCalendar,
    BusinessDuration,
    default_business_day_hours,
    duration_seconds,
    parse_duration,
    parse_hours_period,
    validate_periods,
)
from review_watch.domain.cases import EscalationLevel, ResponsePolicy
from review_watch.domain.crisis import CrisisSettings
from review_watch.domain.digest_schedule import DigestKind, DigestSchedule
from review_watch.domain.judgement import Precision
from review_watch.domain.mentions import REVIEW_SITE_TYPES, SourceType
from review_watch.domain.replies import fill_template
from review_watch.domain.satisfaction import WarningRule

DEFAULT_CONFIG_NAME = "review-watch.toml"
TOKEN_ENV = "REVIEW_WATCH_TELEGRAM_TOKEN"


class ConfigError(Exception):
    """A config mistake, already phrased as one line for the user."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Strict):
    url: str = "sqlite:///review-watch.db"


class TelegramConfig(_Strict):
    token: str | None = None
    api_url: str = "https://api.telegram.org"
    invite_code: str | None = None
    poll_timeout: float = Field(default=10.0, gt=0)
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: str | None = None
    send_interval: float = Field(default=1.0, gt=0)  # seconds between two looks at the outbox
    tick_interval: float = Field(default=30.0, gt=0, le=60)  # seconds between two scheduler checks
    reply_wait: float = Field(default=1800.0, gt=0)  # seconds a pressed Reply button waits for its text

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("expected 1 to 256 characters, each a letter A-Z or a-z, a digit, _ or -")
        return value


class SentimentConfig(_Strict):
    model: str = "builtin"
    threshold: float = Field(default=0.5, ge=0, le=1)
    competitors: tuple[str, ...] = ()
    precision: Precision = "auto"
    unsure_band: float = Field(default=0.1, ge=0, lt=0.5)  # around the threshold: left to a lead; 0 turns it off
    weak_languages: tuple[str, ...] = ()  # ISO 639-1 codes the model is measured to be weak in

    @field_validator("weak_languages")
    @classmethod
    def _language_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not (len(code) == 2 and code.isascii() and code.isalpha() and code.islower()):
                raise ValueError(f"{code!r} is not an ISO 639-1 language code (expected two lowercase letters)")
        return value


class CalendarConfig(_Strict):
    name: str
    timezone: str
    hours: dict[str, list[str]]
    holidays: str | None = None
    extra_closed: tuple[date, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (expected an IANA name like 'Europe/Stockholm')") from None
        return value

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, periods in value.items():
            if day not in WEEKDAY_NAMES:
                raise ValueError(f"unknown day {day!r} (expected one of {', '.join(WEEKDAY_NAMES)})")
            try:
                parsed = [parse_hours_period(p) for p in periods]
            except ValueError as exc:
                raise ValueError(f"{day}: {exc}") from None
            validate_periods(day, parsed)
        return value

    @field_validator("holidays")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is not None and value not in holidays.list_supported_countries():
            raise ValueError(f"unknown holiday country {value!r} (expected a country code like 'SE')")
        return value

    def build(self) -> BusinessCalendar:
        closed = frozenset(self.extra_closed)
        public = holidays.country_holidays(self.holidays) if self.holidays else None

        def is_closed_date(day: date) -> bool:
            return day in closed or (public is not None and day in public)

        weekly = {
            WEEKDAY_NAMES.index(day): tuple(parse_hours_period(p) for p in periods)
            for day, periods in self.hours.items()
        }
        return BusinessCalendar(name=self.name, timezone=ZoneInfo(self.timezone), weekly_hours=weekly,
                                is_closed_date=is_closed_date)


def _duration(value: str) -> str:
    parse_duration(value)
    return value


def _optional_duration(value: str | None) -> str | None:
    return None if value is None else _duration(value)


class EscalationLevelConfig(_Strict):
    after: str | None = None  # business time after the deadline; none: at the deadline
    leads: tuple[str, ...] = ()  # staff names; empty: every lead of the brand

    _after = field_validator("after")(_optional_duration)


class SlaConfig(_Strict):
    calendar: str
    response: str = "1 business day"
    business_day_hours: float | None = Field(default=None, gt=0, le=24)
    remind_at: float = Field(default=0.75, gt=0, lt=1)
    waiting: str = "3 business days"
    escalation: tuple[EscalationLevelConfig, ...] = (EscalationLevelConfig(),)

    _response = field_validator("response", "waiting")(_duration)


class BrandConfig(_Strict):
    name: str
    aliases: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


# Keys of [sources.reply] that would hold a secret: refused, since a secret never stands in the config.
_SECRET_WORDS = ("password", "secret", "token", "api_key", "private_key", "key")
_REFERENCE_SUFFIXES = ("_env", "_file", "_id", "_url")


def _holds_a_secret(key: str) -> bool:
    name = key.lower()
    return not name.endswith(_REFERENCE_SUFFIXES) and any(
        name == word or name.endswith(f"_{word}") for word in _SECRET_WORDS)


class SourceReplyConfig(BaseModel):
    """How a source's replies are posted: who replies, where the platform is, and the connector's own keys
    (plain values, `*_file` paths, `*_env` names of environment variables; never a secret itself)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    account: str | None = None  # who the replies are posted as, shown before posting
    api_url: str | None = None  # the platform's API; tests point it at loopback
    token_url: str | None = None
    timeout: float = Field(default=30.0, gt=0)  # seconds one request may take

    @field_validator("api_url", "token_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _no_secret_in_the_config(self) -> SourceReplyConfig:
        for key, value in (self.model_extra or {}).items():
            if _holds_a_secret(key):
                raise ValueError(f"{key}: a secret never stands in the config; name the environment variable "
                                 f"that holds it with {key}_env = \"NAME\" (or a file with {key}_file)")
            if not isinstance(value, str):
                raise ValueError(f"{key}: expected a string")
            if value.lstrip().startswith("-----BEGIN"):
                raise ValueError(f"{key}: a key never stands in the config; give its file with key_file")
        return self

    @property
    def options(self) -> dict[str, str]:
        """The connector's own keys."""
        return {key: str(value) for key, value in (self.model_extra or {}).items()}


class SourceConfig(_Strict):
    name: str
    type: SourceType
    url: str
    brand: str | None = None
    enabled: bool = True
    reply: SourceReplyConfig | None = None  # posting replies back to the platform (a connector per type)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"url {value!r} must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _googleplay_names_its_app(self) -> SourceConfig:
        if self.type == "googleplay" and "id=" not in self.url:
            raise ValueError(f"a googleplay url names its app: ...details?id=PACKAGE (got {self.url!r})")
        return self

    @model_validator(mode="after")
    def _googlebusiness_names_its_location(self) -> SourceConfig:
        if self.type != "googlebusiness":
            return self
        if not re.search(r"/v4/accounts/[^/]+/locations/[^/]+/reviews$", self.url.split("?", 1)[0]):
            raise ValueError("a googlebusiness url is a location's reviews list: "
                             f"https://mybusiness.googleapis.com/v4/accounts/A/locations/L/reviews (got {self.url!r})")
        if self.reply is None or not {"key_file", "key_file_env"} & set(self.reply.options):
            raise ValueError("a googlebusiness source reads its reviews as the location's service account: give "
                             "its key in [sources.reply] as key_file (or key_file_env)")
        return self


class StaffConfig(_Strict):
    name: str
    telegram_id: int
    role: Literal["agent", "lead"] = "agent"
    languages: tuple[str, ...] = ()
    brands: tuple[str, ...] | None = None
    calendar: str | None = None
    locale: Literal["en", "ru"] = "en"


class CrawlConfig(_Strict):
    time_budget: float = Field(default=600.0, gt=0)  # seconds a whole crawl may take
    interval: float = Field(default=900.0, gt=0)  # seconds between crawls in `review-watch run`
    download_delay: float = Field(default=1.0, ge=0)
    download_timeout: float = Field(default=30.0, gt=0)  # seconds one request may take
    retries: int = Field(default=3, ge=0)  # tries after the first on a timeout, a 5xx or a 429
    retry_wait: float = Field(default=2.0, ge=0)  # seconds before the first retry, doubling each time
    autothrottle: bool = True
    obey_robots_txt: bool = True
    broken_after_empty_runs: int = Field(default=3, ge=1)
    lock_file: str | None = None
    scrapyd: tuple[str, ...] = ()  # Scrapyd nodes' URLs for `review-watch crawl --scrapyd`


Approval = Literal["none", "lead"]


class ReplyTemplateConfig(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")  # `/reply ID #name`, and the button's data
    text: str
    brand: str | None = None  # None: every brand
    language: str | None = None  # ISO 639-1; None: any language

    @field_validator("text")
    @classmethod
    def _placeholders_known(cls, value: str) -> str:
        fill_template(value, customer_name="", agent_name="", case_number=0)
        return value


class RepliesConfig(_Strict):
    approval: Approval = "none"  # "lead": an agent's reply is posted once a lead of the brand approves it
    approval_by_brand: dict[str, Approval] = {}  # brand -> approval, over `approval`
    templates: tuple[ReplyTemplateConfig, ...] = ()
    max_attempts: int = Field(default=8, ge=1)  # tries after 429s and outages before the author is told
    check_pending_every: float = Field(default=300.0, gt=0)  # seconds between looks at a reply not yet published

    def approval_for(self, brand: str | None) -> Approval:
        for name, approval in self.approval_by_brand.items():
            if brand is not None and brand_key(name) == brand_key(brand):
                return approval
        return self.approval

    def templates_for(self, brand: str | None, language: str | None) -> list[ReplyTemplateConfig]:
        """The templates for the brand (or every brand) in the language (or any), in config order."""
        return [t for t in self.templates
                if (t.brand is None or (brand is not None and brand_key(t.brand) == brand_key(brand)))
                and (t.language is None or t.language == language)]


class CrisisConfig(_Strict):
    """Crisis detection (domain/crisis.py): durations in seconds."""

    window: float = Field(default=3600.0, gt=0)  # complaints are counted over the last window
    bucket: float = Field(default=3600.0, gt=0)  # the usual rate is folded one bucket at a time
    half_life: float = Field(default=7 * 86400.0, gt=0)  # a bucket this old weighs half as much as the newest
    min_count: int = Field(default=10, ge=1)
    min_ratio: float = Field(default=3.0, ge=1)
    p_value: float = Field(default=1e-4, gt=0, lt=1)
    close_p_value: float = Field(default=0.01, gt=0, lt=1)
    close_after: float = Field(default=3 * 3600.0, gt=0)
    max_age: float = Field(default=2 * 86400.0, gt=0)
    min_history: float = Field(default=86400.0, gt=0)
    card_interval: float = Field(default=60.0, ge=3)  # the least time between two edits of an incident card
    # language -> the holding reply's text, with the reply templates' placeholders ({customer_name} ...)
    holding_reply: dict[str, str] = Field(default_factory=dict)
    holding_reply_language: str = "en"  # the template for a case in a language that has none

    @field_validator("holding_reply")
    @classmethod
    def _templates(cls, value: dict[str, str]) -> dict[str, str]:
        for code, text in value.items():
            if not (len(code) == 2 and code.isascii() and code.isalpha() and code.islower()):
                raise ValueError(f"{code!r} is not an ISO 639-1 language code (expected two lowercase letters)")
            if not text.strip():
                raise ValueError(f"the {code} holding reply is empty")
            try:
                fill_template(text, customer_name="", agent_name="", case_number=0)
            except ValueError as exc:
                raise ValueError(f"the {code} holding reply: {exc}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CrisisConfig:
        if self.p_value > self.close_p_value:
            raise ValueError(f"p_value ({self.p_value:g}) must not exceed close_p_value ({self.close_p_value:g})")
        if self.holding_reply and self.holding_reply_language not in self.holding_reply:
            raise ValueError(f"holding_reply_language {self.holding_reply_language!r} has no template in "
                             "[crisis.holding_reply]")
        return self

    @cached_property
    def settings(self) -> CrisisSettings:
        return CrisisSettings(
            window=timedelta(seconds=self.window), bucket=timedelta(seconds=self.bucket),
            half_life=timedelta(seconds=self.half_life), min_count=self.min_count, min_ratio=self.min_ratio,
            p_value=self.p_value, close_p_value=self.close_p_value, close_after=timedelta(seconds=self.close_after),
            max_age=timedelta(seconds=self.max_age), min_history=timedelta(seconds=self.min_history))


class LeadsConfig(_Strict):
    satisfaction_warning: float = Field(default=4.5, gt=0, le=5)  # an average below it warns the leads
    satisfaction_drop: float = Field(default=0.3, gt=0, le=5)  # so does a fall this big against the window before
    satisfaction_recovery_margin: float = Field(default=0.1, ge=0, le=5)  # re-armed at warning + margin
    satisfaction_window_days: float = Field(default=30.0, gt=0, le=366)
    satisfaction_min_ratings: int = Field(default=5, ge=1)
    digests: tuple[Literal["daily", "weekly"], ...] = ()
    digest_time: str = "08:30"  # local time on each lead's calendar
    digest_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    digest_catch_up: float = Field(default=3600.0, gt=0, le=86400)  # seconds a late bot still sends the digest

    @field_validator("digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", value):
            raise ValueError(f"{value!r} is not a time of day (expected HH:MM, 00:00 to 23:59)")
        return value

    @field_validator("digests")
    @classmethod
    def _once_each(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("each digest may be named once")
        return value

    @property
    def warning_rule(self) -> WarningRule:
        return WarningRule(self.satisfaction_warning, self.satisfaction_drop, self.satisfaction_recovery_margin,
                           self.satisfaction_min_ratings)

    @property
    def digest_schedules(self) -> tuple[DigestSchedule, ...]:
        hour, minute = (int(part) for part in self.digest_time.split(":"))
        return tuple(DigestSchedule(DigestKind(kind), time(hour, minute), WEEKDAY_NAMES.index(self.digest_weekday))
                     for kind in self.digests)

    @property
    def digest_catch_up_delta(self) -> timedelta:
        return timedelta(seconds=self.digest_catch_up)


class Config(_Strict):
    database: DatabaseConfig = DatabaseConfig()
    telegram: TelegramConfig = TelegramConfig()
    sentiment: SentimentConfig = SentimentConfig()
    calendars: tuple[CalendarConfig, ...] = ()
    sla: SlaConfig
    brands: tuple[BrandConfig, ...] = ()
    sources: tuple[SourceConfig, ...] = ()
    staff: tuple[StaffConfig, ...] = ()
    crawl: CrawlConfig = CrawlConfig()
    crisis: CrisisConfig = CrisisConfig()
    replies: RepliesConfig = RepliesConfig()
    leads: LeadsConfig = LeadsConfig()

    @model_validator(mode="after")
    def _references_resolve(self) -> Config:
        calendars = {c.name for c in self.calendars}
        brands = {brand_key(b.name): b.name for b in self.brands}  # a brand may be named in any case
        staff = {s.name for s in self.staff}
        _unique("calendars", [c.name for c in self.calendars])
        _unique("brands", [b.name for b in self.brands], same=brand_key)
        _unique("sources", [s.name for s in self.sources])
        _unique("staff", [s.name for s in self.staff])
        _unique("staff", [str(s.telegram_id) for s in self.staff], key="telegram_id")
        if self.sla.calendar not in calendars:
            raise _RefError("sla.calendar", f"calendar {self.sla.calendar!r} is not defined in [[calendars]]")
        for i, source in enumerate(self.sources):
            if source.brand is not None and brand_key(source.brand) not in brands:
                raise _RefError(f"sources[{i}].brand",
                                f"brand {source.brand!r} of source {source.name!r} is not defined in [[brands]]")
            if source.brand is None and source.type in REVIEW_SITE_TYPES:
                raise _RefError(f"sources[{i}].brand",
                                f"a {source.type} source needs the brand its reviews are about")
        for i, member in enumerate(self.staff):
            for brand in member.brands or ():
                if brand_key(brand) not in brands:
                    raise _RefError(f"staff[{i}].brands", f"brand {brand!r} is not defined in [[brands]]")
            if member.calendar is not None and member.calendar not in calendars:
                raise _RefError(f"staff[{i}].calendar", f"calendar {member.calendar!r} is not defined")
        for brand in self.replies.approval_by_brand:
            if brand_key(brand) not in brands:
                raise _RefError("replies.approval_by_brand", f"brand {brand!r} is not defined in [[brands]]")
        for i, template in enumerate(self.replies.templates):
            if template.brand is not None and brand_key(template.brand) not in brands:
                raise _RefError(f"replies.templates[{i}].brand", f"brand {template.brand!r} is not defined")
        for i, level in enumerate(self.sla.escalation):
            for lead in level.leads:
                if lead not in staff:
                    raise _RefError(f"sla.escalation[{i}].leads", f"staff member {lead!r} is not defined")
        # Everything after the config sees each brand as [[brands]] spells it.
        object.__setattr__(self, "sources", tuple(
            s.model_copy(update={"brand": brands[brand_key(s.brand)]}) if s.brand else s for s in self.sources))
        object.__setattr__(self, "staff", tuple(
            m.model_copy(update={"brands": tuple(brands[brand_key(b)] for b in m.brands)}) if m.brands else m
            for m in self.staff))
        return self

    @cached_property
    def _built_calendars(self) -> dict[str, BusinessCalendar]:
        return {c.name: c.build() for c in self.calendars}

    def calendar(self, name: str | None = None) -> BusinessCalendar:
        wanted = name or self.sla.calendar
        if wanted not in self._built_calendars:
            raise ConfigError(f"unknown calendar {wanted!r} (defined: {', '.join(self._built_calendars)})")
        return self._built_calendars[wanted]

    @cached_property
    def response_policy(self) -> ResponsePolicy:
        calendar = self.calendar()
        day_hours = self.business_day_hours(calendar)
        return ResponsePolicy(
            calendar=calendar, response_seconds=self.sla_seconds(calendar), business_day_hours=day_hours,
            remind_fraction=self.sla.remind_at,
            waiting_business_days=self.sla_seconds(calendar, self.sla.waiting) / (day_hours * 3600),
            levels=tuple(EscalationLevel(self.sla_seconds(calendar, level.after) if level.after else 0.0,
                                         level.leads)
                         for level in self.sla.escalation))

    def business_day_hours(self, calendar: BusinessCalendar) -> float:
        return self.sla.business_day_hours or default_business_day_hours(calendar)

    def sla_seconds(self, calendar: BusinessCalendar, duration: str | None = None) -> float:
        parsed: BusinessDuration = parse_duration(duration or self.sla.response)
        return duration_seconds(parsed, self.business_day_hours(calendar))

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise ConfigError(f"unknown source {name!r} (defined: {', '.join(s.name for s in self.sources)})")


class _RefError(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _unique(section: str, names: list[str], key: str = "name", same: Callable[[str], str] = str) -> None:
    """`same`: what makes two names one (brand names are one whatever their case)."""
    seen: set[str] = set()
    for i, name in enumerate(names):
        if same(name) in seen:
            raise _RefError(f"{section}[{i}].{key}", f"duplicate {key} {name!r}")
        seen.add(same(name))


def _format_location(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not part.startswith(("literal[", "function-")):
            text += f".{part}" if text else part
    return text


def _expected(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "this key is required"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "literal_error":
        expected = error["ctx"]["expected"]
        what = "source type" if error["loc"][-1] == "type" else "value"
        return f"unknown {what} {error['input']!r} (expected {expected})"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _with_env_secrets(data: dict[str, Any]) -> dict[str, Any]:
    token = os.environ.get(TOKEN_ENV)
    if token:
        data = {**data, "telegram": {**data.get("telegram", {}), "token": token}}
    return data


def resolve_config_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get("REVIEW_WATCH_CONFIG") or DEFAULT_CONFIG_NAME)


def _sqlite_relative_to(config_dir: Path, url: str) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str((config_dir / url[len(prefix):]).resolve())
    return url


def load_config(path: Path, *, read: Callable[[Path], bytes] = Path.read_bytes) -> Config:
    try:
        raw = read(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file (create one with `review-watch init`)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomli.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomli.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    try:
        config = Config.model_validate(_with_env_secrets(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        ctx_error = first.get("ctx", {}).get("error")
        if isinstance(ctx_error, _RefError):
            raise ConfigError(f"{path}: {ctx_error.key}: {ctx_error}") from None
        raise ConfigError(f"{path}: {_format_location(first['loc']) or 'top level'}: {_expected(first)}") from None
    folder = path.resolve().parent
    database = config.database.model_copy(update={"url": _sqlite_relative_to(folder, config.database.url)})
    sources = tuple(_reply_files_relative_to(folder, source) for source in config.sources)
    return config.model_copy(update={"database": database, "sources": sources})


def _reply_files_relative_to(config_dir: Path, source: SourceConfig) -> SourceConfig:
    """A relative `*_file` path in `[sources.reply]` is relative to the config file's folder."""
    if source.reply is None:
        return source
    files = {key: str(config_dir / value) for key, value in source.reply.options.items()
             if key.endswith("_file") and not Path(value).expanduser().is_absolute()}
    if not files:
        return source
    reply = SourceReplyConfig.model_validate({**source.reply.model_dump(), **files})
    return source.model_copy(update={"reply": reply})
