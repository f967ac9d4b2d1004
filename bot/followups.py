"""The follow-up dispatcher: acts on the follow-up timers in the database once they are due.

The database is the list of timers (``followup`` rows); APScheduler is only the clock. An
``AsyncIOScheduler`` on the bot's event loop ticks the dispatcher every few seconds and once
more at the next known due time (a one-off job, re-armed after every tick). Nothing is kept
in APScheduler's job store: a restart loses no timer, and several processes never run one
job twice, because what is due is read from the database each time.

One tick:

1. *claim* the due rows (``SqlFollowUps.claim_due``: ``sending`` with a lease, committed);
2. for each, one unit of work: lock the row and check the claim is still this one, cancel it
   if the customer blocked the bot, else ``flows.due(uow, row)`` (which re-checks the ticket
   and sets the row's status) and the effects into the outbox (``store_effects``); commit.

A process killed between 1 and 2 leaves its rows ``sending``; the next claim after the
lease (``FOLLOWUP_LEASE``) takes them again, so a follow-up is neither lost nor sent twice.
A passing database failure ends the tick (the lease brings the rows back); a bug is recorded
on the row and tried again after the lease, ``MAX_ATTEMPTS`` times at most.

Budget: at most ``FOLLOWUP_RATE`` follow-ups are handed to the outbox in any one second
(``SendBudget``), and none while the outbox already holds ``backlog`` messages waiting to go.
Their outbox rows are ``FOLLOW_UP`` rows: the sender takes live replies first and sends
follow-ups at most ``FOLLOWUP_RATE`` a second itself (the same sliding window, counted from
each call's end), so a burst after a pause cannot go over it either.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.delivery import store_effects
from bot.logs import brief
from bot.storage import FOLLOW_UP, UnitOfWorkFactory, is_temporary
from flows.model import Effect, FollowUp, FollowUpStatus
from flows.ports import Repositories

log = logging.getLogger(__name__)

INTERVAL = 3.0  # seconds between ticks when no due time is known sooner
MAX_PER_TICK = 500  # rows looked at in one tick (expired ones cost no budget); then re-armed
MAX_ATTEMPTS = 5  # a follow-up whose handling fails this often with a bug is given up
BLOCKED = "customer blocked the bot"


class FollowUpFlow(Protocol):
    """What the dispatcher runs each claimed row through (``flows.followup.FollowUps``).

    Called in the unit of work of one claimed row; sets the row's status (sent, cancelled,
    expired, or pending again later) with ``repos.followups.save`` and returns the messages.
    """

    def due(self, repos: Repositories, followup: FollowUp) -> list[Effect]: ...


class SendBudget:
    """At most ``rate`` hand-overs in any one-second window (below 1: one per 1/rate s).

    A sliding log of the latest hand-overs, not a bucket: a bucket that is full at the
    start of a second and refilled during it lets nearly twice its rate through.
    """

    def __init__(self, rate: float, now: Callable[[], float] = time.monotonic):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.size = max(1, math.floor(rate))
        self.window = 1.0 if rate >= 1 else 1.0 / rate
        self._now = now
        self._times: deque[float] = deque()

    def available(self) -> int:
        self._forget()
        return self.size - len(self._times)

    def take(self, count: int = 1) -> None:
        self._forget()
        self._times.extend([self._now()] * count)

    def wait(self) -> float:
        """Seconds until one more may go (0: now)."""
        self._forget()
        if len(self._times) < self.size:
            return 0.0
        return max(self._times[0] + self.window - self._now(), 0.0)

    def _forget(self) -> None:
        edge = self._now() - self.window
        while self._times and self._times[0] <= edge:
            self._times.popleft()


class FollowUpDispatcher:
    def __init__(
        self,
        *,
        new_uow: UnitOfWorkFactory,
        flows: FollowUpFlow,
        clock: Clock,
        agent_chat_id: int | None,
        rate: float,
        lease: timedelta = timedelta(seconds=60),
        interval: float = INTERVAL,
        backlog: int | None = None,
        on_outbox: asyncio.Event | None = None,
        chat_id: int | None = None,
        hang_after_claim: bool = False,
    ):
        """``backlog``: hand nothing over while this many outbox messages wait (default:
        one second's budget). ``chat_id``: only that chat's follow-ups (the terminal chat).
        ``hang_after_claim``: a test hook that freezes the process after a claim, so a test
        can kill it there."""
        self.new_uow = new_uow
        self.flows = flows
        self.clock = clock
        self.agent_chat_id = agent_chat_id
        self.budget = SendBudget(rate)
        self.lease = lease
        self.interval = interval
        self.backlog = backlog if backlog is not None else self.budget.size
        self.on_outbox = on_outbox
        self.chat_id = chat_id
        self.hang_after_claim = hang_after_claim
        self.handed = 0  # follow-ups whose messages went to the outbox since start
        self.handled = 0  # claimed rows finished with since start (handed or not)
        self._lock = asyncio.Lock()
        self._stopping = False
        self._scheduler: AsyncIOScheduler | None = None

    # ---- on the bot's event loop -----------------------------------------------------

    def start(self) -> None:
        """Start ticking on the running event loop: now, every ``interval``, and at the
        next known due time."""
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.interval,
            id="followups-tick",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.start()
        self._scheduler = scheduler
        self._arm(0.0)

    async def stop(self) -> None:
        """Stop ticking; a tick in progress finishes the row in hand and gives the rest of
        its claim back."""
        self._stopping = True
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        async with self._lock:
            pass

    async def tick(self) -> None:
        """One tick (an APScheduler job); a tick already running makes this one a no-op."""
        if self._stopping or self._lock.locked():
            return
        async with self._lock:
            delay = float(self.interval)
            try:
                delay = await self._pass()
            except Exception as exc:
                if is_temporary(exc):
                    log.warning(
                        "the database is unavailable (%s); due follow-ups are tried again"
                        " when their lease ends",
                        brief(exc),
                    )
                else:
                    log.exception("a follow-up tick failed; trying again at the next tick")
            if not self._stopping:
                self._arm(delay)

    def _arm(self, seconds: float) -> None:
        """The one-off tick at the next known due time (replaces the previous one)."""
        if self._scheduler is None or seconds >= self.interval:
            return  # the interval tick comes first
        self._scheduler.add_job(
            self.tick,
            "date",
            run_date=datetime.now(UTC) + timedelta(seconds=max(seconds, 0.0)),
            id="followups-next",
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def _pass(self) -> float:
        """Hand over what is due and the budget allows; returns seconds until the next tick."""
        looked = 0
        while not self._stopping and looked < MAX_PER_TICK:
            allowed = self.budget.available()
            if allowed <= 0:
                return self.budget.wait()
            now = self.clock.now()
            with self.new_uow() as uow:
                if uow.outbox.count_due(now) >= self.backlog:
                    return 0.2  # the sender is behind: live replies first
                claimed = uow.followups.claim_due(
                    now, self.lease, min(allowed, MAX_PER_TICK - looked), chat_id=self.chat_id
                )
                uow.commit()
            if not claimed:
                break
            self._after_claim(claimed)
            for index, row in enumerate(claimed):
                if self._stopping:
                    self._release(claimed[index:])
                    break
                if self.handle(row):
                    self.budget.take()
                    if self.on_outbox is not None:
                        self.on_outbox.set()
                looked += 1
                await asyncio.sleep(0)  # let the poller, worker and sender in between rows
        if looked >= MAX_PER_TICK:
            return 0.0
        return self._next_due_in()

    def _next_due_in(self) -> float:
        now = self.clock.now()
        with self.new_uow() as uow:
            due = uow.followups.next_due_at(now)
        if due is None:
            return float(self.interval)
        return max((due - now).total_seconds(), 0.0) + 0.01

    def _after_claim(self, claimed: list[FollowUp]) -> None:
        if self.hang_after_claim:  # test hook: the process "dies" here (the test kills it)
            log.warning("test hook: claimed %d follow-up(s); hanging until killed", len(claimed))
            while True:
                time.sleep(3600)

    # ---- synchronous: one row, and the terminal chat's loop ----------------------------

    def run_due(self, limit: int = 100) -> int:
        """Claim and handle up to ``limit`` due rows now, ignoring the budget (the terminal
        chat); returns how many handed messages to the outbox."""
        now = self.clock.now()
        with self.new_uow() as uow:
            claimed = uow.followups.claim_due(now, self.lease, limit, chat_id=self.chat_id)
            uow.commit()
        return sum(1 for row in claimed if self.handle(row))

    def handle(self, claimed: FollowUp) -> bool:
        """One claimed row in a unit of work; True when it handed messages to the outbox.

        A passing database failure propagates (the row comes back after its lease).
        """
        try:
            handed = self._handle(claimed)
        except Exception as exc:
            if is_temporary(exc):
                raise
            self._failed(claimed, exc)
            return False
        self.handled += 1
        self.handed += handed
        return handed

    def _handle(self, claimed: FollowUp) -> bool:
        now = self.clock.now()
        with self.new_uow() as uow:
            row = uow.followups.lock_claimed(claimed)
            if row is None:  # cancelled meanwhile, or taken over after its lease ran out
                log.info("follow-up %s is no longer this claim's; left alone", claimed.id)
                return False
            if uow.customers.is_blocked(row.chat_id):
                row.status = FollowUpStatus.CANCELLED
                row.lease_until = None
                row.last_error = BLOCKED
                uow.followups.save(row)
                uow.commit()
                return False
            effects = self.flows.due(uow, row)
            assert row.id is not None
            after = uow.followups.get(row.id)
            if after is not None and after.status is FollowUpStatus.SENDING:
                raise RuntimeError(f"flows.due left follow-up {row.id} in 'sending'")
            ids = store_effects(
                uow, effects, agent_chat_id=self.agent_chat_id, at=now, priority=FOLLOW_UP
            )
            uow.commit()
        return bool(ids)

    def _failed(self, claimed: FollowUp, exc: Exception) -> None:
        """A bug: noted on the row, tried again after the lease; given up after a few."""
        now = self.clock.now()
        error = repr(exc)[:500]
        with self.new_uow() as uow:
            if claimed.attempts >= MAX_ATTEMPTS:
                row = uow.followups.lock_claimed(claimed)
                if row is not None:
                    row.status = FollowUpStatus.CANCELLED
                    row.lease_until = None
                    row.last_error = f"gave up after {claimed.attempts} tries: {error}"
                    uow.followups.save(row)
                log.error(
                    "follow-up %s failed %d times; given up (cancelled)",
                    claimed.id,
                    claimed.attempts,
                    exc_info=exc,
                )
            else:
                uow.followups.record_error(claimed, error, now)
                log.warning(
                    "follow-up %s failed (%s); trying again when its lease ends",
                    claimed.id,
                    brief(exc),
                    exc_info=exc,
                )
            uow.commit()

    def _release(self, rows: list[FollowUp]) -> None:
        with self.new_uow() as uow:
            for row in rows:
                uow.followups.release(row, self.clock.now())
            uow.commit()
