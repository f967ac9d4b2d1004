"""How fast messages go out: Telegram's limits, kept across replicas.

- the bot's overall budget (``SEND_RATE``, about 30 messages a second): one slot per message,
  taken from a row every replica shares (``send_pace`` key 0, GCRA), so three replicas
  together stay within it; a 429's ``retry_after`` pushes the next slot past its end;
- a group (the agent chat): 20 messages a minute: a burst of ``GROUP_BURST``, then one per
  ``GROUP_INTERVAL`` seconds (as python-telegram-bot's own AIORateLimiter allows), its
  slots shared the same way (key: the chat id);
- a private chat: about one a second, a short burst allowed; kept in this process only,
  as one chat is served by one sender at a time.

The sole process on its database (SQLite) keeps the shared slots in memory too: nobody else
shares them, and a database transaction per message cost more than sending it.

Every wait is a sleep of the one lane that sends to that chat: other chats go on. A lane
that wakes late (the event loop was busy handling updates) does not send on a slot long
gone: this process also never makes more than ``rate`` calls in any second (a sliding
window of its last calls), so late lanes cannot fire together in a burst.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime

from bot.clock import Clock
from bot.storage import SqlUnitOfWork, UnitOfWorkFactory

GLOBAL = 0  # the key of the shared budget (no Telegram chat has id 0)
GROUP_INTERVAL = 3.0  # seconds between messages to one group: Telegram allows 20 a minute
GROUP_BURST = 20  # messages a group may get at once before the interval applies
PRIVATE_INTERVAL = 1.0  # seconds between messages to one private chat, after a burst
PRIVATE_BURST = 3  # messages a private chat may get at once before the interval applies
# Telegram counts calls as they arrive, with the jitter of the network and of this event
# loop; aimed at the budget itself, a late call and an on-time one made 31 in one second
# (benchmarks/throughput.py). Aimed 5 % under it, a call would have to be ~100 ms late.
HEADROOM = 0.95
# How far ahead replicas sharing the budget may reserve its slots: rows claimed are sent in
# the order claimed, so a reply queued late for a customer who wrote early waits behind every
# row already holding a slot. One process's lanes hold about a second; three processes'
# held three seconds, and 93 % of pairs of first replies went out in arrival order (97 %
# with the horizon: benchmarks/README.md).
HORIZON = 1.0


class Pacing:
    def __init__(
        self,
        *,
        new_uow: UnitOfWorkFactory,
        clock: Clock,
        rate: float,
        monotonic: Callable[[], float] = time.monotonic,  # the window's clock
        shared: bool = True,  # False: the only sender on its database; slots in memory
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.new_uow = new_uow
        self.clock = clock
        self.rate = rate * HEADROOM  # messages a second aimed at
        self.interval = 1.0 / self.rate
        self.size = max(1, math.ceil(self.rate))  # calls in any one second, this process
        self._monotonic = monotonic
        self._calls: deque[float] = deque()  # monotonic times of this process's last calls
        self._private: dict[int, float] = {}  # chat id → its theoretical arrival time
        self.shared = shared
        self._slots: dict[int, float] = {}  # not shared: key → the end of its last slot

    def reserve(self, uow: SqlUnitOfWork | None, count: int) -> list[float]:
        """``count`` consecutive slots of the overall budget, taken now (shared: in ``uow``,
        the transaction that claims the rows they are for, so rows claimed first, by any
        replica, go first; not shared: in memory, on the event loop's thread); each is when a
        message may go, in seconds since the epoch."""
        if count <= 0:
            return []
        now = self._now()
        span = self.interval * count
        if self.shared:
            assert uow is not None
            first = uow.pace.take(GLOBAL, now, span)
        else:
            first = self._take(GLOBAL, now, span)
        return [first + self.interval * k for k in range(count)]

    def room(self, uow: SqlUnitOfWork) -> tuple[int, float]:
        """Shared budget: how many slots beginning less than ``HORIZON`` from now may be
        reserved, and, when none, in how many seconds one may (read in ``uow``, the claim's
        transaction)."""
        ahead = uow.pace.ahead(GLOBAL, self._now())
        if ahead >= HORIZON:
            return 0, ahead - HORIZON
        return math.ceil((HORIZON - ahead) / self.interval), 0.0

    async def wait_turn(self, chat_id: int, slot: float | None = None) -> None:
        """Sleep until a message to ``chat_id`` may go: its chat's pace, and its slot of the
        overall budget (``reserve``'s; None: one is taken now, after the chat's pace, so a
        slot is not held while the chat's pace waits). A chat's pace that ends after the
        slot was due takes a fresh slot then: the one reserved is not used twice."""
        now = self._now()
        if chat_id < 0:
            start = await self._take_off_loop(chat_id, now, GROUP_INTERVAL)
            start -= GROUP_INTERVAL * (GROUP_BURST - 1)  # GCRA's tolerance: the burst
        else:
            start = self._take_private(chat_id, now)
        if start > now:
            await asyncio.sleep(start - now)
        now = self._now()
        if slot is None or start > slot:
            slot = await self._take_off_loop(GLOBAL, now, self.interval)
        if slot > now:
            await asyncio.sleep(slot - now)
        await self.window()

    async def window(self) -> None:
        """Wait while this process made ``size`` calls in the last second; then count one."""
        while True:
            moment = self._monotonic()
            while self._calls and self._calls[0] <= moment - 1.0:
                self._calls.popleft()
            if len(self._calls) < self.size:
                self._calls.append(moment)
                return
            await asyncio.sleep(self._calls[0] + 1.0 - moment)

    def hold(self, until: datetime) -> None:
        """No message from any replica before ``until`` (Telegram's 429)."""
        if not self.shared:
            self._slots[GLOBAL] = max(self._slots.get(GLOBAL, 0.0), until.timestamp())
            return
        with self.new_uow() as uow:
            uow.pace.hold(GLOBAL, until.timestamp())
            uow.commit()

    async def _take_off_loop(self, key: int, now: float, interval: float) -> float:
        """``_take``; a shared slot in a thread, so the event loop goes on meanwhile."""
        if not self.shared:
            return self._take(key, now, interval)
        return await asyncio.to_thread(self._take, key, now, interval)

    def _take(self, key: int, now: float, interval: float) -> float:
        """The next slot of ``key`` (GCRA, as ``SqlPace.take``); returns when it begins."""
        if not self.shared:
            tat = max(self._slots.get(key, now), now) + interval
            self._slots[key] = tat
            return tat - interval
        with self.new_uow() as uow:
            start = uow.pace.take(key, now, interval)
            uow.commit()
        return start

    def _take_private(self, chat_id: int, now: float) -> float:
        """GCRA in memory: a burst of ``PRIVATE_BURST``, then one per ``PRIVATE_INTERVAL``."""
        if len(self._private) > 10_000:  # forget chats whose slots are all in the past
            self._private = {k: v for k, v in self._private.items() if v > now}
        tat = max(self._private.get(chat_id, now), now) + PRIVATE_INTERVAL
        self._private[chat_id] = tat
        return tat - PRIVATE_INTERVAL * PRIVATE_BURST

    def _now(self) -> float:
        return self.clock.now().timestamp()
