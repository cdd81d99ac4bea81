"""Outbox sender load test against a stand-in Bot API that enforces Telegram's flood limits (not a test).

Queues N alerts for M staff directly in the outbox of a fresh SQLite database (cases and mentions
included, so that each alert is rendered as the real card), then drains it with the real OutboxSender
behind the bot's own python-telegram-bot setup (`bot.app.build_application`: AIORateLimiter, 30/s
overall) against `python -m tests.telegram_standin` in its own process, with enforce_rate_limits on
(private chats 1/s with a burst of 3, 30/s for the bot). Two runs, each on a fresh database and stand-in:

1. `paced`: the sender as shipped: one worker per chat spacing that chat's messages 1.05 s apart, all
   sends spaced evenly at 28/s, AIORateLimiter underneath;
2. `unpaced`: the obvious alternative, AIORateLimiter alone (no per-chat pacing, no even spacing).

Reports total time, messages/s, 429s received, the most messages one chat got in any one second and
the most the bot sent in any one second, and whether every alert arrived exactly once.

    python bench/bench_sender.py [--alerts 5000] [--staff 50] [--only paced|unpaced]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from machine import describe_machine

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the stand-in lives in tests/

from sqlalchemy import func, select  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.sender import OutboxSender  # noqa: E402
from review_watch.config import load_config  # noqa: E402
from review_watch.entrypoints.bootstrap import App  # noqa: E402
from review_watch.storage.orm import Case, Mention, OutboxMessage, SentimentResult, Source, Staff  # noqa: E402
from tests.support.configs import source_block, write_config  # noqa: E402
from tests.telegram_standin.runner import ControlClient  # noqa: E402

REVIEW = ("Ordered from Acme three weeks ago, the parcel arrived damaged and the replacement never came. "
          "Support keeps closing my tickets without an answer. Review number {n}.")


@dataclass
class Figures:
    name: str
    alerts: int
    seconds: float
    rate_limited: int
    max_per_chat_second: int
    max_overall_second: int
    delivered_once: bool
    pending_left: int

    def line(self) -> str:
        return (f"{self.name:8} {self.alerts} alerts in {self.seconds:6.1f} s "
                f"= {self.alerts / self.seconds:5.1f} msg/s; "
                f"429s: {self.rate_limited}; max to one chat in 1 s: {self.max_per_chat_second}; "
                f"max overall in 1 s: {self.max_overall_second}; every alert exactly once: {self.delivered_once}"
                + (f"; NOT DELIVERED: {self.pending_left}" if self.pending_left else ""))


def staff_block(count: int) -> str:
    return "".join(f'\n[[staff]]\nname = "Agent {i:03d}"\ntelegram_id = {20001 + i}\nrole = "agent"\n'
                   f'languages = ["en"]\n' for i in range(count))


def start_standin(directory: Path) -> tuple[subprocess.Popen[bytes], ControlClient]:
    ready = directory / "standin.json"
    process = subprocess.Popen([sys.executable, "-m", "tests.telegram_standin", "--ready-file", str(ready)],
                               cwd=REPO, stdout=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 30
    while not ready.exists() or not ready.read_text():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise SystemExit("bench_sender: the stand-in did not start")
        time.sleep(0.1)
    info = json.loads(ready.read_text())
    return process, ControlClient(info["api_url"], info["token"])


def queue_alerts(app: App, alerts: int) -> None:
    now = app.clock()
    with app.unit_of_work() as uow:
        session = uow.session
        source = session.scalars(select(Source)).one()
        staff = list(session.scalars(select(Staff).order_by(Staff.id)))
        for start in range(0, alerts, 500):
            mentions = []
            for n in range(start, min(start + 500, alerts)):
                text = REVIEW.format(n=n)
                mentions.append(Mention(
                    source_id=source.id, external_id=f"bench-{n}", brand_id=source.brand_id,
                    url=f"https://www.trustpilot.com/reviews/bench-{n}", rating=1.0, rating_max=5.0,
                    title="Damaged and ignored", text=text, language="en",
                    content_hash=hashlib.sha256(text.encode()).hexdigest(), raw={}, arrived_at=now, edit_count=0))
            session.add_all(mentions)
            session.flush()
            for mention in mentions:
                member = staff[mention.id % len(staff)]
                session.add(SentimentResult(mention_id=mention.id, label="negative", score=0.97, negative=True,
                                            language="en", model="bench", classified_at=now))
                session.add(Case(id=mention.id, brand="Acme", status="assigned", assignee_id=member.id,
                                 arrived_at=now, deadline_at=now + timedelta(days=1),
                                 remind_at=now + timedelta(hours=18), escalation_level=0))
            session.flush()  # the cases before the outbox rows that refer to them
            for mention in mentions:
                member = staff[mention.id % len(staff)]
                session.add(OutboxMessage(dedupe_key=f"alert:{mention.id}:{member.id}", kind="alert",
                                          staff_id=member.id, case_id=mention.id, payload={}, status="pending",
                                          attempts=0, not_before=now, created_at=now))
        uow.commit()


def pending(app: App) -> int:
    with app.unit_of_work() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.status == "pending")) or 0)


async def drain(app: App, paced: bool, send_interval: float) -> float:
    """The bot's sender loop (`bot.app.serve`) until the outbox is empty."""
    application = build_application(app)
    async with application:
        sender = (OutboxSender(app, application.bot) if paced
                  else OutboxSender(app, application.bot, per_chat_interval=0.0, global_rate=None))
        started = time.perf_counter()
        try:
            while await asyncio.to_thread(pending, app):
                await sender.dispatch()
                await asyncio.sleep(send_interval)
            return time.perf_counter() - started
        finally:
            await sender.close()


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most events in any half-open interval of `window` seconds."""
    ordered = sorted(times)
    return max((bisect_right(ordered, t + window - 1e-9) - i for i, t in enumerate(ordered)), default=0)


def run(name: str, alerts: int, staff: int) -> Figures:
    with tempfile.TemporaryDirectory(prefix=f"bench-sender-{name}-") as folder:
        directory = Path(folder)
        process, telegram = start_standin(directory)
        try:
            telegram.enforce_rate_limits(True, private_per_second=1, private_burst=3, global_per_second=30)
            config = write_config(directory, database_url=f"sqlite:///{directory / 'rw.db'}",
                                  api_url=telegram.api_url, token=telegram.token, staff=staff_block(staff),
                                  sources=source_block("bench", "trustpilot", "http://127.0.0.1:9/review/acme"))
            app = App(load_config(config))
            queue_alerts(app, alerts)
            seconds = asyncio.run(drain(app, name == "paced", app.config.telegram.send_interval))
            sends = telegram.sent(method="sendMessage")
            per_chat: dict[int, list[float]] = defaultdict(list)
            for sent in sends:
                per_chat[int(sent["chat_id"])].append(float(sent["t"]))
            cards = Counter(sent["text"].splitlines()[-1] for sent in sends)
            return Figures(
                name=name, alerts=alerts, seconds=seconds,
                rate_limited=len(telegram.requests(outcome="rate_limited")),
                max_per_chat_second=max((max_in_window(times) for times in per_chat.values()), default=0),
                max_overall_second=max_in_window([float(sent["t"]) for sent in sends]),
                delivered_once=len(cards) == alerts and set(cards.values()) == {1},
                pending_left=pending(app))
        finally:
            process.terminate()
            process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--staff", type=int, default=50)
    parser.add_argument("--only", choices=("paced", "unpaced"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)  # 429s are counted instead
    if args.alerts < 1 or args.staff < 1:
        parser.error("--alerts and --staff must be positive")
    print(f"machine: {describe_machine()}")
    print(f"stand-in limits: private chats 1/s (burst 3), 30/s overall; {args.alerts} alerts for {args.staff} staff; "
          f"Telegram's pace for this load is at most {min(30.0, float(args.staff)):.0f} msg/s")
    for name in ("paced", "unpaced"):
        if args.only in (None, name):
            print(run(name, args.alerts, args.staff).line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
