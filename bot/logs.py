"""Logging set-up: one format, and the bot token and the webhook secret never written anywhere.

httpx logs every request URL at INFO, and python-telegram-bot logs its base URL and every
call's parameters (setWebhook's secret_token too) at DEBUG. httpx is quietened, and a filter
on every handler replaces the token with ``[token]`` and the secret with ``[secret]`` in
whatever a record would print.
"""

from __future__ import annotations

import logging
import sys


class RedactToken(logging.Filter):
    def __init__(self, secret: str, shown: str = "[token]"):
        super().__init__()
        self.secret = secret
        self.shown = shown

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg = message.replace(self.secret, self.shown)
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            if self.secret in text:
                record.exc_text = text.replace(self.secret, self.shown)
        return True


def configure(level: str, token: str | None, webhook_secret: str | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if token:
        handler.addFilter(RedactToken(token))
    if webhook_secret:
        handler.addFilter(RedactToken(webhook_secret, "[secret]"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def brief(error: BaseException) -> str:
    """An error's first line, for a log line that needs no traceback (a passing failure)."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:200]}" if lines else type(error).__name__
