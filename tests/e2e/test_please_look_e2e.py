"""An unsure review reaches the lead's "please look" list through the real `review-watch bot` and the stand-in
Bot API; the lead's "complaint" makes a routed case timed from the review's arrival. A "not actionable" press
and a /missed come out of `review-watch feedback export` as training lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from bot.i18n import t
from tests.e2e.test_bot_e2e import ANNA, BORIS, LENA, PAGE_PATH, Stack, answer_to, buttons, card, sends
from tests.spiders.fixture_server import FixtureServer, Reply
from tests.support.cli import review_watch
from tests.support.configs import source_block, write_config
from tests.support.pages import Review, trustpilot_page
from tests.telegram_standin.runner import StandInThread

UNSURE = Review("rv-unsure", 3, "The parcel came on the third try. The box was fine, the tracking page was not.")
ONE_STAR = Review("rv-one-star", 1, "Acme sent the wrong colour. I kept it, it is a gift for my niece anyway.")
FIVE_STARS = Review("rv-five", 5, "Wonderful experience with Acme: fast delivery and friendly support. Highly "
                                   "recommended!")  # what a lead says was a complaint all the same


@dataclass
class CrawledStack(Stack):
    crawled: tuple[datetime, datetime] | None = None  # when the crawl that stored the reviews began and ended


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrawledStack]:
    directory = tmp_path_factory.mktemp("please-look")
    site = FixtureServer().__enter__()
    site.routes[PAGE_PATH] = Reply(trustpilot_page([UNSURE, ONE_STAR, FIVE_STARS]), "text/html")
    standin = StandInThread()
    telegram = standin.start()
    # A wide band makes any 3-star text the rating does not decide unsure, whatever the model's figures.
    path = write_config(directory, database_url=f"sqlite:///{directory / 'rw.db'}", api_url=telegram.api_url,
                        token=telegram.token, sources=source_block("acme-tp", "trustpilot", site.url(PAGE_PATH)),
                        sla_calendar="always", response="1 business day")
    path.write_text(path.read_text().replace('model = "builtin"\n', 'model = "builtin"\nunsure_band = 0.49\n'))
    stack = CrawledStack(directory, path, site, telegram, standin)
    try:
        crawl_started = datetime.now().astimezone()
        review_watch("crawl", config=path)
        stack.crawled = (crawl_started, datetime.now().astimezone())
        stack.ids = {key: row["id"] for key, row in stack.export().items()}
        stack.start_bot()
        yield stack
    finally:
        stack.close()


def test_an_unsure_review_goes_to_the_leads_list_and_a_complaint_answer_opens_its_case(stack: CrawledStack) -> None:
    telegram, ids = stack.telegram, stack.ids
    exported = stack.export()
    assert (exported["rv-unsure"]["unsure"], exported["rv-unsure"]["status"]) == (True, "none")
    assert (exported["rv-one-star"]["unsure"], exported["rv-one-star"]["status"]) == (False, "assigned")

    telegram.wait_for("sendMessage", count=1, chat_id=LENA, timeout=60)
    (listing,) = sends(telegram, LENA)
    assert listing["text"].startswith(t("unsure.title", "en")) and "The parcel came on the third try" in listing["text"]
    assert exported["rv-unsure"]["url"] in listing["html"]
    assert [b["callback_data"] for b in buttons(listing)] == [f"complaint:{ids['rv-unsure']}",
                                                              f"notcomplaint:{ids['rv-unsure']}"]
    telegram.wait_for("sendMessage", count=1, chat_id=ANNA, timeout=60)
    assert not [m for m in sends(telegram, ANNA) if "third try" in m["text"]]  # no alert card for it

    answers = len(telegram.callback_answers())
    answered_at = datetime.now().astimezone()
    telegram.press_button(BORIS, listing["message_id"], f"complaint:{ids['rv-unsure']}", chat_id=LENA)
    telegram.wait_for("answerCallbackQuery", count=answers + 1, timeout=20)
    assert telegram.callback_answers()[-1]["text"] == t("leads_only", "ru")  # only a lead answers
    telegram.press_button(LENA, listing["message_id"], f"complaint:{ids['rv-unsure']}")
    telegram.wait_for("answerCallbackQuery", count=answers + 2, timeout=20)
    assert telegram.callback_answers()[-1]["text"] == t("unsure.opened", "en", case_id=ids["rv-unsure"],
                                                        assignee="Anna")
    telegram.wait_for("sendMessage", count=2, chat_id=ANNA, timeout=60)
    alert = card(telegram, ANNA, ids["rv-unsure"])  # routed as any case: to Anna, who reads English
    assert "The parcel came on the third try" in alert["text"]

    row = stack.export()["rv-unsure"]
    assert (row["status"], row["assignee"]) == ("assigned", "Anna")
    deadline = datetime.fromisoformat(row["deadline"].replace("Z", "+00:00"))
    assert stack.crawled is not None
    started, finished = stack.crawled
    day = timedelta(hours=24)  # one business day of the always-open calendar
    assert started + day <= deadline <= finished + day < answered_at + day  # from arrival, not from the answer

    telegram.wait_for("editMessageReplyMarkup", count=1, chat_id=LENA, timeout=20)
    (answered,) = [m for m in telegram.messages(chat_id=LENA) if m["message_id"] == listing["message_id"]]
    assert buttons(answered) == []  # nothing left to answer on the list
    assert len(sends(telegram, LENA)) == 1  # listed once
    assert telegram.rejections() == []


def test_a_false_alarm_and_a_missed_complaint_become_training_lines(stack: CrawledStack) -> None:
    telegram, ids = stack.telegram, stack.ids
    edits = len(telegram.sent(chat_id=ANNA, method="editMessageText"))
    telegram.press_button(ANNA, card(telegram, ANNA, ids["rv-one-star"])["message_id"],
                          f"not_actionable:{ids['rv-one-star']}")
    telegram.wait_for("editMessageText", count=edits + 1, chat_id=ANNA, timeout=20)

    url = stack.export()["rv-five"]["url"]
    (refused,) = answer_to(telegram, BORIS, lambda: telegram.send_text(BORIS, f"/missed {url}"))
    assert refused == t("leads_only", "ru")
    (unknown,) = answer_to(telegram, LENA, lambda: telegram.send_text(LENA, "/missed https://example.com/nope"))
    assert unknown == t("missed.unknown_url", "en")
    (opened,) = answer_to(telegram, LENA, lambda: telegram.send_text(LENA, f"/missed {url}"))
    assert opened == t("missed.opened", "en", case_id=ids["rv-five"], assignee="Anna")
    telegram.wait_for("sendMessage", count=3, chat_id=ANNA, timeout=60)
    card(telegram, ANNA, ids["rv-five"])  # its alert went out
    (again,) = answer_to(telegram, LENA, lambda: telegram.send_text(LENA, f"/missed {url}"))
    assert again == t("missed.has_case", "en", case_id=ids["rv-five"])
    (help_text,) = answer_to(telegram, LENA, lambda: telegram.send_text(LENA, "/help"))
    assert "/missed" in help_text
    assert "missed" in {c["command"] for c in telegram.commands()["default:::ru"]}

    lines = [json.loads(line) for line in review_watch("feedback", "export", config=stack.config).stdout.splitlines()]
    by_id = {line["id"]: line for line in lines}
    assert by_id.keys() == {ids["rv-unsure"], ids["rv-one-star"], ids["rv-five"]}
    assert {key: (by_id[ids[key]]["label"], by_id[ids[key]]["kind"]) for key in ("rv-unsure", "rv-one-star",
                                                                                  "rv-five")} == {
        "rv-unsure": ("negative", "unsure_answer"), "rv-one-star": ("neutral", "false_alarm"),
        "rv-five": ("negative", "missed")}
    assert by_id[ids["rv-five"]] == {"language": "en", "label": "negative", "text": FIVE_STARS.text,
                                     "source": "feedback", "kind": "missed", "id": ids["rv-five"], "url": url}
    assert telegram.rejections() == []
