"""The sender's pace on a real (SQLite) database, with a clock that the waits move: the
overall budget, a group's 20 a minute, a private chat's burst, a 429's pause."""

from __future__ import annotations

import asyncio
import functools
import itertools
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import SqlUnitOfWork, make_engine, upgrade
from bot.telegram.pacing import (
    GROUP_BURST,
    GROUP_INTERVAL,
    HEADROOM,
    HORIZON,
    PRIVATE_BURST,
    PRIVATE_INTERVAL,
    Pacing,
)

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


def reserve(pace: Pacing, count: int) -> list[float]:
    """``count`` slots reserved as the sender does with a claim, in seconds after T0."""
    with pace.new_uow() as uow:
        slots = pace.reserve(uow, count)
        uow.commit()
    return [round(slot - T0.timestamp(), 3) for slot in slots]


def test_slots_reserved_with_claims_follow_each_other(paced: tuple[Pacing, Clock]) -> None:
    pace, _ = paced
    slot = 1 / (30 * HEADROOM)
    first, second = reserve(pace, 3), reserve(pace, 2)
    assert first + second == [round(slot * n, 3) for n in range(5)]  # in the order claimed
    if pace.shared:  # another replica on the database reserves after them, whatever it holds
        other = Pacing(new_uow=pace.new_uow, clock=pace.clock, rate=30.0, shared=True)
        assert reserve(other, 1) == [round(slot * 5, 3)]


def test_a_chat_whose_pace_ends_after_its_slot_takes_a_fresh_one(
    paced: tuple[Pacing, Clock],
) -> None:
    """A reserved slot that passed while the chat's own pace waited is not used: two
    messages would go in one slot."""
    pace, clock = paced
    times = send_times(paced, [ANN] * PRIVATE_BURST)  # the chat's burst is spent
    [slot] = reserve(pace, 1)
    chat_free = times[0] + PRIVATE_INTERVAL  # a burst, then one a second from the first
    assert slot < chat_free  # due before the chat may have another

    async def run() -> None:
        await pace.wait_turn(ANN, T0.timestamp() + slot)

    asyncio.run(run())
    sent = round((clock.now() - T0).total_seconds(), 3)
    assert sent == pytest.approx(chat_free, abs=0.01)  # the chat's pace
    assert reserve(pace, 1)[0] > sent  # a fresh slot was taken at that time: the next is later


def test_replicas_reserve_no_further_ahead_than_the_horizon(paced: tuple[Pacing, Clock]) -> None:
    """Three replicas' lanes would hold three seconds of slots, and a reply queued late for
    a customer who wrote first would wait behind all of them: the shared budget is reserved
    at most ``HORIZON`` ahead, by all replicas together."""
    pace, _ = paced
    if not pace.shared:
        pytest.skip(
            "the horizon binds replicas sharing the budget; the sole sender's lanes bound it"
        )
    slot = 1 / (30 * HEADROOM)
    whole = math.ceil(HORIZON / slot)  # 29 at 30 a second (5 % under it)
    other = Pacing(new_uow=pace.new_uow, clock=pace.clock, rate=30.0, shared=True)

    def room(p: Pacing) -> tuple[int, float]:
        with p.new_uow() as uow:
            return p.room(uow)

    assert room(pace) == (whole, 0.0)
    reserve(pace, 20)
    assert room(other) == (whole - 20, 0.0)  # what the first replica holds counts
    reserve(other, whole - 20)
    free, wait = room(pace)
    assert free == 0
    assert wait == pytest.approx(whole * slot - HORIZON, abs=1e-6)  # then the next is in reach
