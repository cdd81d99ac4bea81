"""Replies typed in Telegram reach the App Store, Trustpilot and Google reviews of a business location, once:
the real `review-watch crawl` and `review-watch bot`, the Bot API stand-in and the three platforms' stand-ins.

One crawl and one bot serve the module: the App Store and Trustpilot reviews come from pages in their public
formats on a loopback site, the location's Google reviews from the Business Profile stand-in itself (the
`googlebusiness` source type). Each test answers its own review. The same crawl brings a burst of complaints
about a second brand, Globex, in its own Google location: they open an incident, whose holding reply the lead
sends from its card to each of them once."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.platform_standins.app_store import AppStoreStandIn
from tests.platform_standins.google_business import GoogleBusinessStandIn
from tests.platform_standins.google_business import Review as GoogleReview
from tests.platform_standins.trustpilot import TrustpilotStandIn
from tests.spiders.fixture_server import FixtureServer, Reply
from tests.support.cli import review_watch, start_review_watch
from tests.support.configs import write_config
from tests.support.pages import Review, app_store_atom_page, trustpilot_page
from tests.support.waiting import post_reply_by_command, until
from tests.telegram_standin.runner import ControlClient, StandInThread

ANNA, LENA = 1001, 1004
APP_FEED = "/us/rss/customerreviews/id=284815942/sortby=mostrecent/xml"
TRUSTPILOT_PAGE = "/review/acme.com"
LOCATION = "accounts/1090/locations/5577"
KEY_ID, ISSUER = "2X9R4HXF34", "57246542-96fe-1a63-e053-0824d011072a"
GOOGLE_ACCOUNT = "replies@acme-reviews.iam.gserviceaccount.com"
SECRETS = {"E2E_TP_KEY": "e2e-api-key-4c1f", "E2E_TP_SECRET": "e2e-api-secret-93ab7", "E2E_TP_PASSWORD": "e2e-pw-5e6f"}
COMPLAINT = "Acme {where}: it crashed and I lost every note I had. Support never answered. Terrible, avoid."
APP_STORE = ["as-cmd", "as-crash"]
TRUSTPILOT = ["5f1e2d3c4b5a69788796a5b1", "5f1e2d3c4b5a69788796a5b2"]
GOOGLE = ["g-cmd", "g-crash"]
GLOBEX_LOCATION = "accounts/1090/locations/9911"
GLOBEX = [f"gx-{n}" for n in range(8)]  # as many as [crisis] min_count: a spike; Acme's six are not
HOLDING = "We know the app crashes since 3.0; the fix is on its way. Case {case_number}."


@dataclass
class Stack:
    directory: Path
    config: Path
    site: FixtureServer
    app_store: AppStoreStandIn
    trustpilot: TrustpilotStandIn
    google: GoogleBusinessStandIn
    telegram: ControlClient
    standin: StandInThread
    p8: str
    bot: subprocess.Popen[str] | None = None
    starts: int = 0
    ids: dict[str, int] = field(default_factory=dict)  # external id (short form) -> case id

    def start_bot(self) -> None:
        self.starts += 1
        self.bot = start_review_watch("bot", config=self.config, env=SECRETS, log=self.log(self.starts))

    def log(self, start: int) -> Path:
        return self.directory / f"bot{start}.log"

    def stop_bot(self, kill: bool = False) -> None:
        if self.bot is not None:
            self.bot.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.bot.wait(timeout=30)
            self.bot = None

    def export(self) -> dict[str, dict[str, Any]]:
        rows = [json.loads(line) for line in review_watch("export", config=self.config).stdout.splitlines()]
        return {row["external_id"].rsplit("/", 1)[-1]: row for row in rows}

    def close(self) -> None:
        self.stop_bot(kill=True)
        self.site.__exit__()
        for server in (self.app_store, self.trustpilot, self.google):
            server.stop()
        self.standin.stop()


def _config(directory: Path, site: FixtureServer, app_store: AppStoreStandIn, trustpilot: TrustpilotStandIn,
            google: GoogleBusinessStandIn, api_url: str, token: str) -> Path:
    sources = (
        f'\n[[sources]]\nname = "acme-appstore"\ntype = "appstore"\nurl = "{site.url(APP_FEED)}"\nbrand = "Acme"\n'
        f'[sources.reply]\nkey_id = "{KEY_ID}"\nissuer_id = "{ISSUER}"\nkey_file = "AuthKey.p8"\n'
        f'api_url = "{app_store.url}"\ntimeout = 3\n'
        f'\n[[sources]]\nname = "acme-trustpilot"\ntype = "trustpilot"\nurl = "{site.url(TRUSTPILOT_PAGE)}"\n'
        f'brand = "Acme"\n[sources.reply]\naccount = "support@acme.com"\nusername = "support@acme.com"\n'
        f'business_user_id = "bu-1"\napi_key_env = "E2E_TP_KEY"\napi_secret_env = "E2E_TP_SECRET"\n'
        f'password_env = "E2E_TP_PASSWORD"\napi_url = "{trustpilot.url}"\ntoken_url = "{trustpilot.token_url}"\n'
        f'timeout = 3\n'
        f'\n[[sources]]\nname = "acme-google"\ntype = "googlebusiness"\nurl = "{google.url}/v4/{LOCATION}/reviews"\n'
        f'brand = "Acme"\n[sources.reply]\nkey_file = "google-key.json"\napi_url = "{google.url}"\n'
        f'token_url = "{google.token_url}"\ntimeout = 3\n'
        f'\n[[sources]]\nname = "globex-google"\ntype = "googlebusiness"\n'
        f'url = "{google.url}/v4/{GLOBEX_LOCATION}/reviews"\nbrand = "Globex"\n[sources.reply]\n'
        f'key_file = "google-key.json"\napi_url = "{google.url}"\ntoken_url = "{google.token_url}"\ntimeout = 3\n')
    globex = (f'\n[[brands]]\nname = "Globex"\naliases = ["Globex"]\n\n[crisis]\nmin_count = {len(GLOBEX)}\n'
              f'\n[crisis.holding_reply]\nen = "{HOLDING}"\n')
    return write_config(directory, database_url=f"sqlite:///{directory / 'rw.db'}", api_url=api_url, token=token,
                        sources=sources, extra='\n[replies]\ncheck_pending_every = 1\n' + globex)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("replies-review-sites")
    site = FixtureServer().__enter__()
    site.routes[APP_FEED] = Reply(app_store_atom_page([Review(k, 1, COMPLAINT.format(where=k)) for k in APP_STORE]),
                                  content_type="application/atom+xml; charset=utf-8")
    site.routes[TRUSTPILOT_PAGE] = Reply(trustpilot_page([Review(k, 1, COMPLAINT.format(where=k)) for k in TRUSTPILOT]),
                                         content_type="text/html; charset=utf-8")
    key = ec.generate_private_key(ec.SECP256R1())
    p8 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption()).decode()
    (directory / "AuthKey.p8").write_text(p8, encoding="utf-8")
    app_store = AppStoreStandIn(KEY_ID, ISSUER, key.public_key(), hang_seconds=5)
    for review_id in APP_STORE:
        app_store.add_review(review_id)
    trustpilot = TrustpilotStandIn(SECRETS["E2E_TP_KEY"], SECRETS["E2E_TP_SECRET"], "support@acme.com",
                                   SECRETS["E2E_TP_PASSWORD"], "bu-1", hang_seconds=5)
    trustpilot.reviews.update(TRUSTPILOT)
    google = GoogleBusinessStandIn(hang_seconds=5)
    for server in (app_store, trustpilot, google):
        server.start()
    for n, review_id in enumerate(GOOGLE):
        google.add_review(LOCATION, GoogleReview(review_id, 1, COMPLAINT.format(where=review_id),
                                                 create_time=f"2026-11-2{n}T08:00:00Z"))
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for review_id in GLOBEX:  # written just now: the burst
        google.add_review(GLOBEX_LOCATION, GoogleReview(review_id, 1, COMPLAINT.replace("Acme", "Globex").format(
            where=review_id), create_time=now))
    (directory / "google-key.json").write_text(json.dumps(google.add_account(GOOGLE_ACCOUNT,
                                                                             {LOCATION, GLOBEX_LOCATION})),
                                               encoding="utf-8")
    standin = StandInThread()
    telegram = standin.start()
    config = _config(directory, site, app_store, trustpilot, google, telegram.api_url, telegram.token)
    opened = Stack(directory, config, site, app_store, trustpilot, google, telegram, standin, p8)
    try:
        review_watch("crawl", config=config, timeout=600)  # the model judges six reviews on a busy machine
        opened.ids = {key: row["id"] for key, row in opened.export().items()}
        assert set(opened.ids) == {*APP_STORE, *TRUSTPILOT, *GOOGLE, *GLOBEX}, opened.ids
        opened.start_bot()  # Globex's cases are counted on the incident card, without an alert each
        telegram.wait_for("sendMessage", count=len(opened.ids) - len(GLOBEX), chat_id=ANNA, timeout=90)
        yield opened
    finally:
        opened.close()


def post_by_command(stack: Stack, key: str, text: str) -> str:
    return post_reply_by_command(stack.telegram, ANNA, stack.ids[key], text)


def replied_visible(stack: Stack, key: str, reply_state: str = "posted") -> bool:
    row = stack.export()[key]
    return row["status"] == "replied" and row["reply_channel"] == "visible_to_customer" and \
        row["reply_state"] == reply_state


def test_app_store_reply_is_pending_until_published(stack: Stack) -> None:
    text = "We are sorry: version 4.2 fixes the crash and restores your notes."
    post_by_command(stack, "as-cmd", text)
    until(lambda: replied_visible(stack, "as-cmd", "pending"), what="the App Store reply accepted, pending")
    time.sleep(2.5)  # two looks at the platform: still not published
    assert stack.export()["as-cmd"]["reply_state"] == "pending"
    stack.app_store.publish("as-cmd")
    until(lambda: replied_visible(stack, "as-cmd", "posted"), what="the App Store reply published")
    assert [r.body for r in stack.app_store.accepted] == [text] and stack.app_store.rejections == []


def test_trustpilot_reply_posts_once(stack: Stack) -> None:
    review = TRUSTPILOT[0]
    confirmation = post_by_command(stack, review, "Sorry, Sam: a replacement is on its way today.")
    assert "support@acme.com" in confirmation
    until(lambda: replied_visible(stack, review), what="the Trustpilot reply posted")
    assert [r.text for r in stack.trustpilot.accepted] == ["Sorry, Sam: a replacement is on its way today."]
    assert stack.trustpilot.rejections == []


def test_google_business_reply_posts_once(stack: Stack) -> None:
    confirmation = post_by_command(stack, "g-cmd", "Sorry for the wait; we have added staff on Saturdays.")
    assert GOOGLE_ACCOUNT in confirmation
    until(lambda: replied_visible(stack, "g-cmd"), what="the Google reply posted")
    assert stack.google.accepted == [(f"{LOCATION}/reviews/g-cmd",
                                      "Sorry for the wait; we have added staff on Saturdays.")]
    assert stack.google.rejections == []


@pytest.mark.parametrize("key", ["as-crash", TRUSTPILOT[1], "g-crash"])
def test_killed_after_the_platform_accepted_a_restart_posts_nothing_twice(stack: Stack, key: str) -> None:
    server: AppStoreStandIn | TrustpilotStandIn | GoogleBusinessStandIn = (
        stack.app_store if key in APP_STORE else stack.trustpilot if key in TRUSTPILOT else stack.google)
    name = f"{LOCATION}/reviews/{key}" if key in GOOGLE else key
    server.faults.add("timeout_after_accept", method="PUT" if key in GOOGLE else "POST")
    post_by_command(stack, key, f"Fixed in 4.2, sorry for the trouble ({key}).")
    until(lambda: server.accepted_for(name) == 1, what="the platform accepting the reply")
    stack.stop_bot(kill=True)  # accepted there, not recorded here
    assert stack.export()[key]["status"] != "replied"
    stack.start_bot()
    state = "pending" if key in APP_STORE else "posted"
    until(lambda: replied_visible(stack, key, state), timeout=60, what="the case replied after the restart")
    assert server.accepted_for(name) == 1


def test_the_holding_reply_of_an_incident_reaches_each_case_once(stack: Stack) -> None:
    telegram = stack.telegram

    def with_button(prefix: str) -> dict[str, Any] | None:
        return next((m for m in reversed(telegram.messages(chat_id=LENA)) for row in (m.get("reply_markup") or {}).get(
            "inline_keyboard", []) for b in row if b.get("callback_data", "").startswith(prefix)), None)

    def press(message: dict[str, Any], prefix: str) -> None:
        (data,) = [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row
                   if b.get("callback_data", "").startswith(prefix)]
        telegram.press_button(LENA, message["message_id"], data)

    card = until(lambda: with_button("inchold:"), what="the incident card")
    assert card["text"].startswith("🚨 Incident #") and "Globex" in card["text"]
    press(card, "inchold:")
    asked = until(lambda: with_button("incholdok:"), what="the confirmation")
    assert f"{len(GLOBEX)} open cases" in asked["text"]
    press(asked, "incholdok:")
    press(asked, "incholdok:")  # pressed twice
    until(lambda: all(replied_visible(stack, key) for key in GLOBEX), timeout=60, what="the incident's cases replied")
    for key in GLOBEX:  # once each, filled in for its case
        assert [text for name, text in stack.google.accepted if name == f"{GLOBEX_LOCATION}/reviews/{key}"] == [
            HOLDING.format(case_number=stack.ids[key])]
    with sqlite3.connect(stack.directory / "rw.db") as db:
        trail = db.execute("SELECT kind, actor FROM case_events WHERE mention_id = ? AND kind IN "
                           "('holding_reply', 'reply_posted', 'replied') ORDER BY id",
                           (stack.ids[GLOBEX[0]],)).fetchall()
    assert trail == [("holding_reply", "Lena"), ("reply_posted", "Lena"), ("replied", "Lena")]
    done = until(lambda: next((m["text"] for m in telegram.messages(chat_id=LENA)
                               if m["message_id"] == asked["message_id"] and "posting" in m["text"]), None))
    assert f"posting to {len(GLOBEX)} cases" in done
    # no notice per case: the card counts them
    assert not any("Your reply to case" in sent.get("text", "") for sent in telegram.sent(chat_id=LENA))
    assert stack.google.rejections == [] and telegram.rejections() == []


def test_no_secret_in_any_log_line(stack: Stack) -> None:
    google_key = json.loads((stack.directory / "google-key.json").read_text(encoding="utf-8"))
    key_lines = [line for pem in (stack.p8, google_key["private_key"]) for line in pem.splitlines()
                 if line and not line.startswith("-----")]
    secrets = [*key_lines, *stack.app_store.tokens, *stack.trustpilot.secrets_in_play(), *stack.google.tokens]
    logs = "\n".join(stack.log(n).read_text(encoding="utf-8") for n in range(1, stack.starts + 1))
    assert logs and not [secret for secret in secrets if secret in logs]
