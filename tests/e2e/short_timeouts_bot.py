"""``python -m tests.e2e.short_timeouts_bot run``: the real ``supportbot`` command line, with
PostgreSQL's idle timeouts at 2 s instead of a minute, so a test sees them end a connection
the network lost."""

from __future__ import annotations

import sys

import bot.storage.engine
from bot.cli import main

bot.storage.engine.PG_IDLE_TIMEOUT = 2

if __name__ == "__main__":
    sys.exit(main())
