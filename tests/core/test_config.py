"""Every config mistake gives one line naming the file, the key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from review_watch.config import ConfigError, load_config
from review_watch.entrypoints.cli import main
from tests.support.configs import STAFF, source_block, write_config


def _config(tmp_path: Path, **kwargs: str) -> Path:
    kwargs.setdefault("database_url", "sqlite:///rw.db")
    return write_config(tmp_path, **kwargs)


def test_a_good_config_loads_into_typed_objects(tmp_path: Path) -> None:
    path = _config(tmp_path, sources=source_block("acme-tp", "trustpilot", "https://example.com/review/acme"))
    config = load_config(path)
    assert config.sources[0].type == "trustpilot"
    assert config.staff[1].telegram_id == 1002
    assert config.database.url == f"sqlite:///{tmp_path / 'rw.db'}"  # relative to the config file
    assert config.sla_seconds(config.calendar()) == 9 * 3600  # the longest weekday: 09:00-18:00


MISTAKES = [
    pytest.param(
        {"sources": source_block("acme-tiktok", "tiktok", "https://example.com")},
        "sources[0].type: unknown source type 'tiktok' (expected 'trustpilot', 'appstore', 'googleplay', "
        "'googlebusiness', 'reddit', 'hackernews', 'mastodon', 'bluesky', 'rss' or 'schemaorg')",
        id="unknown source type"),
    pytest.param(
        {"staff": STAFF + '\n[[staff]]\nname = "Nadia"\nrole = "agent"\n'},
        "staff[3].telegram_id: this key is required", id="staff without telegram_id"),
    pytest.param(
        {"extra": '\n[[calendars]]\nname = "late"\ntimezone = "UTC"\nhours = { mon = ["09:00-25:00"] }\n'},
        "calendars[2].hours: mon: hours period '09:00-25:00': hour must be 00..24",
        id="calendar with 25:00"),
    pytest.param(
        {"sources": source_block("globex-tp", "trustpilot", "https://example.com", brand="Globex")},
        "sources[0].brand: brand 'Globex' of source 'globex-tp' is not defined in [[brands]]",
        id="undefined brand"),
    pytest.param(
        {"response": "1 fortnight"},
        "sla.response: duration '1 fortnight' must look like 'N business days|hours|minutes|seconds'",
        id="bad SLA duration"),
    pytest.param(
        {"extra": '\n[[calendars]]\nname = "mars"\ntimezone = "Mars/Olympus"\nhours = {}\n'},
        "calendars[2].timezone: unknown time zone 'Mars/Olympus'", id="unknown zone"),
    pytest.param(
        {"extra": '\n[[calendars]]\nname = "x"\ntimezone = "UTC"\nhours = {}\nholidays = "XX"\n'},
        "calendars[2].holidays: unknown holiday country 'XX'", id="unknown holiday country"),
    pytest.param(
        {"extra": '\n[[calendars]]\nname = "o"\ntimezone = "UTC"\n'
                  'hours = { mon = ["09:00-13:00", "12:00-18:00"] }\n'},
        "calendars[2].hours: hours for mon: periods 09:00-13:00 and 12:00-18:00 overlap",
        id="overlapping periods"),
    pytest.param({"sla_calendar": "nowhere"}, "sla.calendar: calendar 'nowhere' is not defined",
                 id="undefined sla calendar"),
    pytest.param({"model": 'builtin"\nprecision = "fp8'},
                 "sentiment.precision: unknown value 'fp8' (expected 'auto', 'float32', 'bfloat16' or 'int8')",
                 id="unknown model precision"),
    pytest.param({"model": 'builtin"\nunsure_band = "wide'}, "sentiment.unsure_band: Input should be a valid number",
                 id="unsure band as text"),
    pytest.param({"model": 'builtin"\nunsure_band = 0.5\nprecision = "auto'},
                 "sentiment.unsure_band: Input should be less than 0.5", id="unsure band too wide"),
    pytest.param({"model": 'builtin"\nweak_languages = ["he", "Swedish"]\nprecision = "auto'},
                 "sentiment.weak_languages: 'Swedish' is not an ISO 639-1 language code (expected two lowercase "
                 "letters)", id="weak language not a code"),
    pytest.param({"token": '1:T"\nwebhook_secret = "has spaces and é'},
                 "telegram.webhook_secret: expected 1 to 256 characters, each a letter A-Z or a-z, a digit, _ or -",
                 id="webhook secret Telegram would refuse"),
    pytest.param({"extra": '\n[[brands]]\nname = "ACME"\n'}, "brands[1].name: duplicate name 'ACME'",
                 id="one brand twice, in another case"),    pytest.param(
        {"sources": source_block("acme-google", "googlebusiness", "https://mybusiness.googleapis.com/v4/accounts/1")
         + '[sources.reply]\nkey_file = "gbp.json"\n'},
        "sources[0]: a googlebusiness url is a location's reviews list: "
        "https://mybusiness.googleapis.com/v4/accounts/A/locations/L/reviews", id="googlebusiness url not a list"),
    pytest.param(
        {"sources": source_block("acme-google", "googlebusiness",
                                 "https://mybusiness.googleapis.com/v4/accounts/1/locations/2/reviews")},
        "sources[0]: a googlebusiness source reads its reviews as the location's service account: give its key in "
        "[sources.reply] as key_file (or key_file_env)", id="googlebusiness without a key"),
    pytest.param({"extra": '\n[crisis.holding_reply]\nen = "Dear {customer}, we are on it."\n'},
                 "crisis.holding_reply: the en holding reply: unknown placeholder {customer} (known: "
                 "{customer_name}, {agent_name}, {case_number})", id="holding reply with an unknown placeholder"),
]


@pytest.mark.parametrize(("changes", "expected"), MISTAKES)
def test_each_mistake_is_one_line_naming_file_and_key(tmp_path: Path, changes: dict[str, str],
                                                      expected: str) -> None:
    path = _config(tmp_path, **changes)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {expected}")


def test_the_unsure_band_and_weak_languages_reach_the_config(tmp_path: Path) -> None:
    sentiment = load_config(_config(tmp_path, model='builtin"\nunsure_band = 0\nweak_languages = ["he", "sv"]\n'
                                                   'precision = "auto')).sentiment
    assert (sentiment.unsure_band, sentiment.weak_languages) == (0.0, ("he", "sv"))
    defaults = load_config(_config(tmp_path)).sentiment
    assert (defaults.unsure_band, defaults.weak_languages) == (0.1, ())


def test_a_bad_sla_duration_says_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sla\.response: .*business"):
        load_config(_config(tmp_path, response="1 fortnight"))


def test_the_cli_prints_one_line_and_no_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path, sources=source_block("acme-tiktok", "tiktok", "https://example.com"))
    status = main(["deadline", "--config", str(path), "--at", "2026-11-23T10:00:00Z"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "unknown source type 'tiktok'" in err


@pytest.mark.parametrize(("content", "expected"), [
    ("[sla\ncalendar = 1", "invalid TOML"),
    ("", "sla: this key is required"),
])
def test_broken_files(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "review-watch.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml")


def test_the_token_may_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEW_WATCH_TELEGRAM_TOKEN", "999:FROM-ENV")
    assert load_config(_config(tmp_path)).telegram.token == "999:FROM-ENV"


def test_every_source_type_a_config_takes_has_a_spider_to_crawl_it() -> None:
    from spiders.registry import SPIDERS
    from spiders.source_types import SOURCE_TYPES

    assert sorted(SPIDERS) == sorted(SOURCE_TYPES)


def test_a_brand_named_in_another_case_is_the_configured_brand(tmp_path: Path) -> None:
    lead = '\n[[staff]]\nname = "Lena"\ntelegram_id = 4\nrole = "lead"\nbrands = ["ACME"]\n'
    config = load_config(_config(tmp_path, sources=source_block("acme-tp", "trustpilot", "https://e.com/r", "acme"),
                                 staff=lead))
    assert config.sources[0].brand == "Acme" and config.staff[0].brands == ("Acme",)  # stored as [[brands]] spells it
