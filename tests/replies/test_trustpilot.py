"""The Trustpilot connector against the stand-in: the business-user password grant and its refresh, the review's
current reply read before posting (no idempotency), edit and delete, each refusal one line of its kind."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from replies.registry import ReplySettings, ReplySetupError, build_connector
from replies.trustpilot import TrustpilotConnector
from review_watch.domain.replies import ReplyRefused, ReplyTarget
from tests.platform_standins.trustpilot import TrustpilotStandIn

pytestmark = pytest.mark.slow  # a server on loopback

REVIEW = ReplyTarget(platform="trustpilot", external_id="5f1e2d3c4b5a69788796a5b4")
TEXT = "We are sorry, Sam: a replacement is on its way."
ENVIRON = {"TP_KEY": "test-api-key-8f2c", "TP_SECRET": "test-api-secret-51d9e0", "TP_PASSWORD": "test-pw-c0ffee-77"}


@dataclass
class ManualClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Setup:
    standin: TrustpilotStandIn
    clock: ManualClock

    def connector(self, timeout: float = 5.0, environ: dict[str, str] | None = None) -> TrustpilotConnector:
        built = build_connector(ReplySettings(
            source="acme-trustpilot", platform="trustpilot", source_url="https://www.trustpilot.com/review/acme.com",
            api_url=self.standin.url, token_url=self.standin.token_url, timeout=timeout,
            options={"username": "support@acme.com", "business_user_id": "bu-1", "api_key_env": "TP_KEY",
                     "api_secret_env": "TP_SECRET", "password_env": "TP_PASSWORD"},
            environ=ENVIRON if environ is None else environ))
        assert isinstance(built, TrustpilotConnector)
        built._clock = self.clock
        return built


@pytest.fixture
def setup() -> Iterator[Setup]:
    clock = ManualClock(datetime.now(UTC))
    standin = TrustpilotStandIn(ENVIRON["TP_KEY"], ENVIRON["TP_SECRET"], "support@acme.com", ENVIRON["TP_PASSWORD"],
                                "bu-1", clock=lambda: clock.now.timestamp(), hang_seconds=1.5)
    standin.reviews.add(REVIEW.external_id)
    standin.start()
    yield Setup(standin, clock)
    standin.stop()


async def test_a_reply_is_posted_once_and_read_back(setup: Setup) -> None:
    trustpilot = setup.connector()
    assert await trustpilot.check() == "support@acme.com (business user bu-1)"
    assert await trustpilot.current_reply(REVIEW, "k") is None
    posted = await trustpilot.post(REVIEW, TEXT, "k")
    assert posted.reply_id == REVIEW.external_id and posted.state == "published"
    found = await trustpilot.current_reply(REVIEW, "k")
    assert found is not None and found.text == TEXT
    assert await trustpilot.post(REVIEW, TEXT, "k") == found  # the same text again: read, not posted
    assert setup.standin.accepted_for(REVIEW.external_id) == 1 and setup.standin.rejections == []
    assert setup.standin.grants == ["password"]


async def test_an_answer_lost_after_acceptance_is_found_and_not_posted_again(setup: Setup) -> None:
    trustpilot = setup.connector(timeout=0.5)
    setup.standin.faults.add("timeout_after_accept", method="POST")
    with pytest.raises(ReplyRefused) as lost:
        await trustpilot.post(REVIEW, TEXT, "k")
    assert lost.value.kind == "unavailable"
    found = await trustpilot.current_reply(REVIEW, "k")
    assert found is not None and found.text == TEXT
    await trustpilot.post(REVIEW, TEXT, "k")
    assert setup.standin.accepted_for(REVIEW.external_id) == 1


async def test_edit_replaces_the_reply_and_delete_removes_it(setup: Setup) -> None:
    trustpilot = setup.connector()
    first = await trustpilot.post(REVIEW, TEXT, "k")
    await trustpilot.edit(REVIEW, first, TEXT + " Tracking: 123.")
    assert setup.standin.replies[REVIEW.external_id].text == TEXT + " Tracking: 123."
    await trustpilot.delete(REVIEW, first)
    assert await trustpilot.current_reply(REVIEW, "k") is None
    await trustpilot.delete(REVIEW, first)  # already gone: nothing to do


async def test_the_token_is_refreshed_before_it_runs_out(setup: Setup) -> None:
    trustpilot = setup.connector()
    await trustpilot.post(REVIEW, TEXT, "k")
    setup.clock.now += timedelta(hours=99, minutes=55)
    await trustpilot.post(REVIEW, TEXT + " More soon.", "k")
    assert setup.standin.grants == ["password", "refresh_token"] and setup.standin.rejections == []
    setup.standin.refresh_tokens.clear()  # the refresh token revoked: sign in again with the password
    setup.clock.now += timedelta(hours=99, minutes=55)
    await trustpilot.post(REVIEW, TEXT, "k")
    assert setup.standin.grants == ["password", "refresh_token", "password"]


@pytest.mark.parametrize(("fault", "count", "kind"), [
    ("rate_limited", 1, "rate_limited"),
    ("expired_token", 2, "auth"),
    ("gone", 1, "gone"),
    ("too_long", 1, "too_long"),
])
async def test_each_refusal_is_one_line_of_its_kind(setup: Setup, fault: str, count: int, kind: str) -> None:
    trustpilot = setup.connector()
    await trustpilot.check()
    setup.standin.faults.add(fault, count=count, method="GET" if fault == "gone" else "POST")
    with pytest.raises(ReplyRefused) as refused:
        await trustpilot.post(REVIEW, TEXT, "k")
    assert refused.value.kind == kind and str(refused.value).startswith("trustpilot: ")
    assert "\n" not in str(refused.value) and setup.standin.accepted == []


async def test_an_expired_token_is_renewed_once_and_the_reply_posted(setup: Setup) -> None:
    trustpilot = setup.connector()
    await trustpilot.check()
    setup.standin.faults.add("expired_token", method="POST")
    await trustpilot.post(REVIEW, TEXT, "k")
    assert setup.standin.accepted_for(REVIEW.external_id) == 1 and setup.standin.grants == ["password", "refresh_token"]


async def test_wrong_credentials_and_missing_variables_are_one_line(setup: Setup) -> None:
    with pytest.raises(ReplyRefused) as refused:
        await setup.connector(environ={**ENVIRON, "TP_PASSWORD": "wrong"}).check()
    assert refused.value.kind == "auth" and "support@acme.com" in str(refused.value)
    with pytest.raises(ReplySetupError) as unset:
        setup.connector(environ={"TP_KEY": "k", "TP_SECRET": "s"})
    assert str(unset.value) == ("source 'acme-trustpilot': reply.password_env: the environment variable TP_PASSWORD "
                                "is not set")


async def test_no_secret_in_any_log_line(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    trustpilot = setup.connector(timeout=0.5)
    messages = []
    for fault in ("expired_token", "timeout_after_accept"):
        setup.standin.faults.add(fault, count=2 if fault == "expired_token" else 1, method="POST")
        with pytest.raises(ReplyRefused) as refused:
            await trustpilot.post(REVIEW, TEXT, "k")
        messages.append(str(refused.value))
    await trustpilot.edit(REVIEW, await trustpilot.post(REVIEW, TEXT, "k"), TEXT + "!")
    logged = caplog.text + "\n".join(messages)
    assert "trustpilot: reply to review" in logged
    for secret in setup.standin.secrets_in_play():
        assert secret not in logged
