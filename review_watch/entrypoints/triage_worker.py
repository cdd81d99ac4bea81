"""`review-watch triage [--loop]`: classify, route and queue whatever is stored and not yet judged.

Crawling nodes then need no model, and several workers can share one backlog: on PostgreSQL each claims its
batch of mentions (FOR UPDATE SKIP LOCKED) and classifies it alongside the others, and the routing, which
reads everyone's open cases, is done one worker at a time under the triage lock, after the crisis check
(services/incidents.check), so that the cases of a crawl that reveals a spike open on its incident. On SQLite the whole
triage runs under the file lock, as a crawl's own triage always has.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from review_watch.domain.judgement import Classifier
from review_watch.entrypoints.bootstrap import App
from review_watch.services.incidents import check as check_incidents
from review_watch.services.triage import TriageFigures, classify_pending, has_unclassified, open_cases
from review_watch.storage.coordination import Coordination, PostgresCoordination

log = logging.getLogger(__name__)

BATCH_SIZE = 64  # mentions one worker claims and classifies per transaction


def triage_backlog(app: App, classifier: Callable[[], Classifier], locks: Coordination | None = None,
                   batch_size: int = BATCH_SIZE) -> TriageFigures:
    """Judge every stored mention that has no judgement (loading the model only when one has none), then open,
    route and queue the cases of the negative ones. Returns this worker's share."""
    locks = locks or app.coordination
    app.sessions  # noqa: B018 - migrates and syncs the config before any lock is taken
    if isinstance(locks, PostgresCoordination):
        classified, negative = _classify(app, classifier, batch_size)
        with locks.triage_lock(), app.unit_of_work() as uow:
            check_incidents(uow, app.config, app.clock)
            return TriageFigures(classified, negative, open_cases(uow, app.config, app.clock))
    with locks.triage_lock():
        classified, negative = _classify(app, classifier, batch_size)
        with app.unit_of_work() as uow:
            check_incidents(uow, app.config, app.clock)
            return TriageFigures(classified, negative, open_cases(uow, app.config, app.clock))


def _classify(app: App, classifier: Callable[[], Classifier], batch_size: int) -> tuple[int, int]:
    with app.unit_of_work() as uow:
        if not has_unclassified(uow):
            return 0, 0
        return classify_pending(uow, classifier(), app.config.sentiment.model, app.clock, batch_size)


def triage_loop(app: App, classifier: Callable[[], Classifier], interval: float, stop: threading.Event,
                on_round: Callable[[TriageFigures], None] = lambda _: None) -> TriageFigures:
    """Triage the backlog every `interval` seconds until `stop` is set; returns the totals."""
    locks = app.coordination
    classified = negative = opened = 0
    while not stop.is_set():
        figures = triage_backlog(app, classifier, locks)
        classified += figures.classified
        negative += figures.negative
        opened += figures.cases_opened
        if figures.classified or figures.cases_opened:
            on_round(figures)
        stop.wait(interval)
    return TriageFigures(classified, negative, opened)
