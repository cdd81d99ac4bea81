"""The Bluesky connector (atproto's AsyncClient) against the stand-in PDS, checked against the shared lexicons."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import aiohttp
import pytest

from replies.bluesky import BlueskyConnector, record_key
from replies.registry import ReplySettings, ReplySetupError, build_connector
from review_watch.domain.replies import ReplyRefused, ReplyTarget
from tests.platform_standins.bluesky import BlueskyStandIn
from tests.platform_standins.lexicons import LexiconError

pytestmark = pytest.mark.slow  # a server on loopback

APP_PASSWORD = "bsky-test-secret-abcd-efgh-ijkl"
HANDLE = "acme.bsky.social"
TIMEOUT = 10.0  # seconds; only the timeout test waits less, so that a busy machine fails nothing else


@pytest.fixture
def standin() -> Iterator[BlueskyStandIn]:
    server = BlueskyStandIn()
    server.start()
    server.add_account(HANDLE, APP_PASSWORD)
    yield server
    server.stop()


def settings(standin: BlueskyStandIn, password: str = APP_PASSWORD, timeout: float = TIMEOUT) -> ReplySettings:
    return ReplySettings(source="acme-bluesky", platform="bluesky", source_url="", account=HANDLE,
                         api_url=standin.url, options={"app_password_env": "ACME_BSKY_PASSWORD"},
                         environ={"ACME_BSKY_PASSWORD": password}, timeout=timeout)


def connector(standin: BlueskyStandIn, timeout: float = TIMEOUT) -> BlueskyConnector:
    built = build_connector(settings(standin, timeout=timeout))
    assert isinstance(built, BlueskyConnector)
    return built


def customer_post(standin: BlueskyStandIn, text: str = "acme ate my parcel") -> ReplyTarget:
    uri, cid = standin.add_post("unhappy.bsky.social", text)
    return ReplyTarget(platform="bluesky", external_id=uri, record={"uri": uri, "cid": cid})


async def test_a_reply_refers_to_its_parent_and_root(standin: BlueskyStandIn) -> None:
    bluesky = connector(standin)
    assert (await bluesky.check()).startswith("@acme.bsky.social (did:plc:")
    target = customer_post(standin)
    posted = await bluesky.post(target, "Sorry! DM us your order number 🙏", "case-3-reply-1")
    [reply] = standin.replies
    assert reply["parent"] == reply["root"] == target.external_id and reply["rkey"] == record_key("case-3-reply-1")
    assert posted.reply_id == reply["uri"] and reply["text"] == "Sorry! DM us your order number 🙏"
    # answering a reply in a thread: the root stays the thread's first post
    root_uri, root_cid = standin.add_post("someone.bsky.social", "anyone else having acme trouble?")
    answer_uri, _ = standin.add_post("unhappy.bsky.social", "yes, acme lost mine", reply_to=(root_uri, root_cid))
    await bluesky.post(ReplyTarget(platform="bluesky", external_id=answer_uri + "#brand=Acme"), "Sorry!", "k-thread")
    assert standin.replies[-1]["parent"] == answer_uri and standin.replies[-1]["root"] == root_uri
    assert standin.rejections == []


async def test_a_retry_after_a_timeout_finds_the_accepted_post(standin: BlueskyStandIn) -> None:
    bluesky, target = connector(standin, timeout=2.0), customer_post(standin)
    standin.fail_next("timeout_after_accept", method="createRecord", delay=4.0)
    with pytest.raises(ReplyRefused) as refused:
        await bluesky.post(target, "Sorry about that!", "case-4-reply-1")
    assert refused.value.kind == "unavailable" and len(standin.replies) == 1
    found = await bluesky.current_reply(target, "case-4-reply-1")
    assert found is not None and found.reply_id == standin.replies[0]["uri"] and found.text == "Sorry about that!"
    again = await bluesky.post(target, "Sorry about that!", "case-4-reply-1")
    assert again.reply_id == found.reply_id and len(standin.replies) == 1
    assert await bluesky.current_reply(target, "another-key") is None


async def test_no_edit_and_delete_works(standin: BlueskyStandIn) -> None:
    bluesky, target = connector(standin), customer_post(standin)
    posted = await bluesky.post(target, "Sorry!", "k-del")
    with pytest.raises(ReplyRefused) as refused:
        await bluesky.edit(target, posted, "Sorry! Fixed.")
    assert refused.value.kind == "unsupported" and "cannot be edited" in str(refused.value)
    assert not bluesky.limits.can_edit and bluesky.limits.can_delete
    await bluesky.delete(target, posted)
    assert standin.replies[0]["deleted"] and await bluesky.current_reply(target, "k-del") is None


async def test_300_graphemes_are_counted_before_sending(standin: BlueskyStandIn) -> None:
    bluesky, target = connector(standin), customer_post(standin)
    family = "👨‍👩‍👧"  # one grapheme, five code points, eighteen bytes
    await bluesky.post(target, "ok " + family * 150, "k-fits")  # 153 graphemes, 2,703 bytes
    with pytest.raises(ReplyRefused) as refused:
        await bluesky.post(target, "x" * 301, "k-long")
    assert refused.value.kind == "too_long" and "301 graphemes" in str(refused.value)
    assert len(standin.replies) == 1


async def test_an_expired_token_gets_a_new_session_and_the_sdk_refreshes_before_expiry(
        standin: BlueskyStandIn) -> None:
    bluesky, target = connector(standin), customer_post(standin)
    await bluesky.check()
    standin.expire_tokens()
    await bluesky.post(target, "Sorry!", "k-expired")
    assert len(standin.replies) == 1 and standin.sessions_created == 2
    standin.access_lifetime = 600  # within the SDK's 15 minutes' margin: it refreshes before each call
    short_lived = connector(standin)
    await short_lived.check()
    await short_lived.post(customer_post(standin), "Sorry!", "k-refresh")
    assert standin.sessions_refreshed >= 1 and len(standin.replies) == 2


@pytest.mark.parametrize(("fault", "method", "kind"), [
    ("rate_limited", "createRecord", "rate_limited"), ("gone", "getRecord", "gone"),
    ("too_long", "createRecord", "too_long"), ("server_error", "createRecord", "unavailable"),
])
async def test_each_refusal_is_one_line_of_its_kind(standin: BlueskyStandIn, fault: str, method: str,
                                                    kind: str) -> None:
    bluesky, target = connector(standin), customer_post(standin)
    await bluesky.check()
    standin.fail_next(fault, method=method, retry_after=30, count=2 if method == "getRecord" else 1)
    with pytest.raises(ReplyRefused) as refused:
        await bluesky.post(target, "Sorry!", f"k-{fault}")
    assert refused.value.kind == kind and "\n" not in str(refused.value)
    if kind == "rate_limited":
        assert refused.value.retry_after is not None and 20 < refused.value.retry_after <= 31
    assert standin.replies == []


async def test_a_deleted_post_is_gone_and_a_wrong_password_is_auth(standin: BlueskyStandIn,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    target = customer_post(standin)
    standin.delete_post(target.external_id)
    with pytest.raises(ReplyRefused) as refused:
        await connector(standin).post(target, "Sorry!", "k")
    assert refused.value.kind == "gone"
    with pytest.raises(ReplyRefused) as refused:
        await build_connector(settings(standin, password="wrong-secret-zz99")).check()
    assert refused.value.kind == "auth" and "wrong-secret-zz99" not in str(refused.value)
    assert caplog.records and not [r for r in caplog.records
                                   if APP_PASSWORD in r.getMessage() or "wrong-secret-zz99" in r.getMessage()]


async def test_the_standin_refuses_what_the_lexicons_refuse(standin: BlueskyStandIn) -> None:
    target = customer_post(standin)
    bluesky = connector(standin)
    await bluesky.post(target, "Sorry!", "k-ok")
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{standin.url}/xrpc/com.atproto.server.createSession",
                                json={"identifier": HANDLE, "password": APP_PASSWORD}) as response:
            token = (await response.json())["accessJwt"]
        did = standin.replies[0]["uri"].split("/")[2]
        bad_records = [
            {"$type": "app.bsky.feed.post", "text": "no date"},
            {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "yesterday"},
            {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "2026-01-01T00:00:00Z",
             "reply": {"root": {"uri": target.external_id}, "parent": {"uri": target.external_id}}},
        ]
        for record in bad_records:
            body = {"repo": did, "collection": "app.bsky.feed.post", "record": record}
            async with session.post(f"{standin.url}/xrpc/com.atproto.repo.createRecord",
                                    headers={"Authorization": f"Bearer {token}"}, json=body) as response:
                assert response.status == 400 and (await response.json())["error"] == "InvalidRequest"
        async with session.post(f"{standin.url}/xrpc/com.atproto.repo.createRecord",
                                headers={"Authorization": f"Bearer {token}"},
                                json={"repo": did, "collection": "app.bsky.feed.post", "rkey": "not-a-tid",
                                      "record": {"$type": "app.bsky.feed.post", "text": "x",
                                                 "createdAt": datetime.now(UTC).isoformat()}}) as response:
            assert response.status == 400
    assert len(standin.rejections) == 4 and len(standin.replies) == 1
    with pytest.raises(LexiconError):
        standin.add_post("unhappy.bsky.social", "y" * 301)


def test_record_keys_are_tids_fixed_by_the_key() -> None:
    keys = {record_key(f"case-{n}") for n in range(1000)}
    assert len(keys) == 1000 and record_key("case-1") == record_key("case-1")
    assert all(len(k) == 13 and k[0] in "234567abcdefghij" for k in keys)


def test_settings_without_a_handle_are_one_line(standin: BlueskyStandIn) -> None:
    with pytest.raises(ReplySetupError, match=r"^source 'acme-bluesky': reply.account: required"):
        build_connector(ReplySettings(source="acme-bluesky", platform="bluesky", source_url="", api_url=standin.url,
                                      options={"app_password_env": "X"}, environ={"X": "y"}))
