from __future__ import annotations

import pytest

from sentiment.flags import FlagRules

rules = FlagRules(competitors=["Tele2", "Telia", "Мегафон"])

CHURN = [
    ("en", "I'm cancelling my subscription and switching to another provider."),
    ("ru", "Перехожу к другому оператору, хватит."),
    ("ar", "سألغي اشتراكي بكرة."),
    ("he", "אני מבטל את המנוי, נמאס."),
    ("sv", "Jag säger upp mitt abonnemang nu."),
    ("de", "Ich kündige zum Monatsende."),
    ("es", "Voy a darme de baja mañana."),
    ("fr", "Je résilie mon abonnement."),
]
THREAT = [
    ("en", "Give me a full refund or I will post this everywhere."),
    ("ru", "Верните деньги, иначе напишу во все соцсети."),
    ("ar", "رجعوا فلوسي وإلا سأنشر القصة في كل مكان"),
    ("he", "תחזירו לי את הכסף אחרת אני אפרסם את זה בכל מקום"),
    ("sv", "Ge mig kompensation, annars lägger jag ut det här överallt."),
    ("de", "Erstatten Sie das Geld, sonst werde ich das überall posten."),
]
STAFF_ABUSE = [
    ("en", "Your support agents are complete idiots."),
    ("ru", "Ваши операторы — тупые идиоты."),
    ("ar", "الموظفين عندكم أغبياء"),
    ("he", "הנציגים שלכם אידיוטים"),
    ("sv", "Personalen är korkade idioter."),
    ("de", "Ihre Mitarbeiter sind Vollidioten."),
]
CALM = [
    ("en", "I switched to the annual plan last month, works fine."),
    ("ru", "Сменил тариф на годовой, всё хорошо."),
    ("ar", "حولت اشتراكي من شهري إلى سنوي."),
    ("he", "עברתי ממנוי חודשי למנוי שנתי."),
    ("sv", "Bytte till årsabonnemang, inte mer än så."),
    ("de", "Die Lieferung kam am Dienstag."),
]


@pytest.mark.parametrize(("language", "text"), CHURN)
def test_churn_intent(language: str, text: str) -> None:
    flags = rules(text)
    assert flags.churn_intent, language
    assert not flags.threat and not flags.staff_abuse


@pytest.mark.parametrize(("language", "text"), THREAT)
def test_threats_and_extortion(language: str, text: str) -> None:
    assert rules(text).threat, language


@pytest.mark.parametrize(("language", "text"), STAFF_ABUSE)
def test_abuse_aimed_at_staff(language: str, text: str) -> None:
    assert rules(text).staff_abuse, language


@pytest.mark.parametrize(("language", "text"), CALM)
def test_ordinary_posts_raise_no_flag(language: str, text: str) -> None:
    flags = rules(text)
    assert not (flags.churn_intent or flags.threat or flags.staff_abuse or flags.competitor), language


@pytest.mark.parametrize(
    ("text", "competitor"),
    [
        ("Moving to Tele2 next week.", "Tele2"),
        ("telia was cheaper anyway", "Telia"),
        ("Ухожу в Мегафон.", "Мегафон"),
        ("Teliasonera? never heard of it", None),
    ],
)
def test_named_competitor_whole_word_any_case(text: str, competitor: str | None) -> None:
    assert rules(text).competitor == competitor


@pytest.mark.parametrize(
    "text",
    ["Switching to Tele2 tomorrow.", "Ухожу в Мегафон.", "Vi byter till Telia.", "Ich wechsle zu Telia."],
)
def test_moving_to_a_named_competitor_is_churn(text: str) -> None:
    flags = rules(text)
    assert flags.churn_intent and flags.competitor is not None


def test_naming_a_competitor_alone_is_not_churn() -> None:
    flags = rules("Telia has a shop next door.")
    assert flags.competitor == "Telia" and not flags.churn_intent
