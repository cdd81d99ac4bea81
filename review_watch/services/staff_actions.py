"""What a staff member asks for from a front end (the bot), by ids and plain values, answered with plain views.

Each function is one unit of work. The actor is named by staff id and looked up afresh, so no database row
outlives its transaction; every permission is decided here, through domain/permissions, never by the caller.
Refusals are `ActionRefused`, whose `key` names the message for the person. The actions that change a case or
the team take any unit of work (tests/support/fakes.FakeUnitOfWork included); the reads take the real one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from review_watch.clock import Clock
from review_watch.config import Config
from review_watch.domain import cases as domain
from review_watch.domain.permissions import AGENT, Member, Operation, decide
from review_watch.domain.priority import by_priority
from review_watch.services import cases, review_queue, satisfaction, stats
from review_watch.services.cases import ActionRefused, ActionResult
from review_watch.services.history import author_history
from review_watch.services.priorities import case_priorities
from review_watch.services.review_queue import Verdict
from review_watch.services.satisfaction import BrandSatisfaction
from review_watch.services.stats import TeamStats
from review_watch.services.views import CaseView, StaffView, case_view, staff_view
from review_watch.storage.orm import Staff
from review_watch.storage.unit_of_work import AbstractUnitOfWork, UnitOfWork

QUEUE_CANDIDATES = 200  # the open cases ranked for /queue (soonest deadline first before ranking)
QUEUE_SHOWN = 20


def _actor(uow: AbstractUnitOfWork, actor_id: int) -> Staff:
    row = uow.repo.staff(actor_id)
    if row is None or not row.active:
        raise ActionRefused("refused", f"staff member {actor_id} is not on the staff")
    return row


def _require(member: Member, operation: Operation, case_assignee: str | None = None) -> None:
    decision = decide(member, operation, case_assignee)
    if not decision.allowed:
        raise ActionRefused(decision.reason, f"{member.name} may not {operation.value}")


# Who is asking -----------------------------------------------------------------------------------------


def identify(uow: AbstractUnitOfWork, telegram_id: int) -> StaffView | None:
    """The active staff member with this Telegram id, or None for a stranger."""
    row = cases.staff_by_telegram_id(uow, telegram_id)
    return staff_view(row) if row is not None else None


def register_chat(uow: AbstractUnitOfWork, telegram_id: int, chat_id: int) -> StaffView | None:
    """/start from a member: their alerts go to this chat, and they are reachable again."""
    row = cases.register_chat(uow, telegram_id, chat_id)
    return staff_view(row) if row is not None else None


def join(uow: AbstractUnitOfWork, config: Config, code: str, telegram_id: int, chat_id: int,
         name: str) -> StaffView | None:
    """/start CODE from a stranger: a new agent (or the invite's role), or None for a wrong or used code."""
    row = cases.join_with_invite(uow, config, code, telegram_id, chat_id, name)
    return staff_view(row) if row is not None else None


# Reading -----------------------------------------------------------------------------------------------


def view_case(uow: UnitOfWork, config: Config, case_id: int, actor_id: int, now: datetime) -> CaseView:
    """The case as the actor may see it (agents: their own), with the author's earlier mentions of the brand."""
    view = _case_for(uow, config, case_id, actor_id, now, Operation.VIEW_CASE)
    return replace(view, history=tuple(author_history(uow, case_id, now)))


def check_may_reply(uow: UnitOfWork, config: Config, case_id: int, actor_id: int, now: datetime) -> None:
    """Refuses now, before the reply's text is typed, what `act` would refuse after."""
    _case_for(uow, config, case_id, actor_id, now, Operation.REPLY)


def _case_for(
    uow: UnitOfWork, config: Config, case_id: int, actor_id: int, now: datetime, operation: Operation
) -> CaseView:
    actor = _actor(uow, actor_id)
    view = case_view(uow, config, case_id, now)
    if view is None:
        raise ActionRefused("no_such_case", f"there is no case {case_id}")
    _require(staff_view(actor).member, operation, view.assignee)
    return view


def queue(uow: UnitOfWork, config: Config, actor_id: int, now: datetime) -> list[CaseView]:
    """The actor's open cases, most urgent first (domain/priority), then soonest deadline."""
    views = stats.my_queue(uow, config, _actor(uow, actor_id).id, now, limit=QUEUE_CANDIDATES)
    priorities = case_priorities(uow, [view.case_id for view in views])
    ranked = by_priority((replace(view, priority=priorities[view.case_id]), priorities[view.case_id],
                          view.deadline_at, view.case_id) for view in views)
    return ranked[:QUEUE_SHOWN]


def team_figures(uow: UnitOfWork, actor_id: int, now: datetime) -> TeamStats:
    _require(staff_view(_actor(uow, actor_id)).member, Operation.STATS)
    return stats.team_stats(uow, now)


def satisfaction_figures(uow: UnitOfWork, config: Config, actor_id: int, now: datetime) -> list[BrandSatisfaction]:
    """Each brand's satisfaction index and its sources', with the warnings that stand (/stats)."""
    _require(staff_view(_actor(uow, actor_id)).member, Operation.STATS)
    return satisfaction.brand_satisfaction(uow, config, now)


def assignees(uow: AbstractUnitOfWork, actor_id: int) -> list[str]:
    """Whom the actor may give a case to: the active, reachable staff, by name."""
    _require(staff_view(_actor(uow, actor_id)).member, Operation.ASSIGN)
    return [member.name for member in uow.repo.active_staff() if member.reachable]


# Acting ------------------------------------------------------------------------------------------------


def act(uow: AbstractUnitOfWork, config: Config, case_id: int, action: domain.Action, actor_id: int, clock: Clock,
        note: str | None = None) -> ActionResult:
    """Claim, reply, resolve, wait, not actionable ... on a case (services/cases.perform)."""
    return cases.perform(uow, config, case_id, action, _actor(uow, actor_id), clock, note)


def assign(uow: AbstractUnitOfWork, config: Config, case_id: int, to_name: str, actor_id: int,
           clock: Clock) -> ActionResult:
    """Give a case to the staff member called `to_name` (an "@" before it is ignored)."""
    return cases.reassign_by_lead(uow, config, case_id, to_name, _actor(uow, actor_id), clock)


def invite(uow: AbstractUnitOfWork, actor_id: int, now: datetime, role: str = AGENT) -> str:
    """A one-time invite code."""
    return cases.create_invite(uow, _actor(uow, actor_id), role, now)


def set_muted(uow: AbstractUnitOfWork, config: Config, actor_id: int, muted: bool, clock: Clock) -> int:
    """Off (or back on) duty; returns how many open cases went to someone else."""
    return cases.set_muted(uow, config, _actor(uow, actor_id), muted, clock)


def answer_unsure(uow: UnitOfWork, config: Config, mention_id: int, complaint: bool, actor_id: int,
                  clock: Clock) -> Verdict:
    """A lead's "complaint" / "not a complaint" on the "please look" list."""
    return review_queue.answer_unsure(uow, config, mention_id, complaint, _actor(uow, actor_id), clock)


def report_missed(uow: UnitOfWork, config: Config, url: str, actor_id: int, clock: Clock) -> Verdict:
    """A lead's /missed URL."""
    return review_queue.report_missed(uow, config, url, _actor(uow, actor_id), clock)
