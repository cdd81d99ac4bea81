"""The bot's commands, listed once: /help, the command menus (setMyCommands, English and Russian) and the
handlers' registration all read this table. Which are for leads only comes from domain/permissions."""

from __future__ import annotations

from dataclasses import dataclass

from review_watch.domain.permissions import LEADS_ONLY, Operation


@dataclass(frozen=True)
class Command:
    name: str  # /name; its description is the catalogue's "command.<name>"
    handler: str  # the method of bot.handlers.Handlers that answers it
    operation: Operation | None  # what it does, as permissions know it (None: /start, open to anyone)

    @property
    def leads_only(self) -> bool:
        return self.operation in LEADS_ONLY


COMMANDS: tuple[Command, ...] = (
    Command("start", "start", None),
    Command("help", "help", Operation.HELP),
    Command("queue", "queue", Operation.QUEUE),
    Command("case", "case", Operation.VIEW_CASE),
    Command("reply", "reply_command", Operation.REPLY),
    Command("resolve", "resolve", Operation.RESOLVE),
    Command("mute", "mute", Operation.MUTE),
    Command("unmute", "unmute", Operation.MUTE),
    Command("assign", "assign", Operation.ASSIGN),
    Command("stats", "stats", Operation.STATS),
    Command("invite", "invite", Operation.INVITE),
    Command("missed", "missed", Operation.REPORT_MISSED),
)


def listed(for_leads: bool) -> tuple[Command, ...]:
    """The commands shown to someone who may (``for_leads``) or may not do leads' work, in table order."""
    return tuple(command for command in COMMANDS if for_leads or not command.leads_only)
