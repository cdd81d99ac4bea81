"""Source health: a source that silently breaks must not go unnoticed."""

from __future__ import annotations

from review_watch.clock import Clock
from review_watch.config import Config
from review_watch.domain.permissions import is_lead
from review_watch.services.triage import queue_message
from review_watch.storage.orm import SourceRun
from review_watch.storage.unit_of_work import AbstractUnitOfWork

RECENT_RUNS = 5


def _parse_failures_jumped(runs: list[SourceRun]) -> bool:
    """The newest run's parse failures are well above the usual of the runs before it, and at least as many
    as the items it did parse (one unparsable page of a one-page source counts: that is a layout change)."""
    if not runs:
        return False
    newest, earlier = runs[0], runs[1:]
    usual = sum(r.parse_failures for r in earlier) / len(earlier) if earlier else 0.0
    return newest.parse_failures >= max(1, 2 * usual + 1) and newest.parse_failures >= newest.items


def check_source_health(uow: AbstractUnitOfWork, config: Config, clock: Clock) -> list[str]:
    """Queue a "source may be broken" notice to the leads for each source that looks broken."""
    now = clock()
    leads = [member for member in uow.repo.active_staff() if is_lead(member.role)]
    broken = []
    for source in uow.repo.all_sources():
        runs = uow.repo.recent_runs(source.id, RECENT_RUNS)
        if not runs:
            continue
        if source.empty_runs_in_a_row >= config.crawl.broken_after_empty_runs:
            reason = f"no items in the last {source.empty_runs_in_a_row} runs"
        elif _parse_failures_jumped(runs):
            reason = f"{runs[0].parse_failures} pages or records could not be parsed in the last run"
        else:
            if runs[0].items:
                source.broken_alert_sent = False  # healthy again: the next breakage is news
            continue
        if source.broken_alert_sent:
            continue
        source.broken_alert_sent = True
        broken.append(source.name)
        for lead in leads:
            queue_message(uow, kind="notice", dedupe_key=f"source-broken:{source.name}:{runs[0].id}:{lead.id}",
                          staff_id=lead.id, case_id=None, now=now,
                          payload={"notice": "source_broken", "source": source.name, "reason": reason})
    uow.commit()
    return broken
