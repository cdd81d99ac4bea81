"""Reply templates and platform length limits (domain/replies.py)."""

from __future__ import annotations

import pytest

from review_watch.domain.replies import ReplyLimits, fill_template, over_limit, same_text, text_length


def test_a_template_fills_its_placeholders() -> None:
    text = fill_template("Hi {customer_name}, {agent_name} here about case #{case_number}. {{sorry}}",
                         customer_name="Maria", agent_name="Anna", case_number=42)
    assert text == "Hi Maria, Anna here about case #42. {sorry}"


@pytest.mark.parametrize(("template", "message"), [
    ("Hi {name}", "unknown placeholder {name}"),
    ("Hi {customer_name", "a lone {"),
])
def test_a_bad_template_is_named(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fill_template(template, customer_name=None, agent_name="Anna", case_number=1)


def test_lengths_in_the_platforms_units() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one family emoji: five code points
    assert text_length(family, "characters") == 5
    assert text_length(family, "graphemes") == 1
    assert text_length("e\u0301te\u0301", "graphemes") == 3
    assert text_length("ё", "bytes") == 2


def test_over_the_limit_gives_the_count() -> None:
    play = ReplyLimits(max_length=350)
    assert over_limit(play, "x" * 350) is None
    assert over_limit(play, "x" * 351) == 351
    assert over_limit(ReplyLimits(max_length=None), "x" * 10_000) is None


def test_the_same_text_whatever_its_spacing() -> None:
    assert same_text("Sorry,  we\nfixed it ", "Sorry, we fixed it")
    assert not same_text("Sorry", "Sorry!")
