"""Table tests of the shapes the judgement gets wrong on customers' words (issue 13), on the real builtin model.

Each case is one shape in one language, named "shape-language" so that a failure says which. All the cases are
judged in one batch (a module fixture); each test only looks its own judgement up.
"""

from __future__ import annotations

import pytest

from sentiment import Judgement, SentimentClassifier, TextToJudge

# Praise that mentions a refund, a delivery or a problem that was solved: not a complaint.
PRAISE_WITH_REFUND_OR_FIX = [
    ("en", "The refund arrived two days after I asked. Great service."),
    ("en", "My order came with a cracked lid, support sent a new one the next day. "
           "Really happy with how they handled it."),
    ("ru", "Возврат денег пришёл через два дня после заявки. Отличный сервис, спасибо!"),
    ("ar", "رجعوا لي فلوسي خلال يومين من طلب الاسترجاع. خدمة ممتازة، شكراً لكم"),
    ("he", "ההחזר הכספי הגיע יומיים אחרי שביקשתי. שירות מצוין!"),
    ("sv", "Återbetalningen kom två dagar efter att jag bad om den. Jättebra service!"),
    ("de", "Die Rückerstattung war zwei Tage nach meiner Anfrage auf dem Konto. Super Service!"),
    ("es", "Tuve un problema con el pedido y me lo solucionaron en un día. ¡Muy buena atención!"),
    ("fr", "J'ai eu un souci avec ma commande, le service client l'a réglé en une journée. Très satisfait !"),
    ("ru", "Была проблема с оплатой, поддержка всё решила за пять минут. Спасибо!"),
    ("ar", "كان عندي مشكلة في الطلب وانحلت بنفس اليوم. تعامل راقي"),
    ("he", "הייתה לי בעיה עם ההזמנה, נציג השירות פתר אותה תוך כמה דקות. תודה!"),
    ("sv", "Paketet kom skadat men de skickade ett nytt direkt utan krångel. Mycket nöjd!"),
    ("de", "Ich hatte ein Problem mit der Lieferung, der Kundenservice hat es sofort gelöst. Top!"),
    ("es", "Me devolvieron el dinero en menos de una semana, sin preguntas. Muy recomendable."),
    ("fr", "Remboursement reçu en trois jours, sans aucune difficulté. Merci !"),
]

# A negative word, negated: not a complaint.
NEGATED_NEGATIVE = [
    ("en", "Not bad at all, to be honest."),
    ("en", "No complaints whatsoever."),
    ("ru", "Совсем неплохо, никаких претензий."),
    ("ar", "مو سيء أبداً، بصراحة عجبني."),
    ("he", "לא רע בכלל, הייתי מזמין שוב."),
    ("sv", "Inte dåligt alls, inga klagomål."),
    ("de", "Gar nicht schlecht, keine Beschwerden."),
    ("es", "Nada mal, la verdad. Ninguna queja."),
    ("fr", "Pas mal du tout, rien à redire."),
]

# Effusive thanks for something waited on for weeks: a complaint.
SARCASM_ABOUT_WAITING = [
    ("en", "Thanks so much for the parcel I've been waiting three weeks for. Truly impressive."),
    ("ru", "Спасибо огромное за посылку, которую я жду уже третью неделю. Просто высший класс."),
    ("ar", "شكراً جزيلاً على الطرد اللي صار لي ثلاث أسابيع أنتظره. إنجاز عظيم فعلاً."),
    ("he", "תודה רבה על החבילה שאני מחכה לה כבר שלושה שבועות. ממש מרשים."),
    ("sv", "Tack så jättemycket för paketet som jag har väntat på i tre veckor. Verkligen imponerande."),
    ("de", "Vielen Dank für das Paket, auf das ich jetzt seit drei Wochen warte. Wirklich beeindruckend."),
    ("es", "Muchísimas gracias por el paquete que llevo tres semanas esperando. Impresionante, de verdad."),
    ("fr", "Merci beaucoup pour le colis que j'attends depuis trois semaines. Vraiment impressionnant."),
]

# An app-store bug report after an update, rated 5 of 5: a complaint.
FIVE_STAR_BUG_REPORT = [
    ("en", "Since the last update the app crashes every time I open my basket. Please fix."),
    ("ru", "После последнего обновления приложение вылетает каждый раз, когда открываю корзину. "
           "Исправьте, пожалуйста."),
    ("ar", "من آخر تحديث والتطبيق يقفل كل ما أفتح السلة. أرجو إصلاح المشكلة."),
    ("he", "מאז העדכון האחרון האפליקציה קורסת בכל פעם שאני פותח את הסל. בבקשה תתקנו."),
    ("sv", "Efter senaste uppdateringen kan jag inte logga in längre, appen fastnar på startskärmen. Snälla fixa."),
    ("de", "Seit dem letzten Update stürzt die App jedes Mal ab, wenn ich den Warenkorb öffne. Bitte beheben."),
    ("es", "Desde la última actualización no me llegan las notificaciones de los pedidos. Arréglenlo, por favor."),
    ("fr", "Depuis la dernière mise à jour, l'appli plante dès que j'ouvre mon panier. Corrigez ça svp."),
]

# A neutral text rated 1 of 5: a complaint.
ONE_STAR_NEUTRAL = [
    ("en", "I ordered the blue one."),
    ("ru", "Я заказывал синий."),
    ("ar", "طلبت اللون الأزرق."),
    ("he", "הזמנתי את הכחול."),
    ("sv", "Jag beställde den blå."),
    ("de", "Ich habe die blaue bestellt."),
    ("es", "Pedí el azul."),
    ("fr", "J'ai commandé le bleu."),
]


def cases(shape: str, rows: list[tuple[str, str]], rating: float | None = None) -> list[tuple[str, TextToJudge]]:
    """(id, item) pairs; a second sentence in one language gets "-2" after its id."""
    out: list[tuple[str, TextToJudge]] = []
    for language, text in rows:
        case_id = f"{shape}-{language}"
        n = 2
        while any(existing == case_id for existing, _ in out):
            case_id = f"{shape}-{language}-{n}"
            n += 1
        item = TextToJudge(text) if rating is None else TextToJudge(text, rating=rating, rating_max=5)
        out.append((case_id, item))
    return out


NOT_FLAGGED = cases("praise-refund", PRAISE_WITH_REFUND_OR_FIX) + cases("negated", NEGATED_NEGATIVE)
FLAGGED = (
    cases("sarcasm", SARCASM_ABOUT_WAITING)
    + cases("bug-5star", FIVE_STAR_BUG_REPORT, rating=5)
    + cases("neutral-1star", ONE_STAR_NEUTRAL, rating=1)
)


@pytest.fixture(scope="module")
def judged(builtin: SentimentClassifier) -> dict[str, Judgement]:
    everything = NOT_FLAGGED + FLAGGED
    judgements = builtin.judge([item for _, item in everything])
    return {case_id: judgement for (case_id, _), judgement in zip(everything, judgements, strict=True)}


def describe(item: TextToJudge, judgement: Judgement) -> str:
    rating = "" if item.rating is None else f" ({item.rating:g} of {item.rating_max:g} stars)"
    return f"{item.text!r}{rating}: {judgement.label} {judgement.score:.3f}"


@pytest.mark.parametrize(("case_id", "item"), NOT_FLAGGED, ids=[case_id for case_id, _ in NOT_FLAGGED])
def test_is_not_flagged(judged: dict[str, Judgement], case_id: str, item: TextToJudge) -> None:
    judgement = judged[case_id]
    assert not judgement.negative, f"flagged: {describe(item, judgement)}"


@pytest.mark.parametrize(("case_id", "item"), FLAGGED, ids=[case_id for case_id, _ in FLAGGED])
def test_is_flagged(judged: dict[str, Judgement], case_id: str, item: TextToJudge) -> None:
    judgement = judged[case_id]
    assert judgement.negative, f"missed: {describe(item, judgement)}"


def test_the_table_covers_each_shape_in_five_languages_with_hebrew_and_swedish() -> None:
    tables = [PRAISE_WITH_REFUND_OR_FIX, NEGATED_NEGATIVE, SARCASM_ABOUT_WAITING, FIVE_STAR_BUG_REPORT,
              ONE_STAR_NEUTRAL]
    for table in tables:
        languages = {language for language, _ in table}
        assert len(languages) >= 5 and {"he", "sv"} <= languages
