"""How the poller, worker and sender wait: backoff, sleeps that a stop or a wake-up ends,
and the loop that keeps the worker and the sender going through database failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.logs import brief
from bot.storage import is_temporary

MOST = 5.0  # the longest pause of the worker and the sender after failures in a row


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


async def keep_going(
    stop: asyncio.Event,
    wake: asyncio.Event,
    work: Callable[[], Awaitable[float]],
    *,
    progress: Callable[[], int],
    kept: str,
    log: logging.Logger,
) -> None:
    """Run ``work`` until ``stop``; it returns how long to nap before the next pass.

    A failure is retried after a backoff that grows with the failures in a row *without
    progress*, up to ``MOST`` seconds: a flaky database that lets work through is tried
    again soon, one that is down a little later (a try costs one failed connection, and
    customers wait for every second of the pause). A passing database failure is a warning
    (``kept`` says what waits for it); anything else is logged with its traceback.
    """
    failures = 0
    while not stop.is_set():
        wake.clear()  # before the work: a wake-up during it is kept (see ``nap``)
        before = progress()
        try:
            delay = await work()
        except Exception as exc:
            failures = 1 if progress() > before else failures + 1
            pause = backoff(failures, most=MOST)
            if is_temporary(exc):
                log.warning(
                    "the database is unavailable (%s); %s, trying again in %.1f s",
                    brief(exc),
                    kept,
                    pause,
                )
            else:
                log.exception("a pass failed; %s, trying again in %.1f s", kept, pause)
            await sleep(stop, pause)
            continue
        failures = 0
        await nap(wake, delay)
