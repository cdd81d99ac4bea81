"""Case priorities: each signal raises a case, and /queue and the digests' overdue lists follow the order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from review_watch.domain.priority import CaseSignals, Reason, by_priority, priority

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize("signals, reasons", [
    (CaseSignals(NOW), ()),
    (CaseSignals(NOW, in_open_incident=True), (Reason.INCIDENT,)),
    (CaseSignals(NOW, churn_intent=True), (Reason.CHURN_RISK,)),
    (CaseSignals(NOW, competitor="Globex"), (Reason.COMPETITOR,)),
    (CaseSignals(NOW, earlier_complaints=2, first_seen_at=NOW - timedelta(days=800)), (Reason.REPEAT_COMPLAINER,)),
    (CaseSignals(NOW, first_seen_at=NOW - timedelta(days=400)), (Reason.LONG_STANDING_FIRST_COMPLAINT,)),
    (CaseSignals(NOW, first_seen_at=NOW - timedelta(days=30)), ()),  # a new customer
    (CaseSignals(NOW, in_open_incident=True, churn_intent=True, competitor="Globex"),
     (Reason.INCIDENT, Reason.CHURN_RISK, Reason.COMPETITOR)),
])
def test_reasons(signals: CaseSignals, reasons: tuple[Reason, ...]) -> None:
    assert priority(signals).reasons == reasons
    assert (priority(signals).score > 0) == bool(reasons)


def test_each_signal_outranks_the_ones_below_it() -> None:
    ladder = [CaseSignals(NOW, in_open_incident=True), CaseSignals(NOW, churn_intent=True),
              CaseSignals(NOW, earlier_complaints=1), CaseSignals(NOW, competitor="Globex"), CaseSignals(NOW)]
    scores = [priority(s).score for s in ladder]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)
    # churn + competitor together still rank below an incident
    assert priority(CaseSignals(NOW, churn_intent=True, competitor="G")).score < scores[0]


def test_order_by_priority_then_deadline_then_id() -> None:
    plain, churn = priority(CaseSignals(NOW)), priority(CaseSignals(NOW, churn_intent=True))
    items = [("late plain", plain, NOW - timedelta(hours=5), 1), ("churn", churn, NOW + timedelta(days=2), 2),
             ("early plain", plain, NOW - timedelta(hours=9), 3), ("same deadline", plain, NOW - timedelta(hours=5), 0)]
    assert by_priority(items) == ["churn", "early plain", "same deadline", "late plain"]
