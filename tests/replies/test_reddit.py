"""The Reddit connector (plain aiohttp) against the stand-in, which holds requests to Reddit's documented rules."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from replies.reddit import RedditConnector
from replies.registry import ReplySettings, ReplySetupError, build_connector
from review_watch.domain.replies import ReplyRefused, ReplyTarget
from tests.platform_standins.reddit import RedditStandIn, Thing

pytestmark = pytest.mark.slow  # a server on loopback

CLIENT_ID, CLIENT_SECRET = "acme-script-app", "reddit-test-client-secret-5f5f"
USERNAME, PASSWORD = "acme_support", "reddit-test-password-9a9a"
TIMEOUT = 10.0  # seconds; only the timeout test waits less, so that a busy machine fails nothing else


@pytest.fixture
def standin() -> Iterator[RedditStandIn]:
    server = RedditStandIn()
    server.start()
    server.add_app(CLIENT_ID, CLIENT_SECRET)
    server.add_user(USERNAME, PASSWORD)
    yield server
    server.stop()


def settings(standin: RedditStandIn, password: str = PASSWORD, timeout: float = TIMEOUT) -> ReplySettings:
    return ReplySettings(source="acme-reddit", platform="reddit", source_url="", account=f"u/{USERNAME}",
                         api_url=standin.url, token_url=standin.token_url,
                         options={"client_id": CLIENT_ID, "client_secret_env": "RS", "password_env": "RP"},
                         environ={"RS": CLIENT_SECRET, "RP": password}, timeout=timeout)


def connector(standin: RedditStandIn, timeout: float = TIMEOUT) -> RedditConnector:
    built = build_connector(settings(standin, timeout=timeout))
    assert isinstance(built, RedditConnector)
    return built


def target(thing: Thing) -> ReplyTarget:
    return ReplyTarget(platform="reddit", external_id=thing.name, url=f"https://www.reddit.com/comments/{thing.name}")


async def test_a_comment_answers_a_post_or_a_comment(standin: RedditStandIn) -> None:
    reddit = connector(standin)
    assert await reddit.check() == "u/acme_support"
    post = standin.add_post("unhappy", "Acme support never answers")
    posted = await reddit.post(target(post), "Sorry! We have sent you a message.", "case-1")
    comment = standin.add_comment("other", "same with acme here", post)
    await reddit.post(ReplyTarget(platform="reddit", external_id=comment.name + "#brand=Acme"), "Sorry too!", "c2")
    assert [(r["parent_id"], r["text"]) for r in standin.replies] == [
        (post.name, "Sorry! We have sent you a message."), (comment.name, "Sorry too!")]
    assert posted.reply_id == standin.replies[0]["name"] and posted.posted_at is not None
    assert standin.rejections == [] and standin.token_grants == 1


async def test_a_retry_after_a_timeout_finds_our_comment_and_posts_nothing(standin: RedditStandIn) -> None:
    reddit, post = connector(standin, timeout=2.0), standin.add_post("unhappy", "Acme broke my order")
    standin.fail_next("timeout_after_accept", method="comment", delay=4.0)
    with pytest.raises(ReplyRefused) as refused:
        await reddit.post(target(post), "Sorry about that!", "case-2")
    assert refused.value.kind == "unavailable" and len(standin.replies) == 1
    found = await reddit.current_reply(target(post), "case-2")
    assert found is not None and found.reply_id == standin.replies[0]["name"] and found.text == "Sorry about that!"
    again = await reddit.post(target(post), "Sorry about that!", "case-2")
    assert again.reply_id == found.reply_id and len(standin.replies_to(post.name)) == 1


async def test_an_earlier_comment_of_ours_with_another_text_does_not_stop_a_new_reply(
        standin: RedditStandIn) -> None:
    reddit, post = connector(standin), standin.add_post("unhappy", "Acme broke it again")
    await reddit.post(target(post), "Sorry! Try 2.0.", "case-5")
    found = await reddit.current_reply(target(post), "case-9")
    assert found is not None and found.text == "Sorry! Try 2.0."  # the flow compares the text itself
    await reddit.post(target(post), "Sorry again! 2.1 fixes it.", "case-9")
    assert [r["text"] for r in standin.replies_to(post.name)] == ["Sorry! Try 2.0.", "Sorry again! 2.1 fixes it."]


async def test_edit_and_delete(standin: RedditStandIn) -> None:
    reddit, post = connector(standin), standin.add_post("unhappy", "Acme?")
    posted = await reddit.post(target(post), "Sorry!", "k")
    edited = await reddit.edit(target(post), posted, "Sorry! Fixed in 2.1.")
    assert edited.reply_id == posted.reply_id and standin.things[posted.reply_id].body == "Sorry! Fixed in 2.1."
    await reddit.delete(target(post), edited)
    assert standin.things[posted.reply_id].deleted and await reddit.current_reply(target(post), "k") is None


async def test_too_long_is_refused_before_sending(standin: RedditStandIn) -> None:
    reddit, post = connector(standin), standin.add_post("unhappy", "Acme?")
    with pytest.raises(ReplyRefused) as refused:
        await reddit.post(target(post), "x" * 10_001, "k")
    assert refused.value.kind == "too_long" and "10001 characters" in str(refused.value)
    assert standin.requests == []


@pytest.mark.parametrize(("fault", "kind"), [
    ("rate_limited", "rate_limited"), ("ratelimit_error", "rate_limited"), ("gone", "gone"),
    ("too_long", "too_long"), ("server_error", "unavailable"),
])
async def test_each_refusal_is_one_line_of_its_kind(standin: RedditStandIn, fault: str, kind: str) -> None:
    reddit, post = connector(standin), standin.add_post("unhappy", "Acme?")
    standin.fail_next(fault, method="comment", retry_after=300)
    with pytest.raises(ReplyRefused) as refused:
        await reddit.post(target(post), "Sorry!", "k")
    assert refused.value.kind == kind and "\n" not in str(refused.value)
    if kind == "rate_limited":
        assert refused.value.retry_after == 300
    assert standin.replies == []


async def test_archived_locked_and_deleted_things(standin: RedditStandIn) -> None:
    reddit = connector(standin)
    for thing, kind, code in [(standin.add_post("a", "old acme", archived=True), "gone", "TOO_OLD"),
                              (standin.add_post("a", "acme", locked=True), "forbidden", "THREAD_LOCKED")]:
        with pytest.raises(ReplyRefused) as refused:
            await reddit.post(target(thing), "Sorry!", "k")
        assert refused.value.kind == kind and code in str(refused.value)
    with pytest.raises(ReplyRefused) as refused:
        await reddit.post(ReplyTarget(platform="reddit", external_id="t3_zzzzzz"), "Sorry!", "k")
    assert refused.value.kind == "gone" and standin.replies == []


async def test_the_token_is_renewed_when_expired_or_refused(standin: RedditStandIn) -> None:
    now = [datetime(2026, 12, 4, 12, 0, tzinfo=UTC)]
    reddit = RedditConnector(USERNAME, CLIENT_ID, CLIENT_SECRET, PASSWORD, api_url=standin.url,
                             token_url=standin.token_url, timeout=TIMEOUT, clock=lambda: now[0])
    await reddit.check()
    now[0] += timedelta(minutes=59, seconds=30)  # within a minute of the hour: renewed before use
    await reddit.check()
    assert standin.token_grants == 2
    standin.expire_tokens()  # refused early: one new token, one more try
    await reddit.post(target(standin.add_post("unhappy", "Acme?")), "Sorry!", "k")
    assert standin.token_grants == 3 and len(standin.replies) == 1


async def test_bad_credentials_are_auth_and_no_secret_is_logged(standin: RedditStandIn,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ReplyRefused) as refused:
        await build_connector(settings(standin, password="wrong-secret-77")).check()
    assert refused.value.kind == "auth" and "invalid_grant" in str(refused.value)
    wrong_app = RedditConnector(USERNAME, CLIENT_ID, "wrong-secret-88", PASSWORD, api_url=standin.url,
                                token_url=standin.token_url, timeout=TIMEOUT)
    with pytest.raises(ReplyRefused) as refused:
        await wrong_app.check()
    assert refused.value.kind == "auth" and "client id or secret" in str(refused.value)
    await connector(standin).post(target(standin.add_post("unhappy", "Acme?")), "Sorry!", "k")
    secrets = (CLIENT_SECRET, PASSWORD, "wrong-secret-77", "wrong-secret-88")
    assert not [r for r in caplog.records if any(s in r.getMessage() for s in secrets)]


async def test_the_standin_holds_requests_to_the_documented_rules(standin: RedditStandIn) -> None:
    reddit, post = connector(standin), standin.add_post("unhappy", "Acme?")
    await reddit.check()
    token = next(iter(standin.tokens))
    headers = {"Authorization": f"bearer {token}", "User-Agent": "acme-test/1.0"}
    async with aiohttp.ClientSession() as session:
        for form in ({"thing_id": post.name, "text": "x"},  # no api_type=json
                     {"thing_id": "12345", "text": "x", "api_type": "json"},  # not a fullname
                     {"text": "x", "api_type": "json"}):  # no thing
            async with session.post(f"{standin.url}/api/comment", data=form, headers=headers) as response:
                assert response.status == 400
        async with session.post(f"{standin.url}/api/comment", json={"thing_id": post.name, "text": "x"},
                                headers=headers) as response:
            assert response.status == 400  # JSON instead of a form
        async with session.get(f"{standin.url}/api/v1/me", headers={"Authorization": f"bearer {token}"}) as response:
            assert response.status == 429  # the library's generic User-Agent
    assert len(standin.rejections) == 5 and standin.replies == []


def test_settings_without_a_client_id_are_one_line(standin: RedditStandIn) -> None:
    with pytest.raises(ReplySetupError, match=r"^source 'acme-reddit': reply.client_id: required"):
        build_connector(ReplySettings(source="acme-reddit", platform="reddit", source_url="", account=USERNAME,
                                      options={"client_secret_env": "RS", "password_env": "RP"},
                                      environ={"RS": "a", "RP": "b"}))
