"""The leads' digest and the satisfaction warning as Telegram messages: HTML text and a PNG chart, rendered
from the outbox payload (services/report.report_dict) for one reader."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.formatting import name_text, split_for_telegram, user_text
from bot.i18n import t

LISTED_PEOPLE = 15
CHART_DAYS = 31


def _share(value: object) -> str:
    return "—" if value is None else f"{float(str(value)) * 100:.0f}%"


def _stars(value: object) -> str:
    return "—" if value is None else f"{float(str(value)):.2f}"


def _trend(value: object) -> str:
    if value is None:
        return ""
    change = float(str(value))
    return f" ({'▲' if change > 0 else '▼' if change < 0 else '='}{abs(change):.2f})"


def _hours(value: object, lang: str) -> str:
    return "—" if value is None else t("digest.hours", lang, hours=f"{float(str(value)):.1f}")


def _local(iso: str, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone).strftime("%d.%m %H:%M")


def render_digest(payload: Mapping[str, Any], lang: str, zone: ZoneInfo) -> str:
    """The digest's text: one message (lists are kept short enough to fit)."""
    satisfaction = payload["satisfaction"]
    title = t(f"digest.title_{payload.get('digest', 'daily')}", lang, brand=name_text(payload["brand"]))
    lines = [f"<b>{title}</b>",
             t("digest.period", lang, start=_local(payload["start"], zone), end=_local(payload["end"], zone)),
             t("digest.volume", lang, mentions=payload["mentions"], negative=payload["negative"],
               share=_share(payload["negative_share"])),
             t("digest.satisfaction", lang, average=_stars(satisfaction["average"]),
               trend=_trend(satisfaction["trend"]), ratings=satisfaction["ratings"],
               days=f"{float(satisfaction['window_days']):g}")]
    for source, index in payload["satisfaction_by_source"].items():
        lines.append(f"  • {name_text(source)}: {_stars(index['average'])}{_trend(index['trend'])}")
    people: Sequence[Mapping[str, Any]] = payload["people"]
    if people:
        lines += ["", f"<b>{t('digest.people', lang)}</b>"]
        for person in people[:LISTED_PEOPLE]:
            lines.append(t("digest.person", lang, name=name_text(person["name"]),
                           share=_share(person["in_time_share"]), in_time=person["answered_in_time"],
                           answered=person["answered"],
                           median=_hours(person["median_first_reply_business_hours"], lang),
                           overdue=person["overdue_now"]))
    if payload["fastest"]:
        lines.append(t("digest.fastest", lang, names=", ".join(name_text(n) for n in payload["fastest"])))
    lines += ["", f"<b>{t('digest.overdue', lang, count=payload['overdue_total'])}</b>"]
    for case in payload["overdue"]:
        reasons = ", ".join(t(f"priority.{r}", lang) for r in case["reasons"])
        lines.append(f"• #{case['case_id']} {name_text(case['assignee'] or '—')}, {_local(case['deadline'], zone)}"
                     f"{f' — {reasons}' if reasons else ''}: {user_text(case['text'])}")
    if payload["open_incidents"]:
        lines.append(t("digest.incidents", lang, incidents="; ".join(user_text(i) for i in payload["open_incidents"])))
    if payload["themes"]:
        lines.append(t("digest.themes", lang, themes=", ".join(
            f"{user_text(theme['word'])} ({theme['mentions']})" for theme in payload["themes"])))
    if payload["broken_sources"]:
        lines.append(t("digest.broken", lang, sources=", ".join(name_text(s) for s in payload["broken_sources"])))
    return split_for_telegram("\n".join(lines))[0]


def digest_caption(payload: Mapping[str, Any], lang: str) -> str:
    return t("digest.chart_caption", lang, brand=name_text(payload["brand"]))


def digest_chart(payload: Mapping[str, Any], threshold: float) -> bytes:
    """Mentions and negative mentions per day, and the rolling satisfaction index against the warning line."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    days = payload["days"][-CHART_DAYS:]
    labels = [datetime.fromisoformat(d["end"].replace("Z", "+00:00")).strftime("%d.%m") for d in days] or ["—"]
    figure, (volume, satisfaction) = pyplot.subplots(2, 1, figsize=(7, 5), dpi=100, sharex=True)
    positions = list(range(len(labels)))
    volume.bar(positions, [d["mentions"] for d in days] or [0], label="mentions", color="#9bb7d4")
    volume.bar(positions, [d["negative"] for d in days] or [0], label="negative", color="#d9534f")
    volume.set_ylabel("mentions")
    volume.legend(loc="upper left")
    averages = [d["satisfaction"] if d["satisfaction"] is not None else float("nan") for d in days] or [float("nan")]
    satisfaction.plot(positions, averages, marker="o", label="satisfaction (rolling)")
    satisfaction.axhline(threshold, color="#d9534f", linestyle="--", label=f"warning {threshold:g}")
    satisfaction.set_ylim(1, 5.1)
    satisfaction.set_ylabel("stars of 5")
    satisfaction.legend(loc="lower left")
    satisfaction.set_xticks(positions, labels, rotation=45)
    figure.suptitle(str(payload["brand"]))
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()

