"""The Mastodon connector (Mastodon.py) against the stand-in instance, checked against the shared OpenAPI file."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import aiohttp
import pytest

from replies.mastodon import MastodonConnector
from replies.registry import ReplySettings, ReplySetupError, build_connector
from review_watch.domain.replies import ReplyRefused, ReplyTarget
from tests.platform_standins.mastodon import MastodonStandIn
from tests.support.fakes import ManualClock

pytestmark = pytest.mark.slow  # a server on loopback

TOKEN = "mastodon-test-secret-token-8c1f"
ACCOUNT = "@acme@social.example"
CUSTOMER_URL = "https://other.example/@unhappy/113"
TIMEOUT = 10.0  # seconds; only the timeout tests wait less, so that a busy machine fails nothing else


@pytest.fixture
def standin() -> Iterator[MastodonStandIn]:
    server = MastodonStandIn(domain="social.example", max_characters=120, clock=ManualClock())
    server.start()
    server.add_account("acme", TOKEN)
    server.add_remote_status(CUSTOMER_URL, "unhappy", "other.example", "Acme lost my order again")
    yield server
    server.stop()


def settings(standin: MastodonStandIn, timeout: float = TIMEOUT, **options: str) -> ReplySettings:
    return ReplySettings(source="fediverse", platform="mastodon",
                         source_url="https://other.example/api/v1/timelines/tag/acme", account=ACCOUNT,
                         api_url=standin.url, options={"access_token_env": "ACME_MASTODON_TOKEN", **options},
                         environ={"ACME_MASTODON_TOKEN": TOKEN}, timeout=timeout)


def connector(standin: MastodonStandIn, timeout: float = TIMEOUT, **options: str) -> MastodonConnector:
    built = build_connector(settings(standin, timeout, **options))
    assert isinstance(built, MastodonConnector)
    return built


# A status crawled on another server: its id there, its URL.
TARGET = ReplyTarget(platform="mastodon", external_id="113", url=CUSTOMER_URL)


async def test_a_reply_to_a_post_of_another_server_is_posted_under_its_local_id(standin: MastodonStandIn) -> None:
    mastodon = connector(standin)
    assert await mastodon.check() == "@acme@social.example on " + standin.url.removeprefix("http://")
    assert mastodon.limits.max_length == 120  # the instance's own limit, not the default 500
    posted = await mastodon.post(TARGET, "Sorry! We are on it: support@acme.example", "case-7-reply-1")
    [reply] = standin.replies
    local = standin.statuses[reply["in_reply_to_id"]]
    assert local["url"] == CUSTOMER_URL and local["id"] != "113"  # resolved, not the other server's id
    assert reply["idempotency_key"] == "case-7-reply-1" and reply["text"].startswith("Sorry!")
    assert posted.reply_id == reply["id"] and posted.posted_at is not None
    assert standin.rejections == []


async def test_a_retry_within_the_hour_gets_the_first_status_back(standin: MastodonStandIn) -> None:
    mastodon = connector(standin, timeout=2.0)
    standin.fail_next("timeout_after_accept", method="post", delay=4.0)
    with pytest.raises(ReplyRefused) as refused:
        await mastodon.post(TARGET, "Sorry about that!", "case-8-reply-1")
    assert refused.value.kind == "unavailable" and refused.value.retryable
    assert len(standin.replies) == 1  # the instance did post it
    again = await mastodon.post(TARGET, "Sorry about that!", "case-8-reply-1")
    assert len(standin.replies) == 1 and again.reply_id == standin.replies[0]["id"]


async def test_a_reply_whose_answer_was_lost_is_found_after_the_idempotency_window(
        standin: MastodonStandIn) -> None:
    mastodon = connector(standin, timeout=2.0)
    assert await mastodon.current_reply(TARGET, "case-9-reply-1") is None  # nothing posted yet
    text = "Sorry! Your refund is on its way: https://acme.example/help/refunds/2026"
    standin.fail_next("timeout_after_accept", method="post", delay=4.0)
    with pytest.raises(ReplyRefused):
        await mastodon.post(TARGET, text, "case-9-reply-1")
    assert isinstance(standin.clock, ManualClock)
    standin.clock.advance(hours=2)  # Mastodon has forgotten the key
    [accepted] = standin.replies
    found = await mastodon.current_reply(TARGET, "case-9-reply-1")
    assert found is not None and found.reply_id == accepted["id"] and found.text == text  # as typed, not HTML
    assert standin.rejections == []


async def test_only_our_own_direct_reply_to_the_post_is_ours(standin: MastodonStandIn) -> None:
    mastodon = connector(standin)
    standin.add_account("neighbour", "neighbour-token")
    neighbour = ReplySettings(source="n", platform="mastodon", source_url="", account="@neighbour@social.example",
                              api_url=standin.url, options={"access_token_env": "T"},
                              environ={"T": "neighbour-token"}, timeout=TIMEOUT)
    await build_connector(neighbour).post(TARGET, "Same here, Acme never answers", "n-1")
    other = ReplyTarget(platform="mastodon", external_id="114", url="https://other.example/@unhappy/114")
    standin.add_remote_status(other.url or "", "unhappy", "other.example", "And another thing")
    await mastodon.post(other, "Sorry about the other thing", "k-other")
    assert await mastodon.current_reply(TARGET, "k") is None
    first = await mastodon.post(TARGET, "Sorry!", "k-first")
    ours = ReplyTarget(platform="mastodon", external_id=first.reply_id, url=standin.statuses[first.reply_id]["url"])
    await build_connector(neighbour).post(ours, "They did answer you", "n-2")  # below ours, not to the post
    found = await mastodon.current_reply(TARGET, "k")
    assert found is not None and (found.reply_id, found.text) == (first.reply_id, "Sorry!")
    await mastodon.delete(TARGET, first)
    assert await mastodon.current_reply(TARGET, "k") is None and standin.rejections == []


async def test_a_token_of_another_account_is_refused_in_one_line(standin: MastodonStandIn) -> None:
    standin.add_account("intern", "intern-token")
    wrong = build_connector(ReplySettings(
        source="fediverse", platform="mastodon", source_url="", account=ACCOUNT, api_url=standin.url,
        options={"access_token_env": "T"}, environ={"T": "intern-token"}, timeout=TIMEOUT))
    with pytest.raises(ReplyRefused) as refused:
        await wrong.check()
    assert refused.value.kind == "auth" and str(refused.value).endswith("the access token is @intern's, not "
                                                                        "@acme@social.example's")


async def test_edit_and_delete(standin: MastodonStandIn) -> None:
    mastodon = connector(standin)
    posted = await mastodon.post(TARGET, "Sorry!", "k-edit")
    edited = await mastodon.edit(TARGET, posted, "Sorry! Fixed in 2.1.")
    assert edited.reply_id == posted.reply_id and standin.statuses[posted.reply_id]["text"] == "Sorry! Fixed in 2.1."
    await mastodon.delete(TARGET, edited)
    assert standin.statuses[posted.reply_id]["deleted"]
    await mastodon.delete(TARGET, edited)  # already gone: nothing left to do


async def test_too_long_is_refused_before_sending_with_the_count(standin: MastodonStandIn) -> None:
    mastodon = connector(standin)
    await mastodon.check()
    with pytest.raises(ReplyRefused) as refused:
        await mastodon.post(TARGET, "é" * 100 + " https://acme.example/a/very/long/link/to/the/help/page", "k")
    assert refused.value.kind == "too_long" and "124 characters" in str(refused.value) and "120" in str(refused.value)
    assert standin.replies == [] and not [r for r in standin.requests if r["operation"] == "post"]


@pytest.mark.parametrize(("fault", "kind"), [
    ("rate_limited", "rate_limited"), ("expired_token", "auth"), ("gone", "gone"), ("too_long", "too_long"),
    ("server_error", "unavailable"), ("forbidden", "forbidden"),
])
async def test_each_refusal_is_one_line_of_its_kind(standin: MastodonStandIn, fault: str, kind: str) -> None:
    standin.fail_next(fault, method="post", retry_after=30)
    with pytest.raises(ReplyRefused) as refused:
        await connector(standin).post(TARGET, "Sorry!", f"k-{fault}")
    assert refused.value.kind == kind and "\n" not in str(refused.value)
    if kind == "rate_limited":
        assert refused.value.retry_after is not None and 20 < refused.value.retry_after <= 31
    assert standin.replies == []


async def test_a_deleted_post_and_an_unknown_one_are_gone(standin: MastodonStandIn) -> None:
    mastodon = connector(standin)
    unknown = ReplyTarget(platform="mastodon", external_id="999", url="https://other.example/@unhappy/999")
    with pytest.raises(ReplyRefused) as refused:
        await mastodon.post(unknown, "Sorry!", "k1")
    assert refused.value.kind == "gone"
    local = standin.add_local_status("neighbour", "Acme is down")
    standin.delete_status(local["id"])
    crawled_here = build_connector(ReplySettings(  # a source that crawls the replying account's own instance
        source="home", platform="mastodon", source_url=f"{standin.url}/api/v1/timelines/public", account=ACCOUNT,
        api_url=standin.url, options={"access_token_env": "T"}, environ={"T": TOKEN}, timeout=TIMEOUT))
    with pytest.raises(ReplyRefused) as refused:
        await crawled_here.post(ReplyTarget(platform="mastodon", external_id=local["id"], url=local["url"]),
                                "Sorry!", "k2")
    assert refused.value.kind == "gone" and standin.replies == []


async def test_a_wrong_token_is_auth_and_no_secret_is_logged(standin: MastodonStandIn,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = build_connector(ReplySettings(
        source="fediverse", platform="mastodon", source_url="", account=ACCOUNT, api_url=standin.url,
        options={"access_token_env": "T"}, environ={"T": "wrong-secret-1234"}, timeout=TIMEOUT))
    with pytest.raises(ReplyRefused) as refused:
        await wrong.check()
    assert refused.value.kind == "auth" and "wrong-secret-1234" not in str(refused.value)
    await connector(standin).post(TARGET, "Sorry!", "k-log")
    assert caplog.records and not [r for r in caplog.records
                                   if TOKEN in r.getMessage() or "wrong-secret-1234" in r.getMessage()]


def test_settings_missing_a_key_are_one_line(standin: MastodonStandIn) -> None:
    with pytest.raises(ReplySetupError, match=r"^source 'fediverse': reply.access_token_env: the environment "
                                              r"variable ACME_MASTODON_TOKEN is not set$"):
        build_connector(ReplySettings(source="fediverse", platform="mastodon", source_url="", account=ACCOUNT,
                                      api_url=standin.url, options={"access_token_env": "ACME_MASTODON_TOKEN"},
                                      environ={}))
    with pytest.raises(ReplySetupError, match="visibility"):
        build_connector(settings(standin, visibility="everyone"))
    with pytest.raises(ReplySetupError, match="max_characters: a positive whole number"):
        build_connector(settings(standin, max_characters="lots"))


async def test_the_configured_limit_shows_until_the_instance_gives_its_own(standin: MastodonStandIn) -> None:
    mastodon = connector(standin, max_characters="1000")
    assert mastodon.limits.max_length == 1000
    await mastodon.check()
    assert mastodon.limits.max_length == 120


async def test_the_standin_refuses_what_the_spec_refuses(standin: MastodonStandIn) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{standin.url}/api/v1/statuses", json={"status": "hi", "visibility": "everyone"},
                                headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            assert response.status == 422
        async with session.post(f"{standin.url}/api/v1/statuses", json={"in_reply_to_id": "1"},
                                headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            assert response.status == 422
    assert len(standin.rejections) == 2 and standin.replies == []
