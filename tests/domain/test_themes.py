"""Shared themes: what an incident's complaints share against the brand's usual complaints, in several
languages; phrases stand for their words; unrelated complaints share nothing."""

from __future__ import annotations

import pytest

from review_watch.domain.themes import StopWords, Text, shared_themes, terms

STOP: StopWords = {
    "en": frozenset(["the", "a", "i", "my", "is", "it", "to", "and", "of", "for", "was", "again", "no", "not"]),
    "ru": frozenset(["и", "в", "не", "я", "на", "что", "мой", "моя", "уже"]),
    "ar": frozenset(["في", "من", "لا", "على"]),
}
USUAL_EN = [Text(t, "en") for t in (
    "The parcel was late and the courier was rude", "Support never answered my email",
    "Refund took three weeks", "The shoes fell apart after a month", "Wrong size sent again",
    "Courier left the parcel in the rain", "Nobody answers the phone", "Charged twice for one order",
)] * 3


def english_outage() -> list[Text]:
    return [Text(t, "en") for t in (
        "Card declined at checkout three times", "My card declined again, checkout is broken",
        "Checkout says card declined but the bank is fine", "card declined!!! fix your checkout",
        "Trying to pay: card declined", "card declined at checkout, what is going on", "Card declined. Again.",
        "Support never answered my email", "Refund took three weeks",
    )]


def test_an_outage_in_english_names_its_phrase_once() -> None:
    themes = shared_themes(english_outage(), USUAL_EN, STOP)
    assert [t.term for t in themes][:2] == ["card declined", "checkout"]
    assert themes[0].support == 7
    assert all(t.term not in ("card", "declined") for t in themes)  # the phrase stands for its words


def test_a_multilingual_incident_finds_each_languages_words() -> None:
    incident = english_outage()[:5] + [Text(t, "ru") for t in (
        "Не могу оплатить заказ, карта отклонена", "Карта отклонена уже третий раз", "Оплата: карта отклонена",
        "карта отклонена, а деньги списаны", "Почему карта отклонена?",
    )] + [Text(t, "ar") for t in ("تم رفض البطاقة عند الدفع", "البطاقة مرفوضة في الدفع", "لا يعمل الدفع بالبطاقة",
                                  "مشكلة في الدفع اليوم", "الدفع معطل")]
    found = {t.term for t in shared_themes(incident, USUAL_EN, STOP, limit=8)}
    assert {"card declined", "карта отклонена", "دفع"} <= found


def test_unrelated_complaints_share_nothing() -> None:
    assert shared_themes(USUAL_EN[:8], USUAL_EN[8:], STOP) == []


def test_words_usual_for_the_brand_are_no_theme() -> None:
    incident = [Text(f"The courier lost parcel number {n}", "en") for n in range(6)]
    themes = shared_themes(incident, USUAL_EN, STOP)
    assert themes and themes[0].term in ("lost parcel", "courier lost", "lost")
    assert "courier" not in [t.term for t in themes]  # the brand's usual complaint, not this incident's


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("The app BROKEN is", "en", {"app", "broken", "app broken"}),
    ("The app is broken", "en", {"app", "broken"}),  # a stop word between two words breaks the phrase
    ("the app", None, {"app"}),  # unknown language: every list's stop words
    ("Приложение не работает", "ru", {"приложение", "работает"}),
    ("التطبيق لا يعمل", "ar", {"تطبيق", "يعمل"}),  # the article taken off
    ("Order 12345 x", "en", {"order"}),  # digits and one-letter words dropped
])
def test_terms(text: str, language: str | None, expected: set[str]) -> None:
    assert terms(text, language, STOP) == expected
