"""Tests of the Telegram bot and of the Bot API stand-in."""
