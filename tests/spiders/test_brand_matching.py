"""Brand matching, as a table: scripts, word boundaries, exclusions."""

from __future__ import annotations

import pytest

from review_watch.domain.brand_matching import BrandMatcher

MATCHER = BrandMatcher([
    ("Acme", ["Acme", "acme.com", "Акме", "أكمي", "אקמי", "アクメ", "阿克米", "에이크미"], ["acme road"]),
    ("Globex", ["Globex Corp", "ग्लोबेक्स"], []),
    ("Initech", [], ["initech tower"]),  # no aliases: the name is the alias
])

CASES = [
    # Latin: case, punctuation around the word, possessive, domain alias
    ("Latin", "ACME support never answered", "Acme"),
    ("Latin", "I ordered from acme.com last week", "Acme"),
    ("Latin", "Acme's delivery was late.", "Acme"),
    ("Latin", "(acme) again...", "Acme"),
    ("Latin", "#acme is trending", "Acme"),
    ("Latin", "Acmeville had a fair", None),  # merely contains the alias
    ("Latin", "the Pacme shop", None),
    ("Latin", "acme_bot posted", None),  # an identifier, not the word
    ("Latin", "Stuck on Acme Road for an hour", None),  # exclusion
    ("Latin", "Acme is fine, but ACME   ROAD is closed", None),  # exclusion wins, any spacing and case
    ("Latin", "globex corp is slow", "Globex"),
    ("Latin", "Globex\ncorp answered", "Globex"),  # a multi-word alias across a line break
    ("Latin", "Globex is slow", None),  # only part of a multi-word alias
    ("Latin", "Initech fired me", "Initech"),
    ("Latin", "Meet me at Initech Tower", None),
    # Cyrillic
    ("Cyrillic", "Заказ в АКМЕ так и не пришёл", "Acme"),
    ("Cyrillic", "Отзыв про Акме: ужасно", "Acme"),
    ("Cyrillic", "Акмеистов читал?", None),  # a longer word
    # Arabic: joined "and"/"with" prefixes are still the brand; a longer word is not
    ("Arabic", "خدمة أكمي سيئة جدا", "Acme"),
    ("Arabic", "اشتريت وأكمي لم ترد", "Acme"),  # "و" (and) written joined
    ("Arabic", "تعاملت مع الأكمي", "Acme"),  # the article "ال" written joined
    ("Arabic", "شكوى ضد شركة أكمي.", "Acme"),
    ("Arabic", "بأكمي", "Acme"),  # "with Acme", written joined
    ("Arabic", "أكميات", None),
    # Hebrew: prefixes ו/ה/ב/ל/מ/ש/כ are written joined
    ("Hebrew", "השירות של אקמי גרוע", "Acme"),
    ("Hebrew", "קניתי באקמי ולא קיבלתי", "Acme"),
    ("Hebrew", "אקמיות", None),
    # CJK and Korean: no spaces, substring match
    ("Japanese", "アクメの対応が最悪でした", "Acme"),
    ("Chinese", "我在阿克米买的东西坏了", "Acme"),
    ("Korean", "에이크미고객센터연결이안돼요", "Acme"),
    ("Japanese", "アクセスできない", None),
    # Devanagari
    ("Devanagari", "ग्लोबेक्स की सेवा खराब है", "Globex"),
    # Full-width Latin is the same word; kana and hanzi next to a Latin alias are word boundaries
    ("Full-width", "ＡＣＭＥの配送", "Acme"),
    ("Chinese", "我在Acme买的", "Acme"),
    ("Chinese", "我在Acmeville买的", None),
    # Nothing
    ("Latin", "", None),
]


@pytest.mark.parametrize(("script", "text", "brand"), CASES, ids=[f"{c[0]}:{c[1][:24]}" for c in CASES])
def test_match(script: str, text: str, brand: str | None) -> None:
    assert MATCHER.matches(None, text) == ([brand] if brand else [])


def test_title_counts_as_much_as_text() -> None:
    assert MATCHER.matches("Acme ruined my weekend", "nothing else to say") == ["Acme"]
    assert MATCHER.matches("Acme ruined my weekend", "we met on acme road") == []


def test_every_brand_mentioned_in_configured_order() -> None:
    assert MATCHER.matches(None, "Globex Corp bought Acme") == ["Acme", "Globex"]
    assert MATCHER.matches("Initech vs Globex Corp", "acme road closed") == ["Globex", "Initech"]
    assert BrandMatcher([]).matches("Acme", "Acme") == []
    assert MATCHER.brand_names == ("Acme", "Globex", "Initech")
