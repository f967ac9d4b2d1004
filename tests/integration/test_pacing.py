"""The sender's pace on a real (SQLite) database, with a clock that the waits move: the
overall budget, a group's 20 a minute, a private chat's burst, a 429's pause."""

from __future__ import annotations

import asyncio
import functools
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import SqlUnitOfWork, make_engine, upgrade
from bot.telegram.pacing import GROUP_BURST, GROUP_INTERVAL, HEADROOM, PRIVATE_BURST, Pacing

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
GROUP, ANN = -1009999999999, 4242


class Clock:
    """Time that passes only when the pacing waits."""

    def __init__(self) -> None:
        self.current = T0

    def now(self) -> datetime:
        return self.current


@pytest.fixture(params=[True, False], ids=["shared", "in-memory"])
def paced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> tuple[Pacing, Clock]:
    """Slots shared through the database (replicas), or kept in memory (the sole sender)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    upgrade(engine)
    clock = Clock()

    async def sleep(seconds: float) -> None:  # the wait moves the clock, no wall time
        clock.current += timedelta(seconds=seconds)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    new_uow = functools.partial(SqlUnitOfWork, engine)
    seconds = lambda: clock.now().timestamp()  # noqa: E731
    pace = Pacing(new_uow=new_uow, clock=clock, rate=30.0, monotonic=seconds, shared=request.param)
    return pace, clock


def send_times(paced: tuple[Pacing, Clock], chats: list[int]) -> list[float]:
    """When each message (to ``chats`` in turn) may go, in seconds after T0."""
    pace, clock = paced

    async def run() -> list[float]:
        times = []
        for chat in chats:
            await pace.wait_turn(chat)
            times.append(round((clock.now() - T0).total_seconds(), 3))
        return times

    return asyncio.run(run())


def test_the_overall_budget_spaces_every_message(paced: tuple[Pacing, Clock]) -> None:
    times = send_times(paced, list(range(1, 61)))  # sixty chats, one message each
    gaps = [b - a for a, b in itertools.pairwise(times)]
    slot = 1 / (30 * HEADROOM)  # a little under the budget: Telegram sees calls with jitter
    assert all(gap == pytest.approx(slot, abs=0.002) for gap in gaps)  # evenly spaced
    assert sum(1 for t in times if t < 1.0) == 29  # 28.5 a second from the first, never 30


def test_a_group_gets_its_burst_then_one_message_every_three_seconds(
    paced: tuple[Pacing, Clock],
) -> None:
    times = send_times(paced, [GROUP] * (GROUP_BURST + 3))
    assert times[GROUP_BURST - 1] < 1.0  # the burst: about as fast as the budget allows
    later = times[GROUP_BURST:]  # then one per interval, counted from the first message
    assert later == [pytest.approx(GROUP_INTERVAL * n, abs=0.01) for n in (1, 2, 3)]
    assert sum(1 for t in times if t < 60.0) <= 40  # PTB's AIORateLimiter allows the same


def test_a_private_chat_gets_a_short_burst_then_one_a_second(
    paced: tuple[Pacing, Clock],
) -> None:
    times = send_times(paced, [ANN] * (PRIVATE_BURST + 2))
    assert times[PRIVATE_BURST - 1] < 0.2
    assert round(times[PRIVATE_BURST] - times[PRIVATE_BURST - 1], 1) >= 0.9


def test_a_429_holds_every_chat_until_it_ends(paced: tuple[Pacing, Clock]) -> None:
    pace, clock = paced
    pace.hold(T0 + timedelta(seconds=30))  # Telegram's retry_after, seen by any replica
    assert send_times(paced, [ANN, 5000]) == [30.0, round(30 + 1 / (30 * HEADROOM), 3)]
    assert clock.now() >= T0 + timedelta(seconds=30)


def test_late_lanes_do_not_fire_together(paced: tuple[Pacing, Clock]) -> None:
    """Sixty lanes whose slots passed while the event loop was busy all wake at once: this
    process still makes no more calls in any second than its pace allows (29: 28.5 a second)."""
    pace, clock = paced

    async def run() -> list[float]:
        times = []
        for _ in range(60):
            await pace.window()
            times.append((clock.now() - T0).total_seconds())
        return times

    times = asyncio.run(run())
    assert max(sum(1 for t in times if s <= t < s + 1.0) for s in times) == 29
    assert times[-1] >= 1.0  # the later ones waited for the window
