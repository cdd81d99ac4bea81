"""services/replies on a real database and the Google Play stand-in: draft, approval, posting at most once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from replies.registry import connectors_from_config
from review_watch.config import load_config
from review_watch.entrypoints.bootstrap import App
from review_watch.services import replies
from review_watch.services.cases import ActionRefused
from review_watch.services.ingest import store_mention
from review_watch.services.replies import ReplyProblem
from review_watch.services.triage import triage
from review_watch.storage.orm import Case, CaseEvent, OutboxMessage, ReplyRow
from spiders.items import MentionItem
from tests.platform_standins.google_play import GooglePlayStandIn, Review
from tests.support.configs import write_config
from tests.support.fakes import KeywordClassifier, ManualClock

ARRIVAL = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Stockholm
PACKAGE = "com.acme.app"
ACCOUNT = "replies@acme-reviews.iam.gserviceaccount.com"
ANNA, LENA = 1001, 1004


def make_app(tmp_path: Path, database_url: str, google_play: GooglePlayStandIn, approval: str = "none",
             timeout: float = 5, templates: str = "") -> App:
    (tmp_path / "key.json").write_text(json.dumps(google_play.add_account(ACCOUNT, {PACKAGE})))
    sources = (f'\n[[sources]]\nname = "acme-play"\ntype = "googleplay"\n'
               f'url = "https://play.google.com/store/apps/details?id={PACKAGE}"\nbrand = "Acme"\n'
               f'[sources.reply]\nkey_file = "key.json"\napi_url = "{google_play.url}"\n'
               f'token_url = "{google_play.token_url}"\n'
               f'timeout = {timeout}\n'
               '\n[[sources]]\nname = "acme-tp"\ntype = "trustpilot"\nurl = "https://www.trustpilot.com/review/acme.com"\n'
               'brand = "Acme"\n')
    path = write_config(tmp_path, database_url=database_url, sources=sources,
                        extra=f'\n[replies]\napproval = "{approval}"\n{templates}')
    return App(load_config(path), clock=ManualClock(ARRIVAL))


def open_case(app: App, google_play: GooglePlayStandIn, review_id: str, source: str = "acme-play",
              on_play: bool = True) -> int:
    if on_play:
        google_play.add_review(PACKAGE, Review(review_id, "Crashes all the time, terrible", 1))
    with app.unit_of_work() as uow:
        item = MentionItem(source=source, source_type="googleplay" if source == "acme-play" else "trustpilot",
                           external_id=review_id, url=f"https://example.com/{review_id}", author="Kim",
                           published_at=None, rating=1, rating_max=5, title=None,
                           text="Crashes all the time, terrible", language="en", brand="Acme")
        case_id = store_mention(uow, item, "Acme", app.clock).mention_id
        triage(uow, app.config, KeywordClassifier, app.clock)
    return case_id


def staff_id(app: App, telegram_id: int) -> int:
    with app.unit_of_work() as uow:
        return next(s.id for s in uow.repo.active_staff() if s.telegram_id == telegram_id)


async def post_due(app: App) -> int:
    return await replies.post_due(app.unit_of_work, app.config, connectors_from_config(app.config), app.clock)


def drafted(app: App, case_id: int, text: str, who: int = ANNA) -> replies.ReplyView:
    with app.unit_of_work() as uow:
        return replies.draft(uow, app.config, connectors_from_config(app.config), case_id, staff_id(app, who),
                             text, app.clock())


def confirmed(app: App, reply_id: int, who: int = ANNA) -> replies.ReplyView:
    with app.unit_of_work() as uow:
        return replies.confirm(uow, app.config, connectors_from_config(app.config), reply_id, staff_id(app, who),
                               app.clock)


def state(app: App, case_id: int) -> tuple[str, str, list[str]]:
    with app.unit_of_work() as uow:
        case = uow.session.get_one(Case, case_id)
        reply = uow.session.query(ReplyRow).filter_by(case_id=case_id).order_by(ReplyRow.id.desc()).first()
        events = [e.kind for e in uow.session.query(CaseEvent).filter_by(mention_id=case_id).order_by(CaseEvent.id)]
        return case.status, reply.state if reply else "", events


def notices(app: App, notice: str) -> list[dict[str, object]]:
    with app.unit_of_work() as uow:
        return [m.payload for m in uow.session.query(OutboxMessage).filter_by(kind="notice")
                if m.payload.get("notice") == notice]


async def test_a_confirmed_reply_is_posted_once_and_stops_the_clock(tmp_path: Path, database_url: str,
                                                                    google_play: GooglePlayStandIn) -> None:
    app = make_app(tmp_path, database_url, google_play)
    case_id = open_case(app, google_play, "gp-flow-1")
    view = drafted(app, case_id, "Sorry! 2.1 fixes it.")
    assert (view.platform, view.max_length, view.length, view.posts_to_platform) == ("googleplay", 350, 20, True)
    assert view.account == ACCOUNT
    assert confirmed(app, view.reply_id).state == "posting"
    assert state(app, case_id)[0] != "replied"
    assert await post_due(app) == 1
    assert await post_due(app) == 0
    assert [r["text"] for r in google_play.replies_to("gp-flow-1")] == ["Sorry! 2.1 fixes it."]
    status, reply_state, events = state(app, case_id)
    assert (status, reply_state) == ("replied", "posted")
    assert events[-4:] == ["reply_drafted", "reply_confirmed", "reply_posted", "replied"]
    assert notices(app, "reply_posted")


async def test_too_long_is_refused_at_confirmation_with_the_count(tmp_path: Path, database_url: str,
                                                                  google_play: GooglePlayStandIn) -> None:
    app = make_app(tmp_path, database_url, google_play)
    case_id = open_case(app, google_play, "gp-flow-long")
    view = drafted(app, case_id, "x" * 351)
    assert view.too_long and view.length == 351
    with pytest.raises(ReplyProblem) as problem:
        confirmed(app, view.reply_id)
    assert problem.value.key == "reply.too_long" and problem.value.values["length"] == 351
    assert await post_due(app) == 0 and google_play.replies_to("gp-flow-long") == []


async def test_a_gone_review_goes_back_to_the_author_with_the_draft(tmp_path: Path, database_url: str,
                                                                   google_play: GooglePlayStandIn) -> None:
    app = make_app(tmp_path, database_url, google_play)
    case_id = open_case(app, google_play, "gp-flow-gone", on_play=False)
    confirmed(app, drafted(app, case_id, "Sorry about that").reply_id)
    assert await post_due(app) == 0
    status, reply_state, _ = state(app, case_id)
    assert status != "replied" and reply_state == "refused"
    (told,) = notices(app, "reply_refused")
    assert told["text"] == "Sorry about that" and "gone" in str(told["reason"]) and "\n" not in str(told["reason"])


async def test_a_429_waits_and_then_posts_once(tmp_path: Path, database_url: str,
                                                google_play: GooglePlayStandIn) -> None:
    app = make_app(tmp_path, database_url, google_play)
    case_id = open_case(app, google_play, "gp-flow-429")
    confirmed(app, drafted(app, case_id, "Thanks for waiting").reply_id)
    google_play.fail_next("rate_limited", method="reply", retry_after=30)
    assert await post_due(app) == 0
    assert state(app, case_id)[1] == "posting"
    app.clock.advance(seconds=10)  # type: ignore[attr-defined]
    assert await post_due(app) == 0  # not yet: Google said 30 s
    app.clock.advance(seconds=25)  # type: ignore[attr-defined]
    assert await post_due(app) == 1
    assert len(google_play.replies_to("gp-flow-429")) == 1 and state(app, case_id)[:2] == ("replied", "posted")


async def test_accepted_but_unanswered_is_found_and_not_posted_again(tmp_path: Path, database_url: str,
                                                                    google_play: GooglePlayStandIn) -> None:
    app = make_app(tmp_path, database_url, google_play, timeout=1)
    case_id = open_case(app, google_play, "gp-flow-lost")
    confirmed(app, drafted(app, case_id, "Fixed in 2.1").reply_id)
    google_play.fail_next("hang_after_accept", method="reply", delay=3)
    assert await post_due(app) == 0  # Google took it; the answer never came
    assert len(google_play.replies_to("gp-flow-lost")) == 1 and state(app, case_id)[1] == "posting"
    app.clock.advance(seconds=600)  # type: ignore[attr-defined]
    assert await post_due(app) == 1
    assert len(google_play.replies_to("gp-flow-lost")) == 1
    status, reply_state, events = state(app, case_id)
    assert (status, reply_state) == ("replied", "posted") and "reply_retry" in events


async def test_with_approval_a_lead_edits_and_approves(tmp_path: Path, database_url: str,
                                                       google_play: GooglePlayStandIn) -> None:
    app = make_app(tmp_path, database_url, google_play, approval="lead")
    case_id = open_case(app, google_play, "gp-flow-approve")
    view = confirmed(app, drafted(app, case_id, "sorry!!").reply_id)
    assert view.state == "awaiting_approval"
    with app.unit_of_work() as uow:
        asked = [m for m in uow.session.query(OutboxMessage).filter_by(kind="reply_approval")]
        assert [m.staff.telegram_id for m in asked if m.staff] == [LENA]
    with pytest.raises(ActionRefused) as refused, app.unit_of_work() as uow:  # an agent may not approve
        replies.approve(uow, app.config, connectors_from_config(app.config), view.reply_id, staff_id(app, ANNA),
                        app.clock())
    assert refused.value.key == "leads_only"
    with app.unit_of_work() as uow:
        replies.approve(uow, app.config, connectors_from_config(app.config), view.reply_id, staff_id(app, LENA),
                        app.clock(), text="We are sorry: 2.1 fixes the crash.")
    assert await post_due(app) == 1
    assert [r["text"] for r in google_play.replies_to("gp-flow-approve")] == ["We are sorry: 2.1 fixes the crash."]
    with app.unit_of_work() as uow:
        trail = [(e.kind, e.actor) for e in uow.session.query(CaseEvent).filter_by(mention_id=case_id)]
    assert ("reply_drafted", "Anna") in trail and ("reply_edited_by_lead", "Lena") in trail
    assert ("reply_approved", "Lena") in trail
    assert notices(app, "reply_approved")


async def test_a_source_without_reply_settings_is_recorded_as_sent_outside(tmp_path: Path, database_url: str,
                                                                          google_play: GooglePlayStandIn) -> None:
    app = make_app(tmp_path, database_url, google_play)
    case_id = open_case(app, google_play, "tp-flow-1", source="acme-tp", on_play=False)
    view = drafted(app, case_id, "Sorry, we have refunded you.")
    assert not view.posts_to_platform
    assert confirmed(app, view.reply_id).state == "sent_outside"
    assert state(app, case_id)[0] == "replied"


async def test_a_template_is_filled_and_a_posted_reply_edited_but_not_deleted(tmp_path: Path, database_url: str,
                                                                            google_play: GooglePlayStandIn) -> None:
    template = ('[[replies.templates]]\nname = "sorry"\nlanguage = "en"\n'
                'text = "Hi {customer_name}, {agent_name} here: case {case_number} is fixed in 2.1."\n')
    app = make_app(tmp_path, database_url, google_play, templates=template)
    case_id = open_case(app, google_play, "gp-flow-template")
    connectors = connectors_from_config(app.config)
    with app.unit_of_work() as uow:
        assert replies.templates_for(uow, app.config, case_id) == ["sorry"]
        view = replies.draft_from_template(uow, app.config, connectors, case_id, staff_id(app, ANNA), "sorry",
                                           app.clock())
        with pytest.raises(ReplyProblem) as unknown:
            replies.draft_from_template(uow, app.config, connectors, case_id, staff_id(app, ANNA), "nope",
                                        app.clock())
    assert view.text == f"Hi Kim, Anna here: case {case_id} is fixed in 2.1."
    assert unknown.value.key == "reply.unknown_template" and unknown.value.values["known"] == "sorry"
    confirmed(app, view.reply_id)
    assert await post_due(app) == 1
    edited = await replies.edit_posted(app.unit_of_work, app.config, connectors, view.reply_id,
                                       staff_id(app, ANNA), "Fixed in 2.1 - thanks for waiting, Kim.", app.clock)
    assert edited.text == "Fixed in 2.1 - thanks for waiting, Kim."
    posted = [r["text"] for r in google_play.replies_to("gp-flow-template")]
    assert posted[-1] == "Fixed in 2.1 - thanks for waiting, Kim."
    with pytest.raises(ReplyProblem) as refused:
        await replies.delete_posted(app.unit_of_work, app.config, connectors, view.reply_id, staff_id(app, ANNA),
                                    app.clock)
    assert refused.value.key == "reply.cannot_delete"
    assert "reply_edited" in state(app, case_id)[2] and state(app, case_id)[1] == "posted"
