"""Prometheus metrics, read from the database at scrape time."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from bot.context import BotContext
from review_watch.services.stats import outbox_counts, team_stats


def metrics_text(app: BotContext) -> bytes:
    registry = CollectorRegistry()
    outbox = Gauge("review_watch_outbox_messages", "Outbox messages by delivery status", ["status"],
                   registry=registry)
    cases_open = Gauge("review_watch_cases_open", "Cases waiting for a response", registry=registry)
    cases_overdue = Gauge("review_watch_cases_overdue", "Open cases past their deadline", registry=registry)
    with app.unit_of_work() as uow:
        counts = outbox_counts(uow)
        figures = team_stats(uow, app.clock())
    for status in ("pending", "sent", "failed", "skipped"):
        outbox.labels(status=status).set(counts.get(status, 0))
    cases_open.set(figures.open_cases)
    cases_overdue.set(figures.overdue)
    return generate_latest(registry)
