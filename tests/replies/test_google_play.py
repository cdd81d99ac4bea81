"""The Google Play connector against the stand-in: google-api-python-client and google-auth over loopback."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from replies.google_play import GooglePlayConnector
from replies.registry import ReplySettings, ReplySetupError, build_connector
from review_watch.domain.replies import ReplyRefused, ReplyTarget
from tests.platform_standins.google_play import GooglePlayStandIn, Review

pytestmark = pytest.mark.slow  # a server on loopback

PACKAGE = "com.acme.app"
EMAIL = "replies@acme-reviews.iam.gserviceaccount.com"
TARGET = ReplyTarget(platform="googleplay", external_id="gp:review-1")


@pytest.fixture(scope="module")
def standin() -> Iterator[GooglePlayStandIn]:
    server = GooglePlayStandIn()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def key_file(standin: GooglePlayStandIn, tmp_path: Path) -> Path:
    standin.replies.clear()
    standin.rejections.clear()
    standin.clear_faults()
    standin.add_review(PACKAGE, Review("gp:review-1", "Crashes every time I open it", 1))
    path = tmp_path / "play-key.json"
    path.write_text(json.dumps(standin.add_account(EMAIL, {PACKAGE})), encoding="utf-8")
    return path


def settings(standin: GooglePlayStandIn, key_file: Path | str, **options: str) -> ReplySettings:
    return ReplySettings(source="acme-play", platform="googleplay",
                         source_url=f"https://play.google.com/store/apps/details?id={PACKAGE}",
                         api_url=standin.url, options={"key_file": str(key_file), **options}, timeout=5)


def connector(standin: GooglePlayStandIn, key_file: Path) -> GooglePlayConnector:
    built = build_connector(settings(standin, key_file))
    assert isinstance(built, GooglePlayConnector)
    return built


async def test_a_reply_is_posted_once_and_found_again(standin: GooglePlayStandIn, key_file: Path) -> None:
    play = connector(standin, key_file)
    assert await play.check() == f"{EMAIL} for {PACKAGE}"
    assert await play.current_reply(TARGET, "k1") is None
    posted = await play.post(TARGET, "Sorry! Version 2.1 fixes the crash.", "k1")
    assert posted.reply_id == "gp:review-1" and posted.state == "published" and posted.posted_at is not None
    assert [r["text"] for r in standin.replies_to("gp:review-1")] == ["Sorry! Version 2.1 fixes the crash."]
    found = await play.current_reply(TARGET, "k1")
    assert found is not None and found.text == "Sorry! Version 2.1 fixes the crash."
    assert standin.rejections == []


async def test_too_long_is_refused_before_sending_with_the_count(standin: GooglePlayStandIn, key_file: Path) -> None:
    before = len(standin.requests)
    with pytest.raises(ReplyRefused) as refused:
        await connector(standin, key_file).post(TARGET, "x" * 351, "k")
    assert refused.value.kind == "too_long" and "351" in str(refused.value) and "350" in str(refused.value)
    assert len(standin.requests) == before and standin.replies == []


async def test_a_deleted_review_and_a_dead_token_are_one_line_each(standin: GooglePlayStandIn,
                                                                   key_file: Path) -> None:
    play = connector(standin, key_file)
    gone = ReplyTarget(platform="googleplay", external_id="gp:deleted")
    with pytest.raises(ReplyRefused) as refused:
        await play.post(gone, "Sorry", "k")
    assert refused.value.kind == "gone" and "\n" not in str(refused.value)
    standin.fail_next("expired_token", count=10)
    with pytest.raises(ReplyRefused) as refused:
        await play.post(TARGET, "Sorry", "k")
    assert refused.value.kind == "auth" and "\n" not in str(refused.value)
    standin.clear_faults()
    assert standin.replies == []


async def test_an_expired_token_is_renewed_and_the_reply_posted(standin: GooglePlayStandIn, key_file: Path) -> None:
    play = connector(standin, key_file)
    await play.check()
    grants = standin.token_grants
    standin.expire_tokens()
    await play.post(TARGET, "Thanks for telling us.", "k")
    assert standin.token_grants == grants + 1
    assert len(standin.replies_to("gp:review-1")) == 1


async def test_rate_limit_and_outage_are_retryable(standin: GooglePlayStandIn, key_file: Path) -> None:
    play = connector(standin, key_file)
    standin.fail_next("rate_limited", method="reply", retry_after=7)
    with pytest.raises(ReplyRefused) as refused:
        await play.post(TARGET, "Sorry", "k")
    assert refused.value.retryable and refused.value.kind == "rate_limited" and refused.value.retry_after == 7
    standin.fail_next("server_error", method="reply")
    with pytest.raises(ReplyRefused) as refused:
        await play.post(TARGET, "Sorry", "k")
    assert refused.value.kind == "unavailable"
    assert standin.replies == []


async def test_no_delete_and_no_permission(standin: GooglePlayStandIn, key_file: Path) -> None:
    play = connector(standin, key_file)
    posted = await play.post(TARGET, "Sorry", "k")
    with pytest.raises(ReplyRefused) as refused:
        await play.delete(TARGET, posted)
    assert refused.value.kind == "unsupported"
    other = build_connector(settings(standin, key_file, package_name="com.acme.other"))
    with pytest.raises(ReplyRefused) as refused:
        await other.post(TARGET, "Sorry", "k")
    assert refused.value.kind == "forbidden"


async def test_a_key_the_platform_does_not_know_is_refused(standin: GooglePlayStandIn, key_file: Path,
                                                          tmp_path: Path) -> None:
    forged = json.loads(key_file.read_text())
    forged["private_key"] = json.loads(json.dumps(standin.add_account("other@x.iam.gserviceaccount.com",
                                                                      set())))["private_key"]
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))
    with pytest.raises(ReplyRefused) as refused:
        await build_connector(settings(standin, path)).check()
    assert refused.value.kind == "auth" and "Invalid JWT Signature" in str(refused.value)
    assert forged["private_key"] not in str(refused.value)


def test_bad_key_files_are_one_line_naming_the_file(standin: GooglePlayStandIn, tmp_path: Path) -> None:
    with pytest.raises(ReplySetupError, match=r"acme-play.*reply\.key_file.*missing\.json: no such file"):
        build_connector(settings(standin, tmp_path / "missing.json"))
    (tmp_path / "broken.json").write_text('{"type": "service_account"')
    with pytest.raises(ReplySetupError, match=r"broken\.json: not a service-account JSON key"):
        build_connector(settings(standin, tmp_path / "broken.json"))
    unset = ReplySettings(source="acme-play", platform="googleplay", source_url="https://x/?id=a",
                          options={"key_file_env": "RW_TEST_UNSET_KEY"}, environ={})
    with pytest.raises(ReplySetupError, match="RW_TEST_UNSET_KEY is not set"):
        build_connector(unset)


def test_the_standin_refuses_what_google_refuses(standin: GooglePlayStandIn, key_file: Path) -> None:
    url = f"{standin.url}/androidpublisher/v3/applications/{PACKAGE}/reviews/gp%3Areview-1:reply"
    for body, query in (({"replyText": "hi", "extra": 1}, ""), ({"replyText": 5}, ""), ({"replyText": "hi"}, "?x=1")):
        request = urllib.request.Request(url + query, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 400
    assert len(standin.rejections) == 3
    standin.rejections.clear()
