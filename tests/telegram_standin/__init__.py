"""A local stand-in for the Telegram Bot API that rejects what Telegram rejects; see README.md."""

from tests.telegram_standin.runner import ControlClient, ControlError, StandInThread
from tests.telegram_standin.server import BotApiStandIn

__all__ = ["BotApiStandIn", "ControlClient", "ControlError", "StandInThread"]
