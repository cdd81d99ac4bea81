"""Two `review-watch bot` processes against one PostgreSQL database and the stand-in Bot API: one at a time holds
the sending lease (outbox, scheduler and long polling); killed, the other takes over within seconds, and the
200-alert backlog is delivered once each, but for what was in flight when the holder died."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from review_watch.config import load_config
from review_watch.domain.mentions import MentionItem
from review_watch.entrypoints.bootstrap import App
from review_watch.services.ingest import store_mention
from review_watch.services.triage import triage
from tests.conftest import POSTGRES_ENV
from tests.support.cli import start_review_watch
from tests.support.configs import source_block, write_config
from tests.support.fakes import KeywordClassifier
from tests.telegram_standin.fixture import telegram_standin  # noqa: F401 - the fixture
from tests.telegram_standin.runner import ControlClient

AGENTS = 40  # five alerts each: a chat gets about one message a second, so the backlog takes seconds
ALERTS = 200
TAKEOVER_LIMIT = 15.0  # seconds from the holder's death to the other's first send
LEADING = "holds the sending lease"

pytestmark = pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason=f"{POSTGRES_ENV} is not set")


def agents() -> str:
    return "".join(f'\n[[staff]]\nname = "Agent {n:02d}"\ntelegram_id = {3000 + n}\nrole = "agent"\n'
                   f'languages = ["en"]\n' for n in range(AGENTS)) + (
        '\n[[staff]]\nname = "Lena"\ntelegram_id = 1004\nrole = "lead"\nlanguages = ["en"]\n')


def queue_backlog(app: App) -> None:
    with app.unit_of_work() as uow:
        for number in range(ALERTS):
            store_mention(uow, MentionItem(
                source="acme-trustpilot", source_type="trustpilot", external_id=f"r{number}", url=None,
                author=f"author {number}", published_at=datetime(2026, 11, 20, tzinfo=UTC), rating=1.0,
                rating_max=5.0, title=None, text=f"Complaint {number}: terrible, never again", language="en",
                brand="Acme"), "Acme", app.clock)
    with app.unit_of_work() as uow:
        assert triage(uow, app.config, KeywordClassifier, app.clock).cases_opened == ALERTS


def alert_cases(standin: ControlClient) -> list[int]:
    """The case number of every alert card the stand-in accepted, once per acceptance."""
    cases = []
    for request in standin.requests(method="sendMessage", outcome="ok"):
        found = re.search(r"#(\d+)", str(request["params"].get("text", "")))
        if found:
            cases.append(int(found.group(1)))
    return cases


def wait_until(condition: object, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        assert time.monotonic() - started < timeout, f"{what} did not happen within {timeout} s"
        time.sleep(0.1)
    return time.monotonic() - started


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_killing_the_lease_holder_hands_sending_to_the_other_replica(
        tmp_path: Path, database_url: str, telegram_standin: ControlClient) -> None:  # noqa: F811
    config = write_config(tmp_path, database_url=database_url, api_url=telegram_standin.api_url,
                          token=telegram_standin.token, staff=agents(),
                          sources=source_block("acme-trustpilot", "trustpilot", "http://127.0.0.1:9/acme"))
    app = App(load_config(config))
    queue_backlog(app)
    logs = [tmp_path / "bot-1.log", tmp_path / "bot-2.log"]
    bots = [start_review_watch("bot", config=config, log=log) for log in logs]
    try:
        wait_until(lambda: len(alert_cases(telegram_standin)) >= ALERTS // 4, 120, "a quarter of the backlog sent")
        holders = [n for n, log in enumerate(logs) if LEADING in log.read_text(encoding="utf-8")]
        assert len(holders) == 1, "exactly one replica must hold the sending lease"
        holder, other = bots[holders[0]], bots[1 - holders[0]]
        # One poller at a time while both run: Telegram answers 409 to a second getUpdates. (The killed
        # holder's last long poll is answered 409 once the other replica polls: that one is expected.)
        assert not [r for r in telegram_standin.requests(method="getUpdates") if r["status"] == 409]
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        sent_at_kill = len(alert_cases(telegram_standin))
        assert sent_at_kill < ALERTS, "the backlog was through before the kill: nothing was handed over"

        took = wait_until(lambda: len(alert_cases(telegram_standin)) > sent_at_kill + 1, 60,
                          "the other replica sending")
        assert LEADING in logs[1 - holders[0]].read_text(encoding="utf-8")
        wait_until(lambda: len(set(alert_cases(telegram_standin))) >= ALERTS, 120, "the whole backlog sent")
        time.sleep(2)  # anything sent twice would show now
        assert other.poll() is None
    finally:
        for bot in bots:
            if bot.poll() is None:
                bot.send_signal(signal.SIGTERM)
                try:
                    bot.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    bot.kill()
    cases = alert_cases(telegram_standin)
    duplicates = sum(n - 1 for n in Counter(cases).values())
    print(f"\n{ALERTS} alerts, killed after {sent_at_kill}, sending resumed {took:.1f} s later; "
          f"{duplicates} sent twice")
    assert len(set(cases)) == ALERTS
    assert took <= TAKEOVER_LIMIT, f"the other replica took {took:.1f} s to take over"
    assert duplicates <= 1, f"{duplicates} alerts were sent twice (one may be: the one in flight at the kill)"
    app.engine.dispose()
