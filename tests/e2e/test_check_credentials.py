"""`review-watch check-credentials`: one line per source with reply settings, ok (as whom) or what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

from tests.platform_standins.google_play import GooglePlayStandIn
from tests.support.cli import review_watch
from tests.support.configs import write_config

PACKAGE = "com.acme.app"
ACCOUNT = "replies@acme-reviews.iam.gserviceaccount.com"
URL = f"https://play.google.com/store/apps/details?id={PACKAGE}"


def play_source(name: str, google_play: GooglePlayStandIn, key_lines: str) -> str:
    return (f'\n[[sources]]\nname = "{name}"\ntype = "googleplay"\nurl = "{URL}"\nbrand = "Acme"\n'
            f'[sources.reply]\n{key_lines}\napi_url = "{google_play.url}"\n'
            f'token_url = "{google_play.token_url}"\ntimeout = 5\n')


def test_each_source_gets_one_line_and_no_secret_is_printed(google_play: GooglePlayStandIn, tmp_path: Path) -> None:
    info = google_play.add_account(ACCOUNT, {PACKAGE})
    (tmp_path / "good.json").write_text(json.dumps(info))
    (tmp_path / "broken.json").write_text(info["private_key"])  # the PEM alone, not the JSON key
    sources = "".join((
        play_source("play-good", google_play, 'key_file = "good.json"'),
        play_source("play-missing", google_play, 'key_file = "missing.json"'),
        play_source("play-broken", google_play, 'key_file = "broken.json"'),
        play_source("play-env", google_play, 'key_file_env = "RW_TEST_PLAY_KEY_FILE"'),
    ))
    config = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}", sources=sources)
    done = review_watch("check-credentials", config=config, check=False,
                        env={"RW_TEST_PLAY_KEY_FILE": str(tmp_path / "good.json")})
    lines = done.stdout.splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 4 and "Traceback" not in done.stderr
    by_source = {line.split(":", 1)[0]: line for line in lines}
    assert "ok" in by_source["play-good"] and ACCOUNT in by_source["play-good"]
    assert "ok" in by_source["play-env"]
    assert "missing.json: no such file" in by_source["play-missing"]
    assert "broken.json" in by_source["play-broken"] and "not a service-account JSON key" in by_source["play-broken"]
    secret = [line for line in info["private_key"].splitlines() if not line.startswith("-----")]
    assert not [s for s in secret + list(google_play.tokens) if s in done.stdout + done.stderr]


def test_a_secret_in_the_config_is_refused_in_one_line(google_play: GooglePlayStandIn, tmp_path: Path) -> None:
    config = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}",
                          sources=play_source("google_play", google_play, 'password = "hunter2"'))
    done = review_watch("check-credentials", config=config, check=False)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "sources[0].reply" in line and "password_env" in line and "hunter2" not in line
