"""The App Store Connect connector against the stand-in: ES256 tokens from a .p8 key made here, one response per
review, "pending" until published, and each refusal as one line of the right kind."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from replies.app_store import AppStoreConnector
from replies.http import call
from replies.registry import ReplySettings, ReplySetupError, build_connector
from review_watch.domain.replies import ReplyRefused, ReplyTarget
from tests.platform_standins.app_store import AppStoreStandIn

pytestmark = pytest.mark.slow  # a server on loopback

KEY_ID = "2X9R4HXF34"
ISSUER = "57246542-96fe-1a63-e053-0824d011072a"
REVIEW = ReplyTarget(platform="appstore", external_id="00000042-0001-a")
TEXT = "Sorry about the crash: version 4.2 fixes it."


@dataclass
class ManualClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Setup:
    standin: AppStoreStandIn
    key_file: Path
    pem: str
    clock: ManualClock

    def connector(self, timeout: float = 5.0) -> AppStoreConnector:
        built = build_connector(ReplySettings(
            source="acme-appstore", platform="appstore", source_url="https://apps.apple.com/us/app/id42",
            api_url=self.standin.url, options={"key_id": KEY_ID, "issuer_id": ISSUER, "key_file": str(self.key_file)},
            timeout=timeout))
        assert isinstance(built, AppStoreConnector)
        built._clock = self.clock  # the stand-in and the connector share one clock
        return built


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    key = ec.generate_private_key(ec.SECP256R1())  # the team's .p8 key, made for this test only
    key_file = tmp_path / f"AuthKey_{KEY_ID}.p8"
    key_file.write_text(_pem(key), encoding="utf-8")
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    standin = AppStoreStandIn(KEY_ID, ISSUER, key.public_key(), clock=lambda: clock.now.timestamp(),
                              hang_seconds=1.5)
    standin.add_review(REVIEW.external_id)
    standin.start()
    yield Setup(standin, key_file, _pem(key), clock)
    standin.stop()


async def test_a_response_is_pending_until_published(setup: Setup) -> None:
    store = setup.connector()
    assert await store.check() == f"App Store Connect key {KEY_ID}"
    assert await store.current_reply(REVIEW, "k") is None
    posted = await store.post(REVIEW, TEXT, "k")
    assert posted.state == "pending" and posted.text == TEXT
    assert (await store.current_reply(REVIEW, "k")) == posted
    setup.standin.publish(REVIEW.external_id)
    found = await store.current_reply(REVIEW, "k")
    assert found is not None and found.state == "published" and found.reply_id == posted.reply_id
    assert setup.standin.accepted_for(REVIEW.external_id) == 1 and setup.standin.rejections == []


async def test_an_answer_lost_after_acceptance_is_found_and_not_posted_again(setup: Setup) -> None:
    store = setup.connector(timeout=0.5)
    setup.standin.faults.add("timeout_after_accept", method="POST")
    with pytest.raises(ReplyRefused) as lost:
        await store.post(REVIEW, TEXT, "k")
    assert lost.value.retryable and lost.value.kind == "unavailable"
    found = await store.current_reply(REVIEW, "k")  # what the sender does before any retry
    assert found is not None and found.text == TEXT
    assert (await store.post(REVIEW, TEXT, "k")).reply_id == found.reply_id  # a retry anyway: no second response
    assert setup.standin.accepted_for(REVIEW.external_id) == 1


async def test_edit_replaces_the_one_response_and_delete_removes_it(setup: Setup) -> None:
    store = setup.connector()
    first = await store.post(REVIEW, TEXT, "k")
    setup.standin.publish(REVIEW.external_id)
    edited = await store.edit(REVIEW, first, TEXT + " Thanks for waiting.")
    assert edited.reply_id != first.reply_id and edited.state == "pending"
    assert [r.body for r in setup.standin.responses.values()] == [TEXT + " Thanks for waiting."]
    await store.delete(REVIEW, edited)
    assert setup.standin.responses == {} and await store.current_reply(REVIEW, "k") is None
    await store.delete(REVIEW, edited)  # already gone: nothing to do, no refusal


async def test_too_long_is_refused_before_sending_with_the_count(setup: Setup) -> None:
    with pytest.raises(ReplyRefused) as refused:
        await setup.connector().post(REVIEW, "x" * 5971, "k")
    assert refused.value.kind == "too_long" and "5971" in str(refused.value) and "5970" in str(refused.value)
    assert setup.standin.tokens == set()  # nothing was sent


@pytest.mark.parametrize(("fault", "count", "kind"), [
    ("rate_limited", 1, "rate_limited"),
    ("expired_token", 2, "auth"),  # refused again with a fresh token: the key itself is not accepted
    ("gone", 1, "gone"),
    ("too_long", 1, "too_long"),
])
async def test_each_refusal_is_one_line_of_its_kind(setup: Setup, fault: str, count: int, kind: str) -> None:
    setup.standin.faults.add(fault, count=count)
    with pytest.raises(ReplyRefused) as refused:
        await setup.connector().post(REVIEW, TEXT, "k")
    message = str(refused.value)
    assert refused.value.kind == kind and message.startswith("appstore: ") and "\n" not in message
    assert (refused.value.retry_after is not None) == (kind == "rate_limited")
    assert setup.standin.accepted == []


async def test_a_token_refused_once_is_made_anew_and_the_response_posted(setup: Setup) -> None:
    setup.standin.faults.add("expired_token", count=1, method="POST")
    await setup.connector().post(REVIEW, TEXT, "k")
    assert setup.standin.accepted_for(REVIEW.external_id) == 1 and len(setup.standin.tokens) == 2


async def test_the_token_is_renewed_before_its_twenty_minutes_run_out(setup: Setup) -> None:
    store = setup.connector()
    await store.check()
    setup.clock.now += timedelta(minutes=10)
    await store.check()
    assert len(setup.standin.tokens) == 1  # still valid: reused
    setup.clock.now += timedelta(minutes=9)
    await store.check()
    assert len(setup.standin.tokens) == 2 and setup.standin.rejections == []


def test_a_bad_key_file_is_one_line_naming_it(setup: Setup, tmp_path: Path) -> None:
    not_a_key = tmp_path / "notes.p8"
    not_a_key.write_text("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", encoding="utf-8")
    rsa_key = tmp_path / "rsa.p8"
    rsa_key.write_text(_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)), encoding="utf-8")
    for path, problem in [(not_a_key, "not a .p8 private key"), (rsa_key, "EC P-256"),
                          (tmp_path / "missing.p8", "no such file")]:
        setup.key_file = path
        with pytest.raises(ReplySetupError) as refused:
            setup.connector()
        assert str(path) in str(refused.value) and problem in str(refused.value)
        assert "\n" not in str(refused.value) and "reply.key_file" in str(refused.value)


async def test_no_secret_in_any_log_line(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = setup.connector(timeout=0.5)
    setup.standin.faults.add("expired_token", count=2)
    with pytest.raises(ReplyRefused) as refused:
        await store.post(REVIEW, TEXT, "k")
    setup.standin.faults.add("timeout_after_accept", method="POST")
    with pytest.raises(ReplyRefused):
        await store.post(REVIEW, TEXT, "k")
    await store.post(REVIEW, TEXT + "!", "k")
    logged = caplog.text + str(refused.value)
    assert "appstore: response" in logged
    key_body = "".join(setup.pem.splitlines()[1:-1])
    for secret in [key_body[:40], key_body[-40:], *setup.standin.tokens]:
        assert secret not in logged


async def test_the_standin_refuses_what_apple_refuses(setup: Setup) -> None:
    store = setup.connector()
    wrong_type = {"data": {"type": "customerReviewResponses", "attributes": {"responseBody": TEXT},
                           "relationships": {"review": {"data": {"type": "reviews", "id": REVIEW.external_id}}}}}
    answer = await call("appstore", "POST", f"{setup.standin.url}/v1/customerReviewResponses", timeout=5,
                        headers={"Authorization": f"Bearer {store.token()}"}, json_body=wrong_type)
    assert answer.status == 400 and "customerReviews" in setup.standin.rejections[-1]
    unsigned = jwt.encode({"iss": ISSUER, "aud": "appstoreconnect-v1"}, "a-shared-secret-is-no-es256-key-at-all",
                          algorithm="HS256")
    answer = await call("appstore", "GET", f"{setup.standin.url}/v1/customerReviews/{REVIEW.external_id}",
                        timeout=5, headers={"Authorization": f"Bearer {unsigned}"})
    assert answer.status == 401 and setup.standin.accepted == []
