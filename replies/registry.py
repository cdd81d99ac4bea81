"""Which connector answers which source type, and the settings a connector is built from.

Every connector module `replies/<module>.py` has one factory, `build(settings: ReplySettings) -> ReplyConnector`,
named here as "module:function" and imported only when a source of that type has a `[sources.reply]` table,
so that one platform's client library is loaded only where it is used. A factory reads what it needs through
`ReplySettings` and raises `ReplySetupError` (one line naming the source and the key) when something is missing
or unreadable; it makes no network call (that is `ReplyConnector.check`).

A source's `[sources.reply]` table in the TOML (validated by review_watch/config.py):

    account = "replies@acme.iam.gserviceaccount.com"  # who the replies are posted as, shown before posting
    api_url = "http://127.0.0.1:8081"                  # the platform's API base URL; tests point it at loopback
    token_url = "http://127.0.0.1:8081/token"          # the token endpoint, where the platform has its own
    key_file = "/etc/review-watch/play.json"           # any *_file: a path (relative: to the config file)
    key_file_env = "PLAY_KEY_FILE"                     # any *_file_env: an environment variable holding a path
    password_env = "ACME_TRUSTPILOT_PASSWORD"          # any *_env: an environment variable holding a secret
    username = "acme-support"                          # any other key: a plain, non-secret string

Secrets never stand in the TOML: the config refuses keys such as `password`, `secret`, `token` or `api_key`
without an `_env` or `_file` suffix.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from review_watch.config import Config
from review_watch.domain.replies import ReplyConnector, ReplyRefused

# source type -> "module:factory". Each platform's module is written by the helper who owns it.
FACTORIES: dict[str, str] = {
    "googleplay": "replies.google_play:build",
    "appstore": "replies.app_store:build",
    "trustpilot": "replies.trustpilot:build",
    "googlebusiness": "replies.google_business:build",
    "mastodon": "replies.mastodon:build",
    "bluesky": "replies.bluesky:build",
    "reddit": "replies.reddit:build",
}

ConnectorFactory = Callable[["ReplySettings"], ReplyConnector]


class ReplySetupError(Exception):
    """A source's reply settings cannot make a connector; the message is one line naming source and key."""


@dataclass(frozen=True)
class ReplySettings:
    """One source's `[sources.reply]` table, with the environment to resolve it."""

    source: str  # the source's name in the config, for messages
    platform: str  # the source type
    source_url: str  # the source's url (Google Play: ...details?id=PACKAGE)
    account: str | None = None
    api_url: str | None = None
    token_url: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)  # every other key of the table
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    timeout: float = 30.0  # seconds one request may take

    def _fail(self, key: str, problem: str) -> ReplySetupError:
        return ReplySetupError(f"source {self.source!r}: reply.{key}: {problem}")

    def option(self, key: str) -> str:
        """A required plain option."""
        value = self.options.get(key)
        if not value:
            raise self._fail(key, "required for a reply connector of this platform")
        return value

    def secret(self, key: str) -> str:
        """A secret, from the environment variable that `<key>_env` names."""
        name = self.option(f"{key}_env")
        value = self.environ.get(name)
        if not value:
            raise self._fail(f"{key}_env", f"the environment variable {name} is not set")
        return value

    def file_path(self, key: str) -> Path:
        """A file's path, from `<key>_file` or from the environment variable that `<key>_file_env` names."""
        if self.options.get(f"{key}_file"):
            named, where = self.options[f"{key}_file"], f"{key}_file"
        elif self.options.get(f"{key}_file_env"):
            variable = self.options[f"{key}_file_env"]
            named, where = self.environ.get(variable, ""), f"{key}_file_env"
            if not named:
                raise self._fail(where, f"the environment variable {variable} is not set")
        else:
            raise self._fail(f"{key}_file", f"required (or {key}_file_env naming an environment variable)")
        return Path(named).expanduser()  # the config made a relative *_file path absolute

    def read_file(self, key: str) -> bytes:
        """The contents of the file `file_path(key)` names; a missing or unreadable file is one line."""
        path = self.file_path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise self._fail(f"{key}_file", f"{path}: no such file") from None
        except OSError as exc:
            raise self._fail(f"{key}_file", f"{path}: cannot read: {exc.strerror}") from None

    def invalid(self, key: str, problem: str) -> ReplySetupError:
        """For a factory's own checks: `raise settings.invalid("key_file", "not a service-account key")`."""
        return self._fail(key, problem)


def has_reply_api(platform: str) -> bool:
    return platform in FACTORIES


def factory_for(platform: str) -> ConnectorFactory:
    if platform not in FACTORIES:
        raise ReplySetupError(f"{platform} has no reply API: replies to it are sent outside and recorded")
    module_name, function = FACTORIES[platform].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ReplySetupError(f"no reply connector for {platform} is installed ({exc.name} is missing)") from None
    factory: ConnectorFactory = getattr(module, function)
    return factory


def build_connector(settings: ReplySettings) -> ReplyConnector:
    return factory_for(settings.platform)(settings)


class ConnectorSet:
    """The `ReplyConnectors` port: each source's connector, built on first use and kept."""

    def __init__(self, settings: list[ReplySettings]) -> None:
        self._settings = {s.source: s for s in settings}
        self._built: dict[str, ReplyConnector] = {}

    def sources(self) -> list[str]:
        return list(self._settings)

    def platform_of(self, source: str) -> str:
        return self._settings[source].platform

    def for_source(self, source: str) -> ReplyConnector | None:
        if source in self._built:
            return self._built[source]
        settings = self._settings.get(source)
        if settings is None or not has_reply_api(settings.platform):
            return None
        try:
            connector = build_connector(settings)
        except ReplySetupError as exc:
            raise ReplyRefused("auth", str(exc)) from None
        self._built[source] = connector
        return connector


def connectors_from_config(config: Config, environ: Mapping[str, str] | None = None) -> ConnectorSet:
    """Every source with a `[sources.reply]` table, as settings for its connector (built on first use)."""
    settings = []
    for source in config.sources:
        if source.reply is None:
            continue
        reply = source.reply
        settings.append(ReplySettings(
            source=source.name, platform=source.type, source_url=source.url, account=reply.account,
            api_url=reply.api_url, token_url=reply.token_url, options=reply.options,
            environ=dict(os.environ if environ is None else environ), timeout=reply.timeout))
    return ConnectorSet(settings)


async def check_credentials(connectors: ConnectorSet) -> list[tuple[str, bool, str]]:
    """Each source's authentication tried with a harmless read: (source, ok, who we post as or what is wrong)."""
    results = []
    for source in connectors.sources():
        try:
            connector = connectors.for_source(source)
            if connector is None:
                platform = connectors.platform_of(source)
                results.append((source, False, f"{platform} has no reply API; replies are recorded as sent outside"))
                continue
            results.append((source, True, await connector.check()))
        except ReplyRefused as refusal:
            results.append((source, False, str(refusal)))
    return results
