"""Rule-based flags a support team must not miss: intent to leave, a named competitor, threats and
extortion, abuse aimed at staff. Rules are kept per language; every language's rules run on every text,
because a post is often mixed or detected wrong, and each rule is specific to its own words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Patterns are matched against the casefolded text.
CHURN: dict[str, list[str]] = {
    "en": [
        r"\b(cancel+(ing|ed)?|terminat(e|ing)|clos(e|ing)) (my|our|the) "
        r"(subscription|account|contract|membership|plan)",
        r"\b(switch(ing|ed)?|mov(e|ing)|go(ing)?|chang(e|ing)) (over )?to (a |an )?"
        r"(another|other|different|competitor|\w+ instead)",
        r"\b(switch(ing)?|mov(e|ing)) to [a-z0-9]+ (instead|from now on)",
        r"\bi('m| am) (leaving|done with|out)\b",
        r"\b(never|won't|will not|not going to) (ever )?(order|buy|shop|use|book|come|fly)\w*"
        r"( \w+){0,3} (again|back)\b",
        r"\bnever again\b",
        r"\blast time i (order|buy|use|book|shop)",
        r"\bfind(ing)? (a|another) (new )?(provider|bank|operator|company|shop|store)\b",
    ],
    "ru": [
        r"(отказ\w* от (ваших|их) услуг|расторг\w* (договор|контракт)|отпиш\w*|отключ\w* от вас)",
        r"(перех\w*|перейд\w*|уйд\w*|уход\w*) (к|в) (другом\w*|друг\w+|конкурент\w*)",
        r"больше (никогда )?не (буду|закаж\w*|приду|куплю|обращ\w*|воспольз\w*)",
        r"ни ногой",
        r"(удал\w*|отмен\w*) (подписк\w*|аккаунт\w*)",
    ],
    "ar": [
        r"(سألغي|الغاء|إلغاء|ألغيت) (اشتراكي|الاشتراك|حسابي|العقد)",
        r"(سأنتقل|انتقلت|أنتقل|بنتقل|راح أنتقل|حنتقل) (إلى|ل|الى)",
        r"(لن|ما راح|مش حـ?) ?(أتعامل|اتعامل|أشتري|اشتري|أرجع|ارجع|أطلب|اطلب) (معهم|منهم|مرة|مره|ثاني)",
        r"آخر مرة (أطلب|اطلب|أتعامل|اتعامل|أشتري)",
    ],
    "he": [
        r"(מבטל|מבטלת|ביטלתי|אבטל) (את )?(המנוי|החשבון|החוזה|ההזמנות)",
        r"(עובר|עוברת|אעבור|עברתי) (ל|אל )(חברה|ספק|מתחרה|\S+ במקום)",
        r"(לא|לעולם לא) (אזמין|אקנה|אחזור|אשתמש)",
        r"פעם אחרונה ש",
    ],
    "sv": [
        r"(säger upp|sa upp|avslutar|avslutade|avsluta) (mitt|vårt|mina|abonnemanget|kontot|avtalet)",
        r"(byter|bytt|byta|går över) till (en annan|ett annat|annan|konkurrent|\w+ istället)",
        r"\baldrig (mer|igen)\b",
        r"\b(handlar|beställer) (aldrig|inte) (här )?(mer|igen)\b",
        r"sista gången (jag|vi) (handla|beställ|använd)",
    ],
    "de": [
        r"\b(kündige|gekündigt|kündigen)\b",
        r"\b(wechsle|wechseln|wechsel|gewechselt) (zu|zur|zum)",
        r"\bnie wieder\b",
    ],
    "es": [
        r"\b(cancelar|cancelo|cancelaré) (mi|la) (suscripción|cuenta|contrato)",
        r"\b(darme de baja|me doy de baja)\b",
        r"\b(cambiarme|me cambio|me voy) (a|con) (otra|otro|la competencia)",
        r"\bnunca más\b",
    ],
    "fr": [
        r"\b(résilie|résilier|résilié|je me désabonne)\b",
        r"\b(passe|passer|partir|vais) (chez|à) (un autre|une autre|la concurrence)",
        r"\bplus jamais\b",
    ],
}

THREAT: dict[str, list[str]] = {
    "en": [
        r"\bor (else )?i('ll| will)? ?(post|share|tell|report|leave|write|go|call|sue|make sure)",
        r"\bunless (you|i get)\b.*\bi('ll| will)\b",
        r"\b(i('ll| will)|going to) (sue|take (you|this) to court|call my lawyer|go to the (press|media|police))",
        r"\b(see you in court|my lawyer will|you'll regret|you will regret|i know where you live)",
        r"\b(1|one)[- ]star reviews? everywhere\b",
    ],
    "ru": [
        r"(иначе|а то|или) (я )?(напишу|выложу|опубликую|подам|пожалуюсь|обращусь|сообщу|расскажу)",
        r"(подам в суд|подаю в суд|обращусь в (суд|прокуратуру|роспотребнадзор|полицию)|мой (юрист|адвокат))",
        r"(пожалеете|вы ещё пожалеете|найду вас)",
    ],
    "ar": [
        r"(وإلا|والا|أو) (سأنشر|سأفضح|سأشتكي|راح أنشر|بنشر|سأكتب)",
        r"(سأرفع (عليكم )?قضية|سأشتكيكم|محامي|المحكمة|راح تندمون|ستندمون)",
    ],
    "he": [
        r"(אחרת|או ש) ?(אני )?(אפרסם|אתבע|אפנה|אכתוב|אשתף)",
        r"(אתבע אתכם|תביעה|עורך הדין שלי|עו\"ד|תצטערו)",
    ],
    "sv": [
        r"(annars|eller så) (kommer jag att |ska jag )?"
        r"(lägger|lägga|skriver|skriva|anmäler|anmäla|polisanmäler|stämmer|sprider)",
        r"(stämmer er|stämma er|min advokat|ni kommer att ångra|polisanmäl\w*)",
    ],
    "de": [
        r"\bsonst (werde ich|poste ich|schreibe ich|zeige ich)",
        r"\b(anwalt|verklage|anzeige erstatten|werden es bereuen)",
    ],
    "es": [
        r"\bo (si no )?(publico|publicaré|denuncio|denunciaré|lo cuento)",
        r"\b(mi abogado|los demandaré|voy a demandar|se van a arrepentir)",
    ],
    "fr": [
        r"\bsinon (je (vais )?(publie|poster|porte plainte|fais)|j'écris)",
        r"\b(mon avocat|porter plainte|vous allez le regretter)",
    ],
}

STAFF_ABUSE: dict[str, list[str]] = {
    "en": [
        r"\b(staff|employees?|agents?|cashiers?|waiters?|waitress|manager|support|operators?|clerk|driver|courier|"
        r"you|you guys|your people|your team)\b.{0,30}\b(idiots?|morons?|stupid|imbeciles?|clowns?|retards?|"
        r"incompetent (idiots?|fools?)|useless (idiots?|clowns?)|brain ?dead)\b",
        r"\b(idiots?|morons?|imbeciles?|clowns?)\b.{0,20}\b(work(ing)? there|behind the (counter|desk)|on the phone)",
        r"\bf+u+c+k+ (you|off|your staff)\b",
    ],
    "ru": [
        r"(идиот\w*|дебил\w*|кретин\w*|тупы\w*|придур\w*|быдло|дур\w+ (кассир|продав|оператор|менеджер))",
    ],
    "ar": [
        r"(أغبياء|اغبياء|غبي|حمير|حمار|حيوانات|متخلف\w*|كلاب)",
    ],
    "he": [
        r"(אידיוט\w*|מטומטמ\w*|דביל\w*|אפסים|טמבל\w*)",
    ],
    "sv": [
        r"\b(idiot(er|erna)?|korkad\w*|pucko\w*|jävla (idiot|personal)|dum i huvudet|hjärndöd\w*)\b",
    ],
    "de": [
        r"\b(idiot(en)?|vollidiot\w*|trottel|dumm(e|en)? (kuh|mitarbeiter)|unfähige (idioten|trottel)|arschloch)\b",
    ],
    "es": [
        r"\b(idiotas?|imbéciles?|estúpid[oa]s?|inútiles de mierda|payasos)\b",
    ],
    "fr": [
        r"\b(idiots?|imbéciles?|crétins?|abrutis?|connards?|bande de nuls)\b",
    ],
}

FLAG_LANGUAGES = tuple(sorted(CHURN))


def _compile(table: dict[str, list[str]]) -> dict[str, list[re.Pattern[str]]]:
    return {lang: [re.compile(p) for p in patterns] for lang, patterns in table.items()}


_CHURN = _compile(CHURN)
_THREAT = _compile(THREAT)
_STAFF_ABUSE = _compile(STAFF_ABUSE)


@dataclass(frozen=True)
class Flags:
    churn_intent: bool
    competitor: str | None
    threat: bool
    staff_abuse: bool

    @property
    def any_alarm(self) -> bool:
        return self.churn_intent or self.threat or self.staff_abuse


def _matches(table: dict[str, list[re.Pattern[str]]], text: str) -> bool:
    return any(p.search(text) for patterns in table.values() for p in patterns)


# A verb of moving, in any of the languages, up to two words before a named competitor: "switching to X".
MOVE_TO = (
    r"(switch\w*|mov(e|ing)|go(ing)?|leav\w*|перех\w*|перейд\w*|уйд\w*|ухож\w*|سأنتقل|أنتقل|انتقلت|"
    r"עובר\w*|אעבור|byter|bytt\w*|går över|wechsl\w*|gewechselt|cambi\w*|me voy|pass\w*|je vais)"
)


class FlagRules:
    def __init__(self, competitors: Sequence[str] = ()) -> None:
        self.competitors = []
        for name in competitors:
            if name:
                escaped = re.escape(name.casefold())
                named = re.compile(r"(?<!\w)" + escaped + r"(?!\w)")
                moving = re.compile(MOVE_TO + r"\W+(\w+\W+){0,2}?" + escaped + r"(?!\w)")
                self.competitors.append((name, named, moving))

    def __call__(self, text: str) -> Flags:
        folded = text.casefold()
        competitor = next((name for name, named, _ in self.competitors if named.search(folded)), None)
        moving = any(m.search(folded) for _, _, m in self.competitors)
        return Flags(
            churn_intent=moving or _matches(_CHURN, folded),
            competitor=competitor,
            threat=_matches(_THREAT, folded),
            staff_abuse=_matches(_STAFF_ABUSE, folded),
        )
