"""The Google Business Profile connector against the stand-in: a service account's key made here, google-auth's
JWT grant over loopback, the reply PUT checked against the OpenAPI file, held replies, each refusal one line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from replies.google_business import GoogleBusinessConnector
from replies.registry import ReplySettings, ReplySetupError, build_connector
from review_watch.domain.replies import ReplyRefused, ReplyTarget
from tests.platform_standins.google_business import GoogleBusinessStandIn, Review

pytestmark = pytest.mark.slow  # a server on loopback

LOCATION = "accounts/1090/locations/5577"
EMAIL = "replies@acme-reviews.iam.gserviceaccount.com"
TEXT = "Sorry for the wait at the counter, Sam. We have added staff on Saturdays."


@dataclass
class Setup:
    standin: GoogleBusinessStandIn
    key_file: Path
    key_info: dict[str, str]
    target: ReplyTarget

    def connector(self, timeout: float = 5.0, location: str = LOCATION) -> GoogleBusinessConnector:
        built = build_connector(ReplySettings(
            source="acme-google", platform="googlebusiness", source_url=f"{self.standin.url}/v4/{location}/reviews",
            api_url=self.standin.url, token_url=self.standin.token_url, options={"key_file": str(self.key_file)},
            timeout=timeout))
        assert isinstance(built, GoogleBusinessConnector)
        return built


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    standin = GoogleBusinessStandIn(hang_seconds=1.5, held_words=("refund",))
    standin.start()
    name = standin.add_review(LOCATION, Review("AbFvOqk1", 1, "Waited forty minutes at the counter."))
    info = standin.add_account(EMAIL, {LOCATION})
    key_file = tmp_path / "gbp-key.json"
    key_file.write_text(json.dumps(info), encoding="utf-8")
    yield Setup(standin, key_file, info, ReplyTarget(platform="googlebusiness", external_id=name))
    standin.stop()


async def test_a_reply_is_put_once_and_read_back(setup: Setup) -> None:
    google = setup.connector()
    assert await google.check() == f"{EMAIL} for {LOCATION}"
    assert await google.current_reply(setup.target, "k") is None
    posted = await google.post(setup.target, TEXT, "k")
    assert posted.state == "published" and posted.reply_id == setup.target.external_id
    assert await google.current_reply(setup.target, "k") == posted
    assert await google.post(setup.target, TEXT, "k") == posted  # the same text again: not sent
    assert setup.standin.accepted_for(setup.target.external_id) == 1 and setup.standin.rejections == []


async def test_a_review_id_with_the_location_from_the_source_is_enough(setup: Setup) -> None:
    short = ReplyTarget(platform="googlebusiness", external_id="AbFvOqk1")
    await setup.connector().post(short, TEXT, "k")
    assert setup.standin.accepted == [(setup.target.external_id, TEXT)]


async def test_a_reply_held_by_moderation_shows_held(setup: Setup) -> None:
    posted = await setup.connector().post(setup.target, TEXT + " Ask us for a refund.", "k")
    assert posted.state == "held"


async def test_an_answer_lost_after_acceptance_is_found_and_not_sent_again(setup: Setup) -> None:
    google = setup.connector(timeout=0.5)
    setup.standin.faults.add("timeout_after_accept", method="PUT")
    with pytest.raises(ReplyRefused) as lost:
        await google.post(setup.target, TEXT, "k")
    assert lost.value.kind == "unavailable"
    found = await google.current_reply(setup.target, "k")
    assert found is not None and found.text == TEXT
    await google.post(setup.target, TEXT, "k")
    assert setup.standin.accepted_for(setup.target.external_id) == 1


async def test_edit_and_delete(setup: Setup) -> None:
    google = setup.connector()
    first = await google.post(setup.target, TEXT, "k")
    edited = await google.edit(setup.target, first, TEXT + " See you soon.")
    reply = setup.standin.reply_to(setup.target.external_id)
    assert edited.text == TEXT + " See you soon." and reply is not None and reply["comment"] == edited.text
    await google.delete(setup.target, edited)
    assert await google.current_reply(setup.target, "k") is None
    await google.delete(setup.target, edited)  # already gone: nothing to do


async def test_over_4096_bytes_is_refused_before_sending_with_the_count(setup: Setup) -> None:
    text = "é" * 2049  # 2,049 characters, 4,098 bytes
    with pytest.raises(ReplyRefused) as refused:
        await setup.connector().post(setup.target, text, "k")
    assert refused.value.kind == "too_long" and "4098" in str(refused.value) and "4096" in str(refused.value)
    assert setup.standin.tokens == {}  # nothing was sent, not even for a token


@pytest.mark.parametrize(("fault", "count", "kind"), [
    ("rate_limited", 1, "rate_limited"),
    ("expired_token", 2, "auth"),
    ("gone", 1, "gone"),
    ("too_long", 1, "too_long"),
])
async def test_each_refusal_is_one_line_of_its_kind(setup: Setup, fault: str, count: int, kind: str) -> None:
    setup.standin.faults.add(fault, count=count, method="GET" if fault == "gone" else "PUT")
    with pytest.raises(ReplyRefused) as refused:
        await setup.connector().post(setup.target, TEXT, "k")
    assert refused.value.kind == kind and str(refused.value).startswith("googlebusiness: ")
    assert "\n" not in str(refused.value) and setup.standin.accepted == []


async def test_a_location_the_account_may_not_manage_is_forbidden(setup: Setup) -> None:
    with pytest.raises(ReplyRefused) as refused:
        await setup.connector(location="accounts/1090/locations/9999").check()
    assert refused.value.kind == "forbidden" and "accounts/1090/locations/9999" in str(refused.value)


async def test_a_key_the_token_endpoint_refuses_is_one_auth_line(setup: Setup, tmp_path: Path) -> None:
    stranger = GoogleBusinessStandIn().add_account("stranger@elsewhere.iam.gserviceaccount.com", {LOCATION})
    setup.key_file.write_text(json.dumps(stranger), encoding="utf-8")
    with pytest.raises(ReplyRefused) as refused:
        await setup.connector().check()
    assert refused.value.kind == "auth" and "\n" not in str(refused.value)
    setup.key_file.write_text("{not json", encoding="utf-8")
    with pytest.raises(ReplySetupError) as unreadable:
        setup.connector()
    assert str(unreadable.value) == f"source 'acme-google': reply.key_file: {setup.key_file}: not a service-account " \
                                    "JSON key"


async def test_no_secret_in_any_log_line(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    google = setup.connector(timeout=0.5)
    messages = []
    for fault in ("expired_token", "timeout_after_accept"):
        setup.standin.faults.add(fault, count=2 if fault == "expired_token" else 1, method="PUT")
        with pytest.raises(ReplyRefused) as refused:
            await google.post(setup.target, TEXT, "k")
        messages.append(str(refused.value))
    await google.edit(setup.target, await google.post(setup.target, TEXT, "k"), TEXT + "!")
    logged = caplog.text + "\n".join(messages)
    assert "googlebusiness: reply to" in logged
    key_body = "".join(setup.key_info["private_key"].splitlines()[1:-1])
    for secret in [key_body[:40], key_body[-40:], setup.key_info["private_key_id"], *setup.standin.tokens]:
        assert secret not in logged
