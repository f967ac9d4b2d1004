"""How the poller, worker and sender wait: backoff, and sleeps that a stop or a wake-up ends."""

from __future__ import annotations

import asyncio
import contextlib


def backoff(failures: int, *, first: float = 0.1, most: float = 30.0) -> float:
    """Seconds to wait after ``failures`` failures in a row: doubling, capped at ``most``."""
    return min(most, first * 2.0 ** max(failures - 1, 0))


async def sleep(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds``, or return early (True) when ``stop`` is set."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))
    except TimeoutError:
        return False
    return True


async def nap(wake: asyncio.Event, seconds: float) -> None:
    """Sleep until ``wake`` is set or ``seconds`` pass.

    The caller clears ``wake`` *before* the work that a wake-up asks for, never after it,
    so a wake-up that arrives while the work runs is kept and ends this nap at once.
    """
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), timeout=max(seconds, 0.0))
