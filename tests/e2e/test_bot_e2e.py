"""Staff meet the real `review-watch bot` through the stand-in Bot API: alerts, buttons, commands, limits.

One crawl and one bot process are shared by the tests of a module (they run in file order and build on
each other: claim, then reply, then resolve); a second stack with a 40-second SLA shows the reminder
and the escalation.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import t
from tests.spiders.fixture_server import FixtureServer, Reply
from tests.support.cli import review_watch, start_review_watch
from tests.support.configs import source_block, write_config
from tests.support.pages import Review, trustpilot_page
from tests.telegram_standin.runner import ControlClient, StandInThread

ANNA, BORIS, LENA, STRANGER = 1001, 1002, 1004, 4242
SHORT_REPLY_WAIT = 2  # seconds, in the short-SLA stack
PAGE_PATH = "/review/acme.com"
HTML_TEXT = 'The page showed <script>alert("hi")</script> & the "support" team said \'wait\' — awful, never again!'
LONG_TEXT = ("START OF THE LONG REVIEW. " + " ".join(
    f"Sentence {n}: the parcel from Acme came late, broken and without the promised refund." for n in range(71)
))[:5976] + " END OF THE LONG REVIEW."  # 6,000 characters
REVIEWS = [
    Review("rv-en-neg", 1, "Terrible service from Acme. My order arrived broken and nobody answers my emails. "
                           "I want a refund now."),
    Review("rv-ru-neg", 1, "Ужасный сервис Акме. Заказ пришёл сломанным, а поддержка не отвечает уже неделю. "
                           "Верните деньги!", language="ru"),
    Review("rv-en-pos", 5, "Wonderful experience with Acme: fast delivery and friendly support. Highly recommended!"),
    Review("rv-ru-pos", 5, "Отличный магазин Акме, быстрая доставка и вежливая поддержка. Всем советую!",
           language="ru"),
    Review("rv-html", 1, HTML_TEXT),
    Review("rv-long", 1, LONG_TEXT),
]
LATE_REVIEW = Review("rv-en-late", 1, "Acme charged my card twice and the support chat is closed. Unacceptable.")


@dataclass
class Stack:
    """A crawled database, a review site, a stand-in and a running bot process."""

    directory: Path
    config: Path
    site: FixtureServer
    telegram: ControlClient
    standin: StandInThread
    bot: subprocess.Popen[str] | None = None
    starts: int = 0
    ids: dict[str, int] = field(default_factory=dict)  # external id -> case id

    def start_bot(self) -> None:
        self.starts += 1
        self.bot = start_review_watch("bot", config=self.config, log=self.directory / f"bot{self.starts}.log")

    def stop_bot(self) -> None:
        if self.bot is not None:
            self.bot.send_signal(signal.SIGTERM)
            assert self.bot.wait(timeout=30) == 0, (self.directory / f"bot{self.starts}.log").read_text()
            self.bot = None

    def export(self) -> dict[str, dict[str, Any]]:
        rows = [json.loads(line) for line in review_watch("export", config=self.config).stdout.splitlines()]
        return {row["external_id"]: row for row in rows}

    def close(self) -> None:
        if self.bot is not None:
            self.bot.kill()
            self.bot.wait(timeout=30)
        self.site.__exit__()
        self.standin.stop()


def open_stack(directory: Path, reviews: list[Review], **config: str) -> Stack:
    site = FixtureServer().__enter__()
    site.routes[PAGE_PATH] = Reply(trustpilot_page(reviews), "text/html")
    standin = StandInThread()
    telegram = standin.start()
    path = write_config(directory, database_url=f"sqlite:///{directory / 'rw.db'}", api_url=telegram.api_url,
                        token=telegram.token, sources=source_block("acme-tp", "trustpilot", site.url(PAGE_PATH)),
                        **config)
    stack = Stack(directory, path, site, telegram, standin)
    try:
        review_watch("crawl", config=path)
        stack.ids = {key: row["id"] for key, row in stack.export().items()}
    except BaseException:
        stack.close()
        raise
    return stack


def cards(telegram: ControlClient, chat_id: int, case_id: int) -> list[dict[str, Any]]:
    """The alert cards of a case in a chat: bot messages with buttons whose last line names the case."""
    return [message for message in telegram.messages(chat_id=chat_id)
            if message.get("reply_markup") and message.get("text", "").splitlines()[-1].endswith(f" #{case_id}")]


def card(telegram: ControlClient, chat_id: int, case_id: int) -> dict[str, Any]:
    found = cards(telegram, chat_id, case_id)
    assert len(found) == 1, f"{len(found)} cards of case {case_id} in chat {chat_id}"
    return found[0]


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def sends(telegram: ControlClient, chat_id: int) -> list[dict[str, Any]]:
    return telegram.sent(chat_id=chat_id, method="sendMessage")


def answer_to(telegram: ControlClient, chat_id: int, act: Any, count: int = 1, timeout: float = 20) -> list[str]:
    """Do `act` and return the texts of the next `count` messages the bot sends to the chat."""
    before = len(sends(telegram, chat_id))
    act()
    telegram.wait_for("sendMessage", count=before + count, chat_id=chat_id, timeout=timeout)
    return [sent["text"] for sent in sends(telegram, chat_id)[before:]]


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, short_sla: Stack) -> Iterator[Stack]:
    """Set up after `short_sla`, whose clock then runs while the tests of this stack do."""
    stack = open_stack(tmp_path_factory.mktemp("bot-e2e"), REVIEWS)
    try:
        telegram = stack.telegram
        telegram.fail_next("retry_after", count=1, method="sendMessage", chat_id=BORIS, retry_after=2)
        stack.start_bot()
        telegram.wait_for("sendMessage", count=3, chat_id=ANNA, timeout=60)
        telegram.wait_for("sendMessage", count=1, chat_id=BORIS, timeout=60)
        yield stack
    finally:
        stack.close()


def test_negative_reviews_reach_the_person_who_reads_their_language_once(stack: Stack) -> None:
    telegram, ids = stack.telegram, stack.ids
    exported = stack.export()
    assert {key for key, row in exported.items() if row["negative"]} == {"rv-en-neg", "rv-ru-neg", "rv-html",
                                                                         "rv-long"}
    assert exported["rv-en-neg"]["assignee"] == "Anna" and exported["rv-ru-neg"]["assignee"] == "Boris"
    for key in ("rv-en-neg", "rv-html", "rv-long"):
        assert f"#{ids[key]}" in card(telegram, ANNA, ids[key])["text"]
        assert not cards(telegram, BORIS, ids[key]) and not cards(telegram, LENA, ids[key])
    russian = card(telegram, BORIS, ids["rv-ru-neg"])
    assert "Заказ пришёл сломанным" in russian["text"] and "Обращение" in russian["text"]  # Boris reads Russian
    assert buttons(russian)[0]["callback_data"] == f"claim:{ids['rv-ru-neg']}"
    assert any(b.get("url") == exported["rv-ru-neg"]["url"] for b in buttons(russian))
    assert len(sends(telegram, ANNA)) == 3 and len(sends(telegram, BORIS)) == 1
    # the lead gets no alert, only the warning that the ratings average below the satisfaction line: one, although
    # both the brand and its one source fell
    telegram.wait_for("sendMessage", count=1, chat_id=LENA, timeout=60)
    (warning,) = sends(telegram, LENA)
    assert warning["text"].startswith("📉 Satisfaction for Acme fell to")
    everything = " ".join(m["text"] for m in telegram.messages())
    assert "Wonderful experience" not in everything and "Отличный магазин" not in everything
    assert telegram.commands().keys() >= {"default:::", "default:::ru"}


def test_markup_in_a_review_arrives_intact(stack: Stack) -> None:
    alert = card(stack.telegram, ANNA, stack.ids["rv-html"])
    assert HTML_TEXT in alert["text"]
    assert "&lt;script&gt;" in alert["html"] and "<script>" not in alert["html"]


def test_a_long_review_arrives_shortened_and_whole_on_request(stack: Stack) -> None:
    telegram, case_id = stack.telegram, stack.ids["rv-long"]
    alert = card(telegram, ANNA, case_id)
    assert "START OF THE LONG REVIEW" in alert["text"] and "END OF THE LONG REVIEW" not in alert["text"]
    assert f"/case {case_id}" in alert["text"]
    parts = answer_to(telegram, ANNA, lambda: telegram.send_text(ANNA, f"/case {case_id}"), count=2)
    assert all(len(part.encode("utf-16-le")) // 2 <= 4096 for part in parts)
    assert flat(LONG_TEXT) in flat(" ".join(parts))
    assert telegram.rejections() == []


def test_a_429_delays_the_message_but_loses_nothing(stack: Stack) -> None:
    telegram = stack.telegram
    refused = [r for r in telegram.requests(method="sendMessage", outcome="failed")
               if r["params"].get("chat_id") in (BORIS, str(BORIS))]
    accepted = [r for r in telegram.requests(method="sendMessage", outcome="ok")
                if r["params"].get("chat_id") in (BORIS, str(BORIS))]
    assert len(refused) == 1 and refused[0]["status"] == 429
    assert accepted[0]["t"] - refused[0]["t"] >= 2  # retry_after honoured
    assert len(cards(telegram, BORIS, stack.ids["rv-ru-neg"])) == 1


def test_an_unknown_user_is_refused_and_shown_nothing(stack: Stack) -> None:
    telegram = stack.telegram
    telegram.add_user(STRANGER, first_name="Mallory")
    case_id = stack.ids["rv-en-neg"]
    for command in ("/start", "/queue", f"/case {case_id}", f"/reply {case_id} hello", "/help"):
        (answer,) = answer_to(telegram, STRANGER, lambda c=command: telegram.send_text(STRANGER, c))
        assert answer == t("refused", "en")
    shown = " ".join(m["html"] for m in telegram.messages(chat_id=STRANGER))
    assert "Acme" not in shown and str(case_id) not in shown and "Terrible" not in shown
    assert stack.export()["rv-en-neg"]["status"] == "assigned"


def test_claim_by_button_edits_the_card_in_place(stack: Stack) -> None:
    telegram, case_id = stack.telegram, stack.ids["rv-en-neg"]
    alert = card(telegram, ANNA, case_id)
    edits = len(telegram.sent(chat_id=ANNA, method="editMessageText"))
    messages_before = len(telegram.messages(chat_id=ANNA))
    telegram.press_button(ANNA, alert["message_id"], f"claim:{case_id}")
    telegram.wait_for("editMessageText", count=edits + 1, chat_id=ANNA, timeout=20)
    edited = card(telegram, ANNA, case_id)
    assert edited["message_id"] == alert["message_id"] and edited["edit_count"] >= 1
    assert "claimed" in edited["text"].lower()
    assert f"claim:{case_id}" not in [b.get("callback_data") for b in buttons(edited)]
    assert len(telegram.messages(chat_id=ANNA)) == messages_before  # no new message for the claim
    assert any(answer["text"] for answer in telegram.callback_answers())
    assert stack.export()["rv-en-neg"]["status"] == "claimed"


def test_reply_command_records_the_reply(stack: Stack) -> None:
    telegram, case_id = stack.telegram, stack.ids["rv-en-neg"]
    (answer,) = answer_to(telegram, ANNA, lambda: telegram.send_text(
        ANNA, f"/reply {case_id} Sorry about that & thanks: we refunded you <today>."))
    assert f"#{case_id}" in answer
    assert stack.export()["rv-en-neg"]["status"] == "replied"


def test_reply_button_asks_for_the_text_and_confirms(stack: Stack) -> None:
    telegram, case_id = stack.telegram, stack.ids["rv-ru-neg"]
    alert = card(telegram, BORIS, case_id)
    (question,) = answer_to(telegram, BORIS, lambda: telegram.press_button(BORIS, alert["message_id"],
                                                                             f"reply:{case_id}"))
    assert f"#{case_id}" in question
    (confirm,) = answer_to(telegram, BORIS, lambda: telegram.send_text(BORIS, "Мы вернули деньги, извините."))
    assert "Мы вернули деньги" in confirm
    confirmation = telegram.messages(chat_id=BORIS)[-1]
    assert buttons(confirmation)[0]["callback_data"] == f"confirm:{case_id}"
    assert stack.export()["rv-ru-neg"]["status"] == "assigned"  # nothing recorded before the confirmation
    (done,) = answer_to(telegram, BORIS, lambda: telegram.press_button(BORIS, confirmation["message_id"],
                                                                         f"confirm:{case_id}"))
    assert f"#{case_id}" in done
    assert stack.export()["rv-ru-neg"]["status"] == "replied"


def test_a_second_reply_button_takes_over_from_an_unfinished_one(stack: Stack) -> None:
    telegram, first, second = stack.telegram, stack.ids["rv-html"], stack.ids["rv-long"]
    (asked,) = answer_to(telegram, ANNA, lambda: telegram.press_button(
        ANNA, card(telegram, ANNA, first)["message_id"], f"reply:{first}"))
    assert f"#{first}" in asked
    (asked_again,) = answer_to(telegram, ANNA, lambda: telegram.press_button(
        ANNA, card(telegram, ANNA, second)["message_id"], f"reply:{second}"))
    assert f"#{second}" in asked_again
    (confirm,) = answer_to(telegram, ANNA, lambda: telegram.send_text(ANNA, "We are sending a new parcel."))
    assert f"#{second}" in confirm and f"#{first}" not in confirm  # the text goes to the case pressed last
    assert buttons(telegram.messages(chat_id=ANNA)[-1])[0]["callback_data"] == f"confirm:{second}"
    (cancelled,) = answer_to(telegram, ANNA, lambda: telegram.send_text(ANNA, "/cancel"))
    assert cancelled == t("reply_cancelled", "en")
    exported = stack.export()
    assert exported["rv-html"]["status"] == exported["rv-long"]["status"] == "assigned"  # nothing recorded


def test_resolve_by_button_and_by_command_once_a_reply_is_recorded(stack: Stack) -> None:
    telegram, ids = stack.telegram, stack.ids
    alert = card(telegram, ANNA, ids["rv-en-neg"])
    edits = len(telegram.sent(chat_id=ANNA, method="editMessageText"))
    telegram.press_button(ANNA, alert["message_id"], f"resolve:{ids['rv-en-neg']}")
    telegram.wait_for("editMessageText", count=edits + 1, chat_id=ANNA, timeout=20)
    assert "resolved" in card(telegram, ANNA, ids["rv-en-neg"])["text"].lower()
    (answer,) = answer_to(telegram, BORIS, lambda: telegram.send_text(BORIS, f"/resolve {ids['rv-ru-neg']}"))
    assert f"#{ids['rv-ru-neg']}" in answer

    answers = len(telegram.callback_answers())
    unanswered = card(telegram, ANNA, ids["rv-html"])
    telegram.press_button(ANNA, unanswered["message_id"], f"resolve:{ids['rv-html']}")
    telegram.wait_for("answerCallbackQuery", count=answers + 1, timeout=20)
    refusal = telegram.callback_answers()[-1]
    assert refusal["show_alert"] and "no reply is recorded" in refusal["text"]
    exported = stack.export()
    assert exported["rv-en-neg"]["status"] == "resolved" and exported["rv-ru-neg"]["status"] == "resolved"
    assert exported["rv-html"]["status"] == "assigned" and exported["rv-long"]["status"] == "assigned"
    assert telegram.rejections() == []


def test_queue_help_and_stats_answer_each_in_their_language(stack: Stack) -> None:
    telegram, ids = stack.telegram, stack.ids
    (queue,) = answer_to(telegram, ANNA, lambda: telegram.send_text(ANNA, "/queue"))
    assert f"#{ids['rv-html']}" in queue and f"#{ids['rv-long']}" in queue and f"#{ids['rv-en-neg']}" not in queue
    (help_text,) = answer_to(telegram, BORIS, lambda: telegram.send_text(BORIS, "/help"))
    assert "/reply" in help_text and "/stats" not in help_text and any("а" <= c <= "я" for c in help_text)
    (refused,) = answer_to(telegram, BORIS, lambda: telegram.send_text(BORIS, "/stats"))
    assert refused == t("leads_only", "ru")
    (not_his,) = answer_to(telegram, BORIS, lambda: telegram.send_text(BORIS, f"/case {ids['rv-html']}"))
    assert not_his == t("not_your_case", "ru") and "script" not in not_his
    photos = len(telegram.sent(chat_id=LENA, method="sendPhoto"))
    (stats,) = answer_to(telegram, LENA, lambda: telegram.send_text(LENA, "/stats"))
    assert "Anna: 2" in stats
    telegram.wait_for("sendPhoto", count=photos + 1, chat_id=LENA, timeout=30)
    assert telegram.rejections() == []


def test_a_blocked_agent_has_their_cases_rerouted_and_the_lead_told(stack: Stack) -> None:
    telegram, ids = stack.telegram, stack.ids
    lena_before = len(sends(telegram, LENA))
    telegram.block(ANNA)
    stack.site.routes[PAGE_PATH] = Reply(trustpilot_page([*REVIEWS, LATE_REVIEW]), "text/html")
    review_watch("crawl", config=stack.config)  # cron, while the bot runs
    telegram.wait_for("sendMessage", count=lena_before + 4, chat_id=LENA, timeout=60)  # 3 re-routed alerts, 1 notice
    exported = stack.export()
    late_id = exported["rv-en-late"]["id"]
    for key in ("rv-en-late", "rv-long", "rv-html"):
        assert exported[key]["assignee"] == "Lena"
        card(telegram, LENA, exported[key]["id"])
    assert exported["rv-en-neg"]["assignee"] == "Anna"  # closed cases stay where they were
    notices = [sent["text"] for sent in sends(telegram, LENA)[lena_before:] if "Anna" in sent["text"]]
    assert len(notices) == 1 and f"#{ids['rv-long']}" in notices[0] and f"#{late_id}" in notices[0]
    blocked = [r for r in telegram.requests(method="sendMessage", outcome="failed")
               if r["status"] == 403]
    assert len(blocked) == 1  # one try, then Anna counts as unreachable
    assert telegram.rejections() == []


def test_a_restart_sends_nothing_twice(stack: Stack) -> None:
    telegram = stack.telegram
    before = telegram.sent()
    stack.stop_bot()
    polls = len(telegram.requests(method="getUpdates"))
    stack.start_bot()
    telegram.wait_for("getUpdates", count=polls + 3, timeout=60)  # running a few rounds
    stack.stop_bot()
    assert telegram.sent() == before
    assert telegram.rejections() == []


@pytest.fixture(scope="module")
def short_sla(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = open_stack(tmp_path_factory.mktemp("bot-sla"), [REVIEWS[0]], sla_calendar="always",
                       response="40 business seconds")
    stack.config.write_text(stack.config.read_text().replace(
        "tick_interval = 1\n", f"tick_interval = 1\nreply_wait = {SHORT_REPLY_WAIT}\n"))
    try:
        stack.start_bot()
        yield stack
    finally:
        stack.close()


def test_a_reminder_then_an_escalation_to_the_lead_on_a_short_sla(short_sla: Stack) -> None:
    telegram, case_id = short_sla.telegram, short_sla.ids["rv-en-neg"]
    telegram.wait_for("sendMessage", count=2, chat_id=ANNA, timeout=60)
    telegram.wait_for("sendMessage", count=1, chat_id=LENA, timeout=60)
    alert, reminder = sends(telegram, ANNA)[:2]
    (escalation,) = sends(telegram, LENA)
    assert f"#{case_id}" in alert["text"] and "Reminder" in reminder["text"] and f"#{case_id}" in reminder["text"]
    assert "Escalated" in escalation["text"] and "Anna" in escalation["text"]
    assert reminder["t"] < escalation["t"]
    telegram.wait_for("editMessageText", count=1, chat_id=ANNA, timeout=20)
    overdue = card(telegram, ANNA, case_id)
    assert overdue["message_id"] == alert["message_id"] and "overdue" in overdue["text"].lower()
    exported = short_sla.export()["rv-en-neg"]
    assert exported["status"] == "escalated"
    assert telegram.rejections() == []


def test_a_text_sent_after_the_reply_wait_is_not_taken_as_the_reply(short_sla: Stack) -> None:
    telegram, case_id = short_sla.telegram, short_sla.ids["rv-en-neg"]
    (asked,) = answer_to(telegram, ANNA, lambda: telegram.press_button(
        ANNA, card(telegram, ANNA, case_id)["message_id"], f"reply:{case_id}"))
    assert f"#{case_id}" in asked
    time.sleep(SHORT_REPLY_WAIT + 1)
    (expired,) = answer_to(telegram, ANNA, lambda: telegram.send_text(ANNA, "Sorry, we are on it."))
    assert expired == t("reply_expired", "en", case_id=case_id)
    assert short_sla.export()["rv-en-neg"]["status"] == "escalated"  # nothing recorded
    (asked_again,) = answer_to(telegram, ANNA, lambda: telegram.press_button(
        ANNA, card(telegram, ANNA, case_id)["message_id"], f"reply:{case_id}"))
    assert asked_again == asked
    (confirm,) = answer_to(telegram, ANNA, lambda: telegram.send_text(ANNA, "Sorry, we are on it."))
    assert "Sorry, we are on it." in confirm  # in time, the text goes to the confirmation as usual
    assert telegram.rejections() == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def post_update(port: int, body: bytes, secret: str | None) -> int:
    """POST to the bot's update path as anyone could; the HTTP status it answers."""
    headers = {"Content-Type": "application/json", **({"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {})}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", method="POST", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def command_update(user_id: int, text: str) -> bytes:
    """A Telegram update: the user with that id sends the command `text` in their private chat."""
    person = {"id": user_id, "is_bot": False, "first_name": "Lena"}
    command = text.split()[0]
    message = {"message_id": 900001, "date": int(time.time()), "chat": {**person, "type": "private"},
               "from": person, "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}]}
    return json.dumps({"update_id": 900001, "message": message}).encode()


@pytest.mark.parametrize("configured", ["s3cret-token", None], ids=["webhook_secret", "no-webhook_secret"])
def test_webhook_mode_takes_only_updates_with_the_secret_and_serves_health_and_metrics(
        tmp_path: Path, configured: str | None) -> None:
    port = free_port()
    stack = open_stack(tmp_path, [REVIEWS[0]])
    telegram, case_id = stack.telegram, stack.ids["rv-en-neg"]
    secret_line = f'webhook_secret = "{configured}"\n' if configured else ""
    stack.config.write_text(stack.config.read_text().replace(
        "tick_interval = 1\n", f'tick_interval = 1\nwebhook_url = "http://127.0.0.1:{port}"\n'
                               f"webhook_port = {port}\n{secret_line}"))
    try:
        stack.start_bot()
        telegram.wait_for("setWebhook", timeout=60)
        webhook = telegram.state()["webhook"]
        assert webhook["url"] == f"http://127.0.0.1:{port}/telegram"
        secret = webhook["secret_token"]
        assert secret == configured if configured else re.fullmatch(r"[A-Za-z0-9_-]{32,256}", secret)
        telegram.wait_for("sendMessage", count=1, chat_id=ANNA, timeout=60)  # the case's alert
        (answer,) = answer_to(telegram, ANNA, lambda: telegram.send_text(ANNA, "/help"))  # Telegram's own delivery
        assert "/reply" in answer
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.read() == b"ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            metrics = response.read().decode()
        assert 'review_watch_outbox_messages{status="sent"}' in metrics and "review_watch_cases_open 1.0" in metrics

        # Anyone who reaches the server, writing as the lead: refused, whatever secret they guess.
        forged = command_update(LENA, f"/reply {case_id} Posted in the brand's name")
        for guess in (None, "", "wrong", secret + "x", secret[:-1], "sécret"):
            assert post_update(port, forged, guess) == 403
        assert post_update(port, b"{" + b" " * (1 << 20) + b"}", secret) == 413  # oversized, even with the secret
        assert stack.export()["rv-en-neg"]["status"] == "assigned"

        (taken,) = answer_to(telegram, LENA, lambda: post_update(port, forged, secret))
        assert f"#{case_id}" in taken
        assert len(sends(telegram, LENA)) == 1  # updates are handled in order: none of the refused ones was
        assert stack.export()["rv-en-neg"]["status"] == "replied"
        assert telegram.rejections() == []
    finally:
        stack.stop_bot()
        stack.close()
