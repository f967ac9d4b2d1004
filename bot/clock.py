"""The real clock. What a clock is, the flows say (``flows.ports.Clock``)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flows.ports import Clock

__all__ = ["Clock", "ShiftedClock", "SystemClock", "system_clock"]

# A test hook: the name of a file holding seconds to add to the real time. A test that plays
# a week of traffic through the real bot moves the bot's days forward by writing to it.
SHIFT_FILE = "SUPPORTBOT_TEST_CLOCK_SHIFT_FILE"


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftedClock:
    """The real time plus the seconds written in ``path`` (read again when it changes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: int | None = None
        self._shift = timedelta()

    def now(self) -> datetime:
        try:
            changed = self.path.stat().st_mtime_ns
        except OSError:
            changed = None
        if changed != self._seen:
            self._seen = changed
            text = self.path.read_text(encoding="utf-8").strip() if changed else ""
            self._shift = timedelta(seconds=float(text or 0))
        return datetime.now(UTC) + self._shift


def system_clock() -> Clock:
    """The clock the bot runs on: the real one, unless a test shifts it."""
    shift = os.environ.get(SHIFT_FILE)
    return ShiftedClock(Path(shift)) if shift else SystemClock()
