"""Callback data, permission decisions and message catalogues."""

from __future__ import annotations

import json
import re
import string

import pytest

from bot import callbacks, i18n
from bot.callbacks import CallbackData, CallbackDataError, decode_callback, encode_callback
from review_watch.domain.permissions import Decision, Member, Operation, decide


@pytest.mark.parametrize(
    ("action", "case_id", "argument"),
    [
        ("claim", 1, None),
        ("not_actionable", 123456789012345678, None),
        ("assignto", 42, "Анна Петрова"),
        ("assignto", 7, "a:b"),
    ],
)
def test_callback_round_trip(action: str, case_id: int, argument: str | None) -> None:
    data = encode_callback(action, case_id, argument)
    assert len(data.encode()) <= 64
    assert decode_callback(data) == CallbackData(action, case_id, argument)


def test_callback_refuses_what_telegram_or_the_bot_cannot_use() -> None:
    with pytest.raises(CallbackDataError, match="66 bytes"):
        encode_callback("assignto", 42, "Ж" * 27)  # "assignto:42:" is 12 bytes, 27 Cyrillic letters 54
    with pytest.raises(CallbackDataError, match="unknown button action"):
        encode_callback("delete_everything", 1)
    with pytest.raises(CallbackDataError, match="positive"):
        encode_callback("claim", 0)
    with pytest.raises(CallbackDataError, match="empty"):
        encode_callback("assignto", 1, "")
    assert encode_callback("assignto", 42, "Ж" * 26) == "assignto:42:" + "Ж" * 26


@pytest.mark.parametrize(
    "data",
    [
        "",
        "claim",
        "claim:",
        "claim:abc",
        "claim:0",
        "claim:-1",
        "claim:01",
        "unknown:1",
        "assignto:1:",
        "x" * 65,
        "claim:1" + "0" * 60,
    ],
)
def test_decode_ignores_data_the_bot_did_not_make(data: str) -> None:
    assert decode_callback(data) is None


ANNA = Member("Anna", "agent")
LEAD = Member("Lena", "lead")
CASE_OPERATIONS = [Operation.VIEW_CASE, Operation.REPLY, Operation.RESOLVE, Operation.WAIT, Operation.NOT_ACTIONABLE]


@pytest.mark.parametrize("operation", list(Operation))
def test_unknown_users_are_refused_everything(operation: Operation) -> None:
    assert decide(None, operation, "Anna") == Decision(False, "refused")
    assert decide(Member("Eve", "intern"), operation, "Eve") == Decision(False, "refused")


@pytest.mark.parametrize("operation", list(Operation))
@pytest.mark.parametrize("assignee", [None, "Anna", "Boris"])
def test_leads_may_do_everything(operation: Operation, assignee: str | None) -> None:
    assert decide(LEAD, operation, assignee).allowed


@pytest.mark.parametrize("operation", CASE_OPERATIONS)
def test_agents_act_on_their_own_cases_only(operation: Operation) -> None:
    assert decide(ANNA, operation, "Anna").allowed
    assert decide(ANNA, operation, "Boris") == Decision(False, "not_your_case")
    assert decide(ANNA, operation, None) == Decision(False, "not_your_case")


def test_agents_claim_unassigned_or_own_cases_and_use_personal_commands() -> None:
    assert decide(ANNA, Operation.CLAIM, None).allowed
    assert decide(ANNA, Operation.CLAIM, "Anna").allowed
    assert decide(ANNA, Operation.CLAIM, "Boris") == Decision(False, "not_your_case")
    for operation in (Operation.HELP, Operation.QUEUE, Operation.MUTE):
        assert decide(ANNA, operation).allowed
    assert decide(ANNA, Operation.ASSIGN, "Anna") == Decision(False, "leads_only")
    assert decide(ANNA, Operation.STATS) == Decision(False, "leads_only")


def test_refusal_reasons_are_in_the_catalogues() -> None:
    for member in (None, ANNA):
        for operation in Operation:
            reason = decide(member, operation, "Boris").reason
            if reason:
                assert i18n.t(reason, "ru") != i18n.t(reason, "en")


def _placeholders(entry: object) -> set[str]:
    texts = entry.values() if isinstance(entry, dict) else [entry]
    return {name for text in texts for _, name, _, _ in string.Formatter().parse(str(text)) if name}


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    en, ru = i18n.catalogue("en"), i18n.catalogue("ru")
    assert i18n.languages() == ["en", "ru"]
    assert set(en) == set(ru)
    for key in en:
        assert _placeholders(en[key]) == _placeholders(ru[key]), key
        if isinstance(ru[key], dict):
            assert set(ru[key]) == {"one", "few", "many"}, key
            assert set(en[key]) == {"one", "other"}, key


def test_catalogue_values_are_valid_telegram_html() -> None:
    for lang in i18n.languages():
        raw = json.dumps(i18n.catalogue(lang), ensure_ascii=False)
        assert not re.search(r"&(?!amp;|lt;|gt;|quot;)", raw), lang


@pytest.mark.parametrize(
    ("lang", "count", "expected"),
    [
        ("ru", 1, "остался 1 рабочий час"),
        ("ru", 3, "осталось 3 рабочих часа"),
        ("ru", 11, "осталось 11 рабочих часов"),
        ("ru", 22, "осталось 22 рабочих часа"),
        ("ru", 25, "осталось 25 рабочих часов"),
        ("en", 1, "1 business hour left"),
        ("en", 2, "2 business hours left"),
    ],
)
def test_plurals(lang: str, count: int, expected: str) -> None:
    assert i18n.t("left.hours", lang, count=count) == expected


def test_language_choice_and_fallback() -> None:
    assert i18n.t("leads_only", "ru-RU") == "Это могут делать только руководители группы."
    assert i18n.t("leads_only", "sv") == i18n.t("leads_only", "en")
    assert i18n.t("leads_only", None) == "Only team leads can do that."
    assert i18n.t("welcome", "ru", name="Анна").startswith("Добро пожаловать, Анна.")
    with pytest.raises(KeyError, match="no message 'nope'"):
        i18n.t("nope", "en")


def test_every_button_label_exists() -> None:
    for action in callbacks.ACTIONS - {callbacks.ASSIGN_TO, callbacks.INCIDENT_CARDS}:
        for lang in i18n.languages():
            assert i18n.t(f"button.{action}", lang)
    for lang in i18n.languages():  # the incident's individual alerts: one label to switch on, one to switch off
        assert i18n.t("button.incident_cards_on", lang) != i18n.t("button.incident_cards_off", lang)
