"""The real clock. What a clock is, the flows say (``flows.ports.Clock``)."""

from __future__ import annotations

from datetime import UTC, datetime

from flows.ports import Clock

__all__ = ["Clock", "SystemClock"]


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
