"""Shared by every test: python-telegram-bot's future ``RetryAfter`` type, as the bot uses it."""

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")  # see bot/telegram/__init__.py
