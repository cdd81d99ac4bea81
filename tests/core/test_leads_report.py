"""The leads' report of a seeded week (tests/support/seed.py), figures worked out by hand; its complaint
themes against the brand's other mentions; and `review-watch report` printing it as text, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from review_watch.config import load_config
from review_watch.domain.priority import Reason
from review_watch.entrypoints.bootstrap import App
from review_watch.services import staff_actions
from review_watch.services.report import brand_report
from review_watch.storage.orm import Staff
from tests.support.cli import review_watch
from tests.support.configs import source_block, write_config
from tests.support.seed import case, mention, seed_review_week

START = datetime(2026, 3, 23, 8, tzinfo=UTC)  # Monday 09:00 CET
END = datetime(2026, 3, 30, 7, tzinfo=UTC)  # Monday 09:00 CEST


COMPLAINTS_ES = [
    "El pedido de Acme llegó roto y nadie responde a mis correos.",
    "Otra vez el pedido llegó roto. Acme, nadie responde en el chat.",
    "Mi pedido llegó roto, la caja aplastada. Nadie responde.",
    "Pedido de Acme llegó roto por segunda vez, exijo reembolso.",
    "El paquete llegó roto y en Acme nadie responde al teléfono.",
    "Acme: pedido llegó roto, nadie responde, quiero mi reembolso.",
]
PRAISE_ES = [
    "Pedido de Acme llegó rápido, todo perfecto.",
    "Muy contenta con Acme, el pedido llegó en dos días.",
    "Acme siempre cumple: pedido llegó bien embalado.",
    "Buen precio en Acme y el pedido llegó antes de lo previsto.",
    "El pedido de Acme llegó completo, gracias.",
    "Acme tiene buena atención, mi pedido llegó perfecto.",
]


@pytest.fixture
def app_and_config(tmp_path: Path, database_url: str) -> tuple[App, Path]:
    config = write_config(tmp_path, database_url=database_url,
                          sources=source_block("acme-tp", "trustpilot", "http://127.0.0.1:9/review/acme.com"))
    app = App(load_config(config), clock=lambda: END)
    app.sessions  # noqa: B018 - creates the schema, brands, sources and staff
    return app, config


@pytest.fixture
def seeded(app_and_config: tuple[App, Path]) -> tuple[App, Path, dict[str, int]]:
    app, config = app_and_config
    return app, config, seed_review_week(app)


def test_the_week_by_hand(seeded: tuple[App, Path, dict[str, int]]) -> None:
    app, _, ids = seeded
    with app.unit_of_work() as uow:
        report = brand_report(uow, app.config, "acme", START, END)
    assert report.brand == "Acme"
    assert (report.mentions, report.negative) == (13, 7)
    assert report.satisfaction.count == 13
    assert report.satisfaction.average == pytest.approx((6 * 5 + 1 + 2 + 1 + 2 + 1 + 1 + 2) / 13)
    people = {p.name: p for p in report.people}
    # Anna: 10.5 h (Mon 09:30-18:00, Tue 09-11; late), 2.5 h, 2 h (Thu 17-18, Fri 09-10): median 2.5, 2 of 3.
    assert (people["Anna"].answered, people["Anna"].answered_in_time, people["Anna"].overdue_now) == (3, 2, 1)
    assert people["Anna"].median_first_reply_hours == pytest.approx(2.5)
    # Boris: 0.75 h, and Fri 16-17 + Monday before opening = 1 h: median 0.875, 2 of 2.
    assert (people["Boris"].answered, people["Boris"].answered_in_time, people["Boris"].overdue_now) == (2, 2, 0)
    assert people["Boris"].median_first_reply_hours == pytest.approx(0.875)
    assert [c.case_id for c in report.overdue] == [ids["O1"]]
    assert report.overdue[0].priority.reasons == (Reason.CHURN_RISK,)
    # against the six five-star reviews: the phrase stands for its words, "again" and "is" are stop words
    assert report.themes == (("parcel lost", 7), ("slow", 7), ("support", 7))


def test_themes_are_what_the_complaints_say_and_the_brands_other_mentions_do_not(
        app_and_config: tuple[App, Path]) -> None:
    """A plain count of the complaints' words gives roto 6, llegó 6, nadie 5, acme 5, pedido 5, responde 5:
    Spanish stop words, the brand's name and the order every review speaks of. The themes leave those out."""
    app, _ = app_and_config
    for n, text in enumerate(PRAISE_ES):
        mention(app, "acme-tp", arrived_at=START - timedelta(days=10, hours=n), text=text, rating=5, language="es")
        mention(app, "acme-tp", arrived_at=START + timedelta(days=1, hours=n), text=text, rating=5, language="es")
    for n, text in enumerate(COMPLAINTS_ES):
        mention(app, "acme-tp", arrived_at=START + timedelta(days=2, hours=n), text=text, rating=1, negative=True,
                language="es")
    with app.unit_of_work() as uow:
        report = brand_report(uow, app.config, "Acme", START, END)
    assert report.negative == 6
    assert report.themes == (("roto", 6), ("responde", 5))


def test_report_command_prints_the_same_in_three_formats(seeded: tuple[App, Path, dict[str, int]]) -> None:
    _, config, ids = seeded
    window = ["--since", "2026-03-23T08:00:00Z", "--until", "2026-03-30T07:00:00Z"]
    data = json.loads(review_watch("report", *window, "--brand", "Acme", "--format", "json", config=config).stdout)
    assert [brand["brand"] for brand in data] == ["Acme"]
    people = {p["name"]: p for p in data[0]["people"]}
    assert people["Anna"]["in_time_share"] == pytest.approx(0.6667)
    assert people["Boris"]["median_first_reply_business_hours"] == pytest.approx(0.88)
    assert data[0]["overdue"][0]["case_id"] == ids["O1"]

    rows = list(csv.DictReader(io.StringIO(review_watch("report", *window, "--format", "csv", config=config).stdout)))
    figures = {(r["section"], r["item"], r["metric"]): r["value"] for r in rows}
    assert figures[("summary", "", "mentions")] == "13"
    assert figures[("person", "Anna", "answered_in_time")] == "2"

    text = review_watch("report", *window, config=config).stdout
    assert "Acme" in text and "Anna" in text and "2 of 3" in text and "2.5 h" in text


def test_report_command_refuses_bad_input(seeded: tuple[App, Path, dict[str, int]]) -> None:
    _, config, _ = seeded
    unknown = review_watch("report", "--brand", "Globex", config=config, check=False)
    assert unknown.returncode == 2 and "Globex" in unknown.stderr and "Traceback" not in unknown.stderr
    bad_date = review_watch("report", "--since", "yesterday", config=config, check=False)
    assert bad_date.returncode == 2 and "--since" in bad_date.stderr and len(bad_date.stderr.strip().splitlines()) == 1


def test_queue_puts_the_churn_risk_first_although_its_deadline_is_later(
        seeded: tuple[App, Path, dict[str, int]]) -> None:
    app, _, ids = seeded
    plain = mention(app, "acme-tp", arrived_at=START, text="Refund still missing", rating=1, negative=True)
    case(app, plain, "Acme", assignee="Anna", deadline_at=START + timedelta(hours=2))  # due before O1
    with app.unit_of_work() as uow:
        anna = uow.session.scalars(select(Staff.id).where(Staff.name == "Anna")).one()
        views = staff_actions.queue(uow, app.config, anna, END)
    assert [v.case_id for v in views] == [ids["O1"], plain]
    assert views[0].priority is not None and views[0].priority.reasons == (Reason.CHURN_RISK,)
