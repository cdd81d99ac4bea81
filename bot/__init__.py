"""The Telegram bot staff work in: alerts, commands and buttons."""
