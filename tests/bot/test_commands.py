"""One command table for /help, the command menus and the handlers; one home for who is a lead."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from telegram.ext import Application, CommandHandler

from bot import commands, formatting, handlers, messages
from bot.commands import COMMANDS
from review_watch.config import load_config
from review_watch.domain.permissions import (
    AGENT,
    LEAD,
    LEADS_ONLY,
    Member,
    is_lead,
    may_do_leads_work,
)
from review_watch.entrypoints.bootstrap import App
from review_watch.services.ingest import store_mention
from review_watch.services.review_queue import queue_please_look
from review_watch.services.triage import triage
from review_watch.storage.orm import OutboxMessage, Staff
from spiders.items import MentionItem
from tests.support.configs import source_block, write_config
from tests.support.fakes import KeywordClassifier, ManualClock

ARRIVAL = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Stockholm: Lena is on duty
UNSURE_TEXT = "Hmm, the parcel came on the third try."
URL = "https://www.trustpilot.com/reviews/{}"


def test_every_command_is_answered_by_a_handler_and_lead_commands_come_from_permissions() -> None:
    names = [command.name for command in COMMANDS]
    assert len(names) == len(set(names))
    for command in COMMANDS:
        assert inspect.iscoroutinefunction(getattr(handlers.Handlers, command.handler, None)), command
    assert {c.name for c in COMMANDS if c.leads_only} == {"assign", "stats", "invite", "missed"}
    assert {c.operation for c in COMMANDS if c.leads_only} <= LEADS_ONLY


def test_help_and_the_menus_list_the_table() -> None:
    for lang in messages.LOCALES:
        assert [name for name, _ in messages.command_list(lang)] == [c.name for c in COMMANDS]
        agent_help = formatting.render_help(lang, False)
        lead_help = formatting.render_help(lang, True)
        for command in COMMANDS:
            assert f"/{command.name} " in lead_help
            assert (f"/{command.name} " in agent_help) is not command.leads_only
    assert [c.name for c in commands.listed(False)] == [
        "start", "help", "queue", "case", "reply", "resolve", "mute", "unmute"]


def test_install_registers_each_command_of_the_table_once(tmp_path: Path, database_url: str) -> None:
    path = write_config(tmp_path, database_url=database_url,
                        sources=source_block("acme-tp", "trustpilot", "https://www.trustpilot.com/review/acme.com"))
    app = App(load_config(path))
    application: Application[Any, Any, Any, Any, Any, Any] = Application.builder().token("1:x").build()
    handlers.install(application, app)
    registered = [name for group in application.handlers.values() for handler in group
                  if isinstance(handler, CommandHandler) for name in handler.commands]
    assert sorted(registered) == sorted(c.name for c in COMMANDS)


def test_roles_are_decided_in_permissions() -> None:
    assert is_lead(LEAD) and not is_lead(AGENT) and not is_lead("boss")
    assert may_do_leads_work(Member("Lena", LEAD))
    assert not may_do_leads_work(Member("Anna", AGENT))
    assert not may_do_leads_work(None)


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> App:
    path = write_config(tmp_path, database_url=database_url,
                        sources=source_block("acme-tp", "trustpilot", "https://www.trustpilot.com/review/acme.com"))
    return App(load_config(path), clock=ManualClock(ARRIVAL))


def test_the_please_look_list_goes_to_the_lead_whose_brand_is_written_in_another_case(app: App) -> None:
    with app.unit_of_work() as uow:
        uow.session.scalars(select(Staff).where(Staff.name == "Lena")).one().brands = ["acme"]
        uow.session.add(Staff(name="Zed", telegram_id=1009, role=LEAD, languages=["en"], brands=["Zeta"],
                              locale="en", active=True, reachable=True, muted=False))
        uow.commit()
        item = MentionItem(source="acme-tp", source_type="trustpilot", external_id="u1", url=URL.format("u1"),
                           author="Kim", published_at=None, rating=None, rating_max=None, title=None,
                           text=UNSURE_TEXT, language="en", brand="Acme")
        store_mention(uow, item, "Acme", app.clock)
        triage(uow, app.config, KeywordClassifier, app.clock)
    with app.unit_of_work() as uow:
        assert queue_please_look(uow, app.config, app.clock) == 1
        lists = list(uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "please_look")))
        assert [m.staff.name for m in lists if m.staff] == ["Lena"]  # not Zed: Lena covers "Acme" as "acme"
