"""Fixtures for the bot tests."""

from tests.telegram_standin.fixture import telegram_standin

__all__ = ["telegram_standin"]
