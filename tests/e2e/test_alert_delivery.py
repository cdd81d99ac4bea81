"""From a recorded review page to the stand-in Bot API receiving the alert, through the real processes."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import shared_dir
from tests.spiders.fixture_server import FixtureServer, Reply
from tests.support.cli import review_watch, start_review_watch
from tests.support.configs import source_block, write_config
from tests.telegram_standin.fixture import telegram_standin  # noqa: F401 - the fixture
from tests.telegram_standin.runner import ControlClient

PAGE = shared_dir() / "fixtures" / "trustpilot" / "review_www.burgerking.fr_fr_2024-06.html"


@pytest.fixture
def review_site() -> Iterator[FixtureServer]:
    with FixtureServer() as server:
        server.routes["/review/www.burgerking.fr"] = Reply(PAGE.read_bytes(), "text/html")
        yield server


def test_the_alert_of_a_negative_review_reaches_its_assignee_once(
        tmp_path: Path, review_site: FixtureServer, telegram_standin: ControlClient) -> None:  # noqa: F811
    config = write_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'rw.db'}",
                          api_url=telegram_standin.api_url, token=telegram_standin.token,
                          sources=source_block("bk-fr", "trustpilot", review_site.url("/review/www.burgerking.fr")))
    review_watch("crawl", config=config)
    exported = [json.loads(line) for line in review_watch("export", config=config).stdout.splitlines()]
    negative = [row for row in exported if row["negative"] and not row["unsure"]]  # unsure ones go to the lead
    assert negative and all(row["assignee"] == "Anna" for row in negative)  # Anna reads French

    bot = start_review_watch("bot", config=config, log=tmp_path / "bot.log")
    try:
        telegram_standin.wait_for("sendMessage", count=len(negative), chat_id=1001, timeout=60)
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=30)
    cards = telegram_standin.messages(chat_id=1001)
    assert len(cards) == len(negative)
    for row, card in zip(sorted(negative, key=lambda r: r["id"]), cards, strict=True):
        assert f"#{row['id']}" in card["text"]
        assert row["text"][:40] in card["text"]
        buttons = [b for line in card["reply_markup"]["inline_keyboard"] for b in line]
        assert buttons[0]["callback_data"] == f"claim:{row['id']}"
        assert any(b.get("url") == row["url"] for b in buttons)
    assert telegram_standin.rejections() == []
    assert telegram_standin.commands()  # setMyCommands was called

    polls = len(telegram_standin.requests(method="getUpdates"))
    restarted = start_review_watch("bot", config=config, log=tmp_path / "bot2.log")
    try:
        telegram_standin.wait_for("getUpdates", count=polls + 3, timeout=60)  # running a few seconds
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=30)
    assert len(telegram_standin.sent(chat_id=1001, method="sendMessage")) == len(negative)  # nothing sent twice
