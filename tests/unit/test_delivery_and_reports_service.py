"""What the outbox delivers, the leads' figures, a person's queue and the export, on the fake unit of work."""

from __future__ import annotations

from review_watch.domain import cases as domain
from review_watch.services import outbox
from review_watch.services.cases import mark_unreachable, perform
from review_watch.services.delivery import NOTHING_LEFT, take_due
from review_watch.services.export import export_rows
from review_watch.services.stats import my_queue, outbox_counts, team_stats
from review_watch.services.triage import open_cases, queue_message
from review_watch.storage.orm import Source
from tests.unit.world import World


def _world_with_cases(world: World) -> None:
    world.repo.add(Source(id=1, name="acme-tp", type="trustpilot", url="https://reviews.example/acme", brand_id=1,
                          empty_runs_in_a_row=0, broken_alert_sent=False, last_run_complete=True))
    world.hire("Anna", languages=("en",))
    world.hire("Boris", languages=("ru",))
    world.hire("Lena", role="lead")


def _answer_and_close(world: World, case_id: int) -> None:
    case = world.case(case_id)
    assert case.assignee is not None
    for action in (domain.Reply(domain.ReplyChannel.SENT_OUTSIDE), domain.Resolve()):
        perform(world.uow, world.config, case_id, action, case.assignee, world.clock)


def test_due_alerts_go_to_their_reader_and_a_removed_recipient_fails(world: World) -> None:
    _world_with_cases(world)
    english = world.mention("terrible blender")
    russian = world.mention("ужасно", language="ru")
    open_cases(world.uow, world.config, world.clock)
    boris = world.repo.active_staff_named("Boris")
    assert boris is not None
    mark_unreachable(world.uow, world.config, boris.id, world.clock)  # his case goes elsewhere, his alert fails

    deliveries = take_due(world.uow, world.config, world.clock(), limit=10)

    sent = [(d.message.kind, d.reader.name, d.message.case_id, d.chat_id) for d in deliveries]
    anna = world.repo.active_staff_named("Anna")
    assert anna is not None
    assert ("alert", "Anna", english.id, anna.chat_id) in sent
    assert all(d.reader.name != "Boris" for d in deliveries)
    failed = [m for m in world.repo.outbox if m.staff_id == boris.id]
    assert [(m.case_id, m.status, m.last_error) for m in failed] == [(russian.id, "failed", "no reachable recipient")]
    card = next(d for d in deliveries if d.message.case_id == english.id and d.message.kind == "alert")
    assert card.message.case is not None and (card.message.case.source, card.message.case.text) == (
        "acme-tp", "terrible blender")


def test_a_later_edit_supersedes_an_earlier_one_and_a_closed_case_gets_no_reminder(world: World) -> None:
    _world_with_cases(world)
    case_id = world.mention("terrible blender").id
    open_cases(world.uow, world.config, world.clock)
    anna = world.repo.active_staff_named("Anna")
    assert anna is not None
    alert = next(m for m in world.repo.outbox if m.kind == "alert")
    outbox.mark_sent(world.uow, alert.id, 555, world.clock())
    world.case(case_id).alert_chat_id, world.case(case_id).alert_message_id = anna.chat_id, 555
    now = world.clock()
    for n in (1, 2):
        queue_message(world.uow, kind="edit", dedupe_key=f"edit-{n}", staff_id=None, case_id=case_id, now=now,
                      payload={"chat_id": anna.chat_id})
    queue_message(world.uow, kind="reminder", dedupe_key="remind", staff_id=anna.id, case_id=case_id, now=now)
    _answer_and_close(world, case_id)

    deliveries = take_due(world.uow, world.config, world.clock(), limit=10)

    edits = [d for d in deliveries if d.message.kind == "edit"]
    assert [(d.edit_message_id, d.reader.name) for d in edits] == [(555, "Anna")]
    statuses = {m.dedupe_key: (m.status, m.last_error) for m in world.repo.outbox}
    assert statuses["edit-1"] == ("skipped", f"superseded by edit {edits[0].message.message_id}")
    assert statuses["remind"] == ("skipped", NOTHING_LEFT)
    card_edits = [m for m in world.repo.outbox if m.kind == "edit"]  # those queued and the case's own refreshes
    assert {m.status for m in card_edits if m.id != edits[0].message.message_id} == {"skipped"}
    assert outbox_counts(world.uow) == {"sent": 1, "pending": 1, "skipped": len(card_edits)}


def test_the_leads_figures_and_a_persons_queue(world: World) -> None:
    _world_with_cases(world)
    first = world.mention("terrible, first")
    second = world.mention("awful, second")
    world.mention("ужасно", language="ru")
    open_cases(world.uow, world.config, world.clock)
    anna = world.repo.active_staff_named("Anna")
    assert anna is not None
    world.clock.advance(hours=2)
    _answer_and_close(world, first.id)
    world.clock.advance(days=3)  # the others are overdue now

    stats = team_stats(world.uow, world.clock())
    queue = my_queue(world.uow, world.config, anna.id, world.clock())

    assert (stats.open_cases, stats.overdue, stats.open_by_assignee, stats.overdue_by_assignee) == (
        2, 2, {"Anna": 1, "Boris": 1}, {"Anna": 1, "Boris": 1})
    assert (stats.answered_this_week, stats.answered_in_time_this_week, stats.median_first_reply_hours) == (1, 1, 2.0)
    assert [(v.case_id, v.assignee, v.status) for v in queue] == [(second.id, "Anna", "assigned")]
    assert queue[0].business_seconds_left < 0


def test_the_export_has_every_mention_with_its_case_in_batches(world: World) -> None:
    _world_with_cases(world)
    complaint = world.mention("terrible blender")
    praise = world.mention("lovely blender", negative=False)
    unjudged = world.mention("a blender", negative=None)
    open_cases(world.uow, world.config, world.clock)

    rows = list(export_rows(world.uow, batch_size=2))

    assert [(r["id"], r["status"], r["assignee"], r["sentiment"], r["source"]) for r in rows] == [
        (complaint.id, "assigned", "Anna", "negative", "acme-tp"), (praise.id, "none", None, "positive", "acme-tp"),
        (unjudged.id, "none", None, None, "acme-tp")]
    world.clock.advance(hours=1)
    world.mention("terrible again")
    assert [r["text"] for r in export_rows(world.uow, since=world.clock())] == ["terrible again"]
