"""Replies typed in Telegram reach Google Play, once: the real `review-watch bot`, the Bot API stand-in and the
Google Play stand-in (google-api-python-client and google-auth over loopback).

One crawl and one bot serve the tests of the module, in file order; each answers its own review, except that
the reply posted by the first is then edited from its card. A second stack has approval by a lead on.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import t
from tests.platform_standins.google_play import GooglePlayStandIn
from tests.platform_standins.google_play import Review as PlayReview
from tests.spiders.fixture_server import FixtureServer, Reply
from tests.support.cli import review_watch, start_review_watch
from tests.support.configs import write_config
from tests.support.pages import Review, google_play_response
from tests.support.waiting import post_reply_by_command, said_after, until
from tests.telegram_standin.runner import ControlClient, StandInThread

ANNA, LENA = 1001, 1004
PACKAGE = "com.acme.app"
ACCOUNT = "replies@acme-reviews.iam.gserviceaccount.com"
ENDPOINT = "/_/PlayStoreUi/data/batchexecute"
COMPLAINTS = {
    key: f"Acme app review {key}: it crashes every time I open it, I lost all my notes. Terrible, uninstalling."
    for key in ("gp-cmd", "gp-button", "gp-template", "gp-long", "gp-gone", "gp-expired", "gp-429", "gp-crash",
                "gp-approve")
}
TEMPLATE = "Hi {customer_name}, sorry about the crash: version 2.1 fixes it. {agent_name}, case {case_number}"


@dataclass
class Stack:
    directory: Path
    config: Path
    site: FixtureServer
    play: GooglePlayStandIn
    telegram: ControlClient
    standin: StandInThread
    bot: subprocess.Popen[str] | None = None
    starts: int = 0
    ids: dict[str, int] = field(default_factory=dict)

    def start_bot(self) -> None:
        self.starts += 1
        self.bot = start_review_watch("bot", config=self.config, log=self.log(self.starts))

    def log(self, start: int) -> Path:
        return self.directory / f"bot{start}.log"

    def stop_bot(self, kill: bool = False) -> None:
        if self.bot is None:
            return
        self.bot.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        code = self.bot.wait(timeout=30)
        assert kill or code == 0, self.log(self.starts).read_text()
        self.bot = None

    def export(self) -> dict[str, dict[str, Any]]:
        rows = [json.loads(line) for line in review_watch("export", config=self.config).stdout.splitlines()]
        return {row["external_id"]: row for row in rows}

    def close(self) -> None:
        if self.bot is not None:
            self.bot.kill()
            self.bot.wait(timeout=30)
        self.site.__exit__()
        self.play.stop()
        self.standin.stop()


def open_stack(directory: Path, keys: list[str], approval: str = "none") -> Stack:
    site = FixtureServer().__enter__()
    site.routes[ENDPOINT] = Reply(google_play_response([Review(key, 1, COMPLAINTS[key]) for key in keys]))
    play = GooglePlayStandIn()
    play.start()
    for key in keys:
        if key != "gp-gone":  # deleted on Google Play after the crawl
            play.add_review(PACKAGE, PlayReview(key, COMPLAINTS[key], 1))
    key_file = directory / "play-key.json"
    key_file.write_text(json.dumps(play.add_account(ACCOUNT, {PACKAGE})), encoding="utf-8")
    standin = StandInThread()
    telegram = standin.start()
    source = (f'\n[[sources]]\nname = "acme-play"\ntype = "googleplay"\n'
              f'url = "{site.url("/store/apps/details")}?id={PACKAGE}&hl=en"\nbrand = "Acme"\n'
              f'[sources.reply]\naccount = "{ACCOUNT}"\nkey_file = "play-key.json"\n'
              f'api_url = "{play.url}"\ntoken_url = "{play.token_url}"\ntimeout = 5\n')
    replies = (f'\n[replies]\napproval = "{approval}"\ncheck_pending_every = 1\n'
               f'\n[[replies.templates]]\nname = "crash"\ntext = "{TEMPLATE}"\nbrand = "Acme"\n')
    path = write_config(directory, database_url=f"sqlite:///{directory / 'rw.db'}", api_url=telegram.api_url,
                        token=telegram.token, sources=source, extra=replies)
    stack = Stack(directory, path, site, play, telegram, standin)
    try:
        review_watch("crawl", config=path)
        stack.ids = {key: row["id"] for key, row in stack.export().items()}
        stack.start_bot()
        telegram.wait_for("sendMessage", count=len(keys), chat_id=ANNA, timeout=90)
    except BaseException:
        stack.close()
        raise
    return stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    opened = open_stack(tmp_path_factory.mktemp("replies-play"),
                        ["gp-cmd", "gp-button", "gp-template", "gp-long", "gp-gone", "gp-expired", "gp-429",
                         "gp-crash"])
    yield opened
    opened.close()


def sends(telegram: ControlClient, chat_id: int) -> list[dict[str, Any]]:
    return telegram.sent(chat_id=chat_id, method="sendMessage")


def answer_to(telegram: ControlClient, chat_id: int, act: Callable[[], object], count: int = 1,
              timeout: float = 30) -> list[str]:
    before = len(sends(telegram, chat_id))
    act()
    telegram.wait_for("sendMessage", count=before + count, chat_id=chat_id, timeout=timeout)
    return [sent["text"] for sent in sends(telegram, chat_id)[before:]]


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def last_message(telegram: ControlClient, chat_id: int) -> dict[str, Any]:
    return telegram.messages(chat_id=chat_id)[-1]


def press(telegram: ControlClient, chat_id: int, message: dict[str, Any], prefix: str) -> None:
    (data,) = [b["callback_data"] for b in buttons(message) if b.get("callback_data", "").startswith(prefix)]
    telegram.press_button(chat_id, message["message_id"], data)


def card(telegram: ControlClient, chat_id: int, case_id: int) -> dict[str, Any]:
    (found,) = [m for m in telegram.messages(chat_id=chat_id)
                if m.get("reply_markup") and m.get("text", "").splitlines()[-1].endswith(f" #{case_id}")]
    return found


def replied_visible(stack: Stack, key: str) -> bool:
    row = stack.export()[key]
    return row["status"] == "replied" and row["reply_channel"] == "visible_to_customer"


def audit(stack: Stack, case_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    with sqlite3.connect(stack.directory / "rw.db") as db:
        rows = db.execute("SELECT kind, actor, details FROM case_events WHERE mention_id = ? ORDER BY id",
                          (case_id,)).fetchall()
    return [(kind, actor, json.loads(details)) for kind, actor, details in rows]


def post_by_command(stack: Stack, key: str, text: str) -> str:
    return post_reply_by_command(stack.telegram, ANNA, stack.ids[key], text)


def test_reply_command_posts_once_and_the_case_is_replied_and_visible(stack: Stack) -> None:
    telegram, case_id = stack.telegram, stack.ids["gp-cmd"]
    before = len(sends(telegram, ANNA))
    confirmation = post_by_command(stack, "gp-cmd", "Sorry! Version 2.1 fixes the crash; your notes are safe.")
    assert "Google Play" in confirmation and ACCOUNT in confirmation and "350" in confirmation
    until(lambda: stack.play.replies_to("gp-cmd"), what="the reply on Google Play")
    until(lambda: replied_visible(stack, "gp-cmd"), what="the case replied and visible")
    assert [r["text"] for r in stack.play.replies_to("gp-cmd")] == [
        "Sorry! Version 2.1 fixes the crash; your notes are safe."]
    told = until(lambda: [s["text"] for s in sends(telegram, ANNA)[before:]
                          if t("notice.reply_posted", "en", case_id=case_id, platform="Google Play") in s["text"]])
    assert len(told) == 1
    row = stack.export()["gp-cmd"]
    assert row["reply_state"] == "posted"
    until(lambda: t("card.reply.posted", "en", platform="Google Play") in card(telegram, ANNA, case_id)["text"],
          what="the card showing the reply")
    assert stack.play.rejections == [] and telegram.rejections() == []


def test_the_reply_button_conversation_posts_once(stack: Stack) -> None:
    telegram, case_id = stack.telegram, stack.ids["gp-button"]
    (question,) = answer_to(telegram, ANNA, lambda: press(telegram, ANNA, card(telegram, ANNA, case_id), "reply:"))
    assert f"#{case_id}" in question
    (confirmation,) = answer_to(telegram, ANNA, lambda: telegram.send_text(ANNA, "We are sorry: 2.1 is out."))
    assert "Google Play" in confirmation and "We are sorry: 2.1 is out." in confirmation
    assert stack.export()["gp-button"]["status"] != "replied"  # nothing before the confirmation
    press(telegram, ANNA, last_message(telegram, ANNA), "rpost:")
    until(lambda: replied_visible(stack, "gp-button"), what="the case replied and visible")
    assert [r["text"] for r in stack.play.replies_to("gp-button")] == ["We are sorry: 2.1 is out."]


def test_a_template_chosen_by_its_button_is_filled_in_and_posted(stack: Stack) -> None:
    telegram, case_id = stack.telegram, stack.ids["gp-template"]
    asked = t("ask_reply_text", "en", case_id=case_id)
    said_after(telegram, ANNA, lambda: press(telegram, ANNA, card(telegram, ANNA, case_id), "reply:"), asked)
    (question,) = [m for m in telegram.messages(chat_id=ANNA) if m.get("text") == asked]
    assert [b["text"] for b in buttons(question)] == [f"{t('button.rtpl', 'en')}: crash"]
    filled = TEMPLATE.format(customer_name="A customer", agent_name="Anna", case_number=case_id)
    confirmation = said_after(telegram, ANNA, lambda: press(telegram, ANNA, question, "rtpl:"), filled)
    assert "Google Play" in confirmation and ACCOUNT in confirmation
    press(telegram, ANNA, last_message(telegram, ANNA), "rpost:")
    until(lambda: replied_visible(stack, "gp-template"), what="the templated reply posted")
    assert [r["text"] for r in stack.play.replies_to("gp-template")] == [filled]


def test_a_posted_reply_is_edited_from_the_card_and_its_deletion_refused_in_one_line(stack: Stack) -> None:
    telegram, case_id = stack.telegram, stack.ids["gp-cmd"]  # posted by the first test
    posted = until(lambda: [m for m in [card(telegram, ANNA, case_id)]
                            if any(b.get("callback_data", "").startswith("rdelete:") for b in buttons(m))],
                   what="the card's buttons for its posted reply")[0]
    calls_before = len(stack.play.requests)
    refused = t("reply.cannot_delete", "en", platform="Google Play")
    assert said_after(telegram, ANNA, lambda: press(telegram, ANNA, posted, "rdelete:"), refused) == refused
    said_after(telegram, ANNA, lambda: press(telegram, ANNA, posted, "rchange:"),
               t("reply.ask_change", "en", case_id=case_id))
    edited = "Sorry! Version 2.1.1 fixes the crash for good, and your notes are safe."
    done = t("reply.edited", "en", case_id=case_id, platform="Google Play")
    assert said_after(telegram, ANNA, lambda: telegram.send_text(ANNA, edited), done) == done
    assert stack.play.reviews[(PACKAGE, "gp-cmd")].reply == edited  # the reply replaced in place
    assert [r["method"] for r in stack.play.requests[calls_before:]] == ["reply"]  # the deletion sent nothing
    changes = [(actor, details["after"]) for kind, actor, details in audit(stack, case_id) if kind == "reply_edited"]
    assert changes == [("Anna", edited)]
    row = stack.export()["gp-cmd"]
    assert (row["status"], row["reply_state"], row["reply_channel"]) == ("replied", "posted", "visible_to_customer")


def test_over_the_limit_is_refused_before_sending_with_the_count(stack: Stack) -> None:
    telegram, case_id = stack.telegram, stack.ids["gp-long"]
    requests_before = len(stack.play.requests)
    (answer,) = answer_to(telegram, ANNA, lambda: telegram.send_text(ANNA, f"/reply {case_id} {'x' * 412}"))
    assert "412" in answer and "350" in answer
    assert not any(b.get("callback_data", "").startswith("rpost:") for b in buttons(last_message(telegram, ANNA)))
    time.sleep(1)
    assert len(stack.play.requests) == requests_before and stack.play.replies_to("gp-long") == []
    assert stack.export()["gp-long"]["status"] != "replied"


@pytest.mark.parametrize(("key", "fault", "words"), [
    ("gp-gone", None, "review is gone"),
    ("gp-expired", "expired_token", "token"),
])
def test_a_refusal_comes_back_in_one_line_with_the_draft_kept(stack: Stack, key: str, fault: str | None,
                                                             words: str) -> None:
    telegram, case_id = stack.telegram, stack.ids[key]
    if fault:
        stack.play.fail_next(fault, count=50)
    text = f"Sorry about case {case_id}, we are on it."
    before = len(sends(telegram, ANNA))
    post_by_command(stack, key, text)
    notice = until(lambda: [s["text"] for s in sends(telegram, ANNA)[before:] if "❌" in s["text"]],
                   what="the refusal")[0]
    stack.play.clear_faults()
    reason_line = [line for line in notice.splitlines() if words in line]
    assert len(reason_line) == 1 and f"#{case_id}" in notice and text in notice  # one line, and the draft
    row = stack.export()[key]
    assert row["status"] != "replied" and row["reply_state"] == "refused"
    assert stack.play.replies_to(key) == []


def test_a_429_waits_and_then_posts_once(stack: Stack) -> None:
    stack.play.fail_next("rate_limited", count=1, method="reply", retry_after=2)
    started = time.monotonic()
    post_by_command(stack, "gp-429", "Thanks for your patience.")
    until(lambda: replied_visible(stack, "gp-429"), what="the case replied after the 429")
    assert time.monotonic() - started >= 2
    assert len(stack.play.replies_to("gp-429")) == 1


def test_killed_after_google_accepted_a_restart_posts_nothing_twice(stack: Stack) -> None:
    stack.play.fail_next("hang_after_accept", count=1, method="reply", delay=60)
    post_by_command(stack, "gp-crash", "Fixed in 2.1, sorry for the trouble.")
    until(lambda: stack.play.replies_to("gp-crash"), what="Google Play accepting the reply")
    stack.stop_bot(kill=True)  # accepted there, not recorded here
    assert stack.export()["gp-crash"]["status"] != "replied"
    stack.start_bot()
    until(lambda: replied_visible(stack, "gp-crash"), timeout=60, what="the case replied after the restart")
    assert len(stack.play.replies_to("gp-crash")) == 1
    posted = [details for kind, _, details in audit(stack, stack.ids["gp-crash"]) if kind == "reply_posted"]
    assert len(posted) == 1 and posted[0]["found_on_retry"] is True


def test_no_secret_in_any_log_line(stack: Stack) -> None:
    key = json.loads((stack.directory / "play-key.json").read_text())
    secret_lines = [line for line in key["private_key"].splitlines() if line and not line.startswith("-----")]
    tokens = list(stack.play.tokens)
    logs = "\n".join(stack.log(n).read_text() for n in range(1, stack.starts + 1))
    assert logs and not [s for s in secret_lines + tokens if s in logs]


def test_with_approval_the_lead_edits_and_the_edited_text_is_posted(tmp_path: Path) -> None:
    stack = open_stack(tmp_path, ["gp-approve"], approval="lead")
    try:
        telegram, case_id = stack.telegram, stack.ids["gp-approve"]
        answer_to(telegram, ANNA, lambda: telegram.send_text(ANNA, f"/reply {case_id} sorry!!"))
        (sent_on,) = answer_to(telegram, ANNA, lambda: press(telegram, ANNA, last_message(telegram, ANNA), "rpost:"))
        assert f"#{case_id}" in sent_on
        telegram.wait_for("sendMessage", count=1, chat_id=LENA, timeout=30)
        request = last_message(telegram, LENA)
        assert "sorry!!" in request["text"] and "Anna" in request["text"]
        (asked,) = answer_to(telegram, LENA, lambda: press(telegram, LENA, request, "redit:"))
        assert f"#{case_id}" in asked
        edited = "We are sorry: version 2.1 fixes the crash. Lena, Acme support"
        before = len(sends(telegram, ANNA))
        answer_to(telegram, LENA, lambda: telegram.send_text(LENA, edited))
        until(lambda: replied_visible(stack, "gp-approve"), what="the approved reply posted")
        assert [r["text"] for r in stack.play.replies_to("gp-approve")] == [edited]
        until(lambda: any("Lena" in s["text"] for s in sends(telegram, ANNA)[before:]),
              what="the author told who approved")  # the notice is queued after the post is recorded
        trail = audit(stack, case_id)
        kinds = {kind: actor for kind, actor, _ in trail}
        assert kinds["reply_drafted"] == "Anna" and kinds["reply_edited_by_lead"] == "Lena"
        assert kinds["reply_approved"] == "Lena"
        posted = [d for kind, _, d in trail if kind == "reply_posted"]
        assert posted[0]["approved_by"] == "Lena" and posted[0]["text"] == edited
    finally:
        stack.close()
