"""Replies typed in Telegram reach Mastodon, Bluesky and Reddit, once: the real `review-watch crawl` and
`review-watch bot`, the Bot API stand-in and the three platforms' stand-ins.

The posts are crawled by the project's own spiders from loopback pages in each platform's format (a Mastodon tag
timeline of a server other than the replying account's, Bluesky's searchPosts, a subreddit's JSON listing), so
the connectors answer them from the ids and URLs the crawl stored: Mastodon resolves the other server's post by
its URL, Bluesky reads the post at its at-uri, Reddit comments on its fullname. Each test answers its own post."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.platform_standins.bluesky import BlueskyStandIn
from tests.platform_standins.mastodon import MastodonStandIn
from tests.platform_standins.reddit import RedditStandIn
from tests.spiders.fixture_server import FixtureServer, Reply
from tests.support.cli import review_watch, start_review_watch
from tests.support.configs import write_config
from tests.support.fakes import ManualClock
from tests.support.waiting import post_reply_by_command, said_after, until
from tests.telegram_standin.runner import ControlClient, StandInThread

ANNA = 1001
SECRETS = {"E2E_MASTODON_TOKEN": "e2e-mastodon-token-7d2a", "E2E_BSKY_PASSWORD": "e2e-bsky-app-pw-41c9",
           "E2E_REDDIT_SECRET": "e2e-reddit-secret-0b8e", "E2E_REDDIT_PASSWORD": "e2e-reddit-pw-c3d4"}
COMPLAINT = "Acme {where} is a disaster: my order never arrived, support ignores me and I want a refund. Terrible."
MASTODON = ["md-cmd", "md-crash"]
BLUESKY = ["bs-cmd", "bs-crash"]
REDDIT = ["rd-cmd", "rd-crash"]
TIMELINE, SEARCH, LISTING = "/api/v1/timelines/tag/acme", "/xrpc/app.bsky.feed.searchPosts", "/r/acme/new.json"


@dataclass
class Stack:
    directory: Path
    config: Path
    site: FixtureServer
    mastodon: MastodonStandIn
    bluesky: BlueskyStandIn
    reddit: RedditStandIn
    telegram: ControlClient
    standin: StandInThread
    bot: subprocess.Popen[str] | None = None
    starts: int = 0
    targets: dict[str, str] = field(default_factory=dict)  # short key -> the crawled external id
    ids: dict[str, int] = field(default_factory=dict)  # short key -> case id

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
        by_id = {row["external_id"]: row for row in rows}
        return {key: by_id[external_id] for key, external_id in self.targets.items() if external_id in by_id}

    def accepted(self, key: str) -> list[dict[str, Any]]:
        """The replies the key's platform accepted to its post."""
        if key in MASTODON:
            url = mastodon_url(self.targets[key])
            local = [s["id"] for s in self.mastodon.statuses.values() if s["url"] == url]
            return [r for r in self.mastodon.replies if r["in_reply_to_id"] in local]
        if key in BLUESKY:
            return self.bluesky.replies_to(self.targets[key])
        return self.reddit.replies_to(self.targets[key])

    def close(self) -> None:
        self.stop_bot(kill=True)
        self.site.__exit__()
        for server in (self.mastodon, self.bluesky, self.reddit):
            server.stop()
        self.standin.stop()


def mastodon_url(status_id: str) -> str:
    """The URL of a post of other.example, from its id there."""
    return f"https://other.example/@unhappy/{status_id}"


def _mastodon_timeline(mastodon: MastodonStandIn) -> tuple[bytes, dict[str, str]]:
    """A tag timeline of other.example: its statuses' ids there, their URLs; the replying account's instance
    (the stand-in) knows them only once resolved by URL."""
    statuses, targets = [], {}
    for n, key in enumerate(MASTODON):
        url = mastodon_url(f"11{n}")
        mastodon.add_remote_status(url, "unhappy", "other.example", COMPLAINT.format(where=key))
        statuses.append({"id": f"11{n}", "created_at": f"2026-12-01T09:0{n}:00.000Z", "url": url, "uri": url,
                         "content": f"<p>{COMPLAINT.format(where=key)}</p>", "language": "en", "spoiler_text": "",
                         "account": {"id": "77", "username": "unhappy", "acct": "unhappy@other.example"}})
        targets[key] = f"11{n}"
    return json.dumps(statuses).encode(), targets


def _bluesky_search(bluesky: BlueskyStandIn) -> tuple[bytes, dict[str, str]]:
    posts, targets = [], {}
    for key in BLUESKY:
        uri, cid = bluesky.add_post("unhappy.bsky.social", COMPLAINT.format(where=key))
        posts.append({"uri": uri, "cid": cid, "indexedAt": "2026-12-01T09:00:00.000Z",
                      "author": {"did": uri.split("/")[2], "handle": "unhappy.bsky.social"},
                      "record": {"$type": "app.bsky.feed.post", "text": COMPLAINT.format(where=key),
                                 "createdAt": "2026-12-01T09:00:00.000Z", "langs": ["en"]}})
        targets[key] = uri
    return json.dumps({"posts": posts}).encode(), targets


def _reddit_listing(reddit: RedditStandIn) -> tuple[bytes, dict[str, str]]:
    children, targets = [], {}
    for key in REDDIT:
        post = reddit.add_post("unhappy", COMPLAINT.format(where=key))
        children.append({"kind": "t3", "data": {
            "name": post.name, "id": post.name[3:], "author": "unhappy", "author_fullname": "t2_unhappy",
            "title": f"Acme again ({key})", "selftext": COMPLAINT.format(where=key), "created_utc": 1764579600.0,
            "permalink": f"/r/acme/comments/{post.name[3:]}/acme_again/"}})
        targets[key] = post.name
    return json.dumps({"kind": "Listing", "data": {"after": None, "children": children}}).encode(), targets


def _config(directory: Path, site: FixtureServer, mastodon: MastodonStandIn, bluesky: BlueskyStandIn,
            reddit: RedditStandIn, api_url: str, token: str) -> Path:
    sources = (
        f'\n[[sources]]\nname = "acme-mastodon"\ntype = "mastodon"\nurl = "{site.url(TIMELINE)}"\nbrand = "Acme"\n'
        f'[sources.reply]\naccount = "@acme@social.example"\napi_url = "{mastodon.url}"\n'
        f'access_token_env = "E2E_MASTODON_TOKEN"\ntimeout = 3\n'
        f'\n[[sources]]\nname = "acme-bluesky"\ntype = "bluesky"\nurl = "{site.url(SEARCH)}?q=acme"\n'
        f'brand = "Acme"\n[sources.reply]\naccount = "acme.bsky.social"\napi_url = "{bluesky.url}"\n'
        f'app_password_env = "E2E_BSKY_PASSWORD"\ntimeout = 3\n'
        f'\n[[sources]]\nname = "acme-reddit"\ntype = "reddit"\nurl = "{site.url(LISTING)}"\nbrand = "Acme"\n'
        f'[sources.reply]\naccount = "acme_support"\nclient_id = "acme-script"\n'
        f'client_secret_env = "E2E_REDDIT_SECRET"\npassword_env = "E2E_REDDIT_PASSWORD"\n'
        f'api_url = "{reddit.url}"\ntoken_url = "{reddit.token_url}"\ntimeout = 3\n')
    return write_config(directory, database_url=f"sqlite:///{directory / 'rw.db'}", api_url=api_url, token=token,
                        sources=sources, extra='\n[replies]\ncheck_pending_every = 1\n')


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("replies-social")
    mastodon, bluesky, reddit = MastodonStandIn(domain="social.example", clock=ManualClock()), BlueskyStandIn(), \
        RedditStandIn()
    for server in (mastodon, bluesky, reddit):
        server.start()
    mastodon.add_account("acme", SECRETS["E2E_MASTODON_TOKEN"])
    bluesky.add_account("acme.bsky.social", SECRETS["E2E_BSKY_PASSWORD"])
    reddit.add_app("acme-script", SECRETS["E2E_REDDIT_SECRET"])
    reddit.add_user("acme_support", SECRETS["E2E_REDDIT_PASSWORD"])
    site = FixtureServer().__enter__()
    (timeline, mastodon_ids), (search, bluesky_ids), (listing, reddit_ids) = (
        _mastodon_timeline(mastodon), _bluesky_search(bluesky), _reddit_listing(reddit))
    site.routes[TIMELINE] = Reply(timeline, content_type="application/json")
    site.routes[SEARCH] = Reply(search, content_type="application/json")
    site.routes[LISTING] = Reply(listing, content_type="application/json")
    standin = StandInThread()
    telegram = standin.start()
    config = _config(directory, site, mastodon, bluesky, reddit, telegram.api_url, telegram.token)
    opened = Stack(directory, config, site, mastodon, bluesky, reddit, telegram, standin,
                   targets={**mastodon_ids, **bluesky_ids, **reddit_ids})
    try:
        review_watch("crawl", config=config, timeout=600)  # loads the model: minutes on a busy machine
        opened.ids = {key: row["id"] for key, row in opened.export().items()}
        assert set(opened.ids) == set(opened.targets), opened.ids
        opened.start_bot()
        telegram.wait_for("sendMessage", count=len(opened.ids), chat_id=ANNA, timeout=180)
        yield opened
    finally:
        opened.close()


def post_by_command(stack: Stack, key: str, text: str) -> str:
    return post_reply_by_command(stack.telegram, ANNA, stack.ids[key], text)


def replied_visible(stack: Stack, key: str) -> bool:
    row = stack.export()[key]
    return row["status"] == "replied" and row["reply_channel"] == "visible_to_customer" and \
        row["reply_state"] == "posted"


@pytest.mark.parametrize(("key", "account"), [
    ("md-cmd", "@acme@social.example"), ("bs-cmd", "acme.bsky.social"), ("rd-cmd", "acme_support"),
])
def test_a_reply_posts_once_and_the_case_is_replied_and_visible(stack: Stack, key: str, account: str) -> None:
    text = f"Sorry! We have found your order and a courier brings it today ({key})."
    confirmation = post_by_command(stack, key, text)
    assert account in confirmation
    until(lambda: replied_visible(stack, key), what=f"the {key} reply posted")
    assert [reply["text"] for reply in stack.accepted(key)] == [text]
    if key in BLUESKY:  # a reply to a thread's first post: it is both root and parent
        assert stack.accepted(key)[0]["root"] == stack.targets[key]
    for server in (stack.mastodon, stack.bluesky, stack.reddit):
        assert server.rejections == []


@pytest.mark.parametrize("key", ["md-crash", "bs-crash", "rd-crash"])
def test_killed_after_the_platform_accepted_a_restart_posts_nothing_twice(stack: Stack, key: str) -> None:
    if key in MASTODON:
        stack.mastodon.fail_next("timeout_after_accept", method="post", delay=10)
    elif key in BLUESKY:
        stack.bluesky.fail_next("timeout_after_accept", method="createRecord", delay=10)
    else:
        stack.reddit.fail_next("timeout_after_accept", method="comment", delay=10)
    post_by_command(stack, key, f"Sorry for the trouble, a refund is on its way ({key}).")
    until(lambda: len(stack.accepted(key)) == 1, what="the platform accepting the reply")
    stack.stop_bot(kill=True)  # accepted there, not recorded here
    assert stack.export()[key]["status"] != "replied"
    if key in MASTODON:  # back after Mastodon forgot the Idempotency-Key: only the look-up prevents a second post
        assert isinstance(stack.mastodon.clock, ManualClock)
        stack.mastodon.clock.advance(hours=2)
    stack.start_bot()
    until(lambda: replied_visible(stack, key), timeout=120, what="the case replied after the restart")
    assert len(stack.accepted(key)) == 1


def card(stack: Stack, key: str) -> dict[str, Any] | None:
    """The case's card, once it carries the buttons of a posted reply (edit and delete)."""
    for message in stack.telegram.messages(chat_id=ANNA):
        lines = message.get("text", "").splitlines()
        data = [b.get("callback_data", "") for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                for b in row]
        if lines and lines[-1].endswith(f" #{stack.ids[key]}") and any(d.startswith("rchange:") for d in data):
            return message
    return None


def press(stack: Stack, message: dict[str, Any], prefix: str) -> None:
    (data,) = [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row
               if b.get("callback_data", "").startswith(prefix)]
    stack.telegram.press_button(ANNA, message["message_id"], data)


def edit_from_card(stack: Stack, key: str, text: str, answer: str) -> str:
    """The card's Edit button, then the new text; returns the bot's answer, the new message that holds `answer`
    (a notice of an earlier case's reply may arrive in between on a busy machine)."""
    found = until(lambda: card(stack, key), what=f"the {key} card with its reply buttons")
    said_after(stack.telegram, ANNA, lambda: press(stack, found, "rchange:"), f"#{stack.ids[key]}")
    return said_after(stack.telegram, ANNA, lambda: stack.telegram.send_text(ANNA, text), answer)


def test_edit_where_the_platform_allows_and_one_clear_line_where_it_does_not(stack: Stack) -> None:
    text = "Sorry! The courier comes today at 14:00."
    changed = edit_from_card(stack, "md-cmd", text, "was changed")
    assert f"case #{stack.ids['md-cmd']} on Mastodon" in changed
    assert [r["text"] for r in stack.accepted("md-cmd")] == [text]
    refused = edit_from_card(stack, "bs-cmd", text, "does not let a posted reply be edited")
    assert refused.startswith("Bluesky does not let")
    assert [r["text"] for r in stack.accepted("bs-cmd")] != [text] and stack.bluesky.rejections == []


def test_delete_from_the_card(stack: Stack) -> None:
    press(stack, until(lambda: card(stack, "bs-cmd"), what="the Bluesky card"), "rdelete:")
    press(stack, until(lambda: card(stack, "rd-cmd"), what="the Reddit card"), "rdelete:")
    until(lambda: stack.accepted("bs-cmd")[0].get("deleted"), what="the Bluesky reply deleted")
    name = stack.accepted("rd-cmd")[0]["name"]
    until(lambda: stack.reddit.things[name].deleted, what="the Reddit reply deleted")


def test_no_secret_in_any_log_line(stack: Stack) -> None:
    issued = [*stack.reddit.tokens]
    logs = "\n".join(stack.log(n).read_text(encoding="utf-8") for n in range(1, stack.starts + 1))
    assert logs and not [secret for secret in [*SECRETS.values(), *issued] if secret in logs]
