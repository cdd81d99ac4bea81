"""The config's reply settings: [replies] and [sources.reply]; secrets refused, mistakes in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from review_watch.config import ConfigError, load_config
from tests.support.configs import write_config

PLAY = ('\n[[sources]]\nname = "acme-play"\ntype = "googleplay"\n'
        'url = "https://play.google.com/store/apps/details?id=com.acme"\nbrand = "Acme"\n')


def load(tmp_path: Path, reply: str = "", extra: str = "") -> object:
    return load_config(write_config(tmp_path, database_url="sqlite:///rw.db", sources=PLAY + reply, extra=extra))


def test_reply_settings_approval_and_templates(tmp_path: Path) -> None:
    config = load_config(write_config(
        tmp_path, database_url="sqlite:///rw.db",
        sources=PLAY + '[sources.reply]\naccount = "me@x.iam"\nkey_file = "keys/play.json"\nusername = "acme"\n',
        extra='\n[replies]\napproval_by_brand = { acme = "lead" }\n'
              '[[replies.templates]]\nname = "sorry"\nlanguage = "en"\ntext = "Hi {customer_name}, {agent_name}"\n'
              '[[replies.templates]]\nname = "izvinite"\nlanguage = "ru"\ntext = "Здравствуйте"\n'))
    reply = config.sources[0].reply
    assert reply is not None and reply.account == "me@x.iam"
    assert reply.options == {"key_file": str(tmp_path / "keys" / "play.json"), "username": "acme"}
    assert config.replies.approval_for("ACME") == "lead" and config.replies.approval_for("Other") == "none"
    assert [t.name for t in config.replies.templates_for("Acme", "en")] == ["sorry"]


@pytest.mark.parametrize(("reply", "extra", "message"), [
    ('[sources.reply]\npassword = "hunter2"\n', "", "sources[0].reply: password: a secret never stands in the config"),
    ('[sources.reply]\napi_key = "abc"\n', "", "api_key_env"),
    ('[sources.reply]\nkey_file = 5\n', "", "sources[0].reply: key_file: expected a string"),
    ('[sources.reply]\napi_url = "ftp://x"\n', "", "sources[0].reply.api_url"),
    ("", '\n[replies]\napproval = "maybe"\n', "replies.approval: unknown value 'maybe'"),
    ("", '\n[replies]\napproval_by_brand = { Beta = "lead" }\n', "replies.approval_by_brand: brand 'Beta'"),
    ("", '\n[[replies.templates]]\nname = "x"\ntext = "Hi {name}"\n', "unknown placeholder {name}"),
    ("", '\n[[replies.templates]]\nname = "no spaces"\ntext = "Hi"\n', "replies.templates[0].name"),
])
def test_each_reply_mistake_is_one_line(tmp_path: Path, reply: str, extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load(tmp_path, reply, extra)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert "hunter2" not in str(error.value)
