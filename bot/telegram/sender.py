"""Delivers the outbox through the Bot API: in order per chat, many chats at once, retried,
never lost, sent twice only after a crash in a call or an answer lost (a reset, a timeout).

Each row is sent by a *lane* (a task) that holds the first waiting row of its chat, waits
for the chat's pace and a slot of the overall budget (``bot.telegram.pacing``) and sends
it; the chat's next row is claimed once that one is done, oldest rows first across chats.
Up to ``lanes`` chats are served at once, so one slow chat (the agent group's 20 a minute)
holds up nobody else. Live replies are claimed first (customers' before the team chat's
notices, which are bulk work), and follow-ups may take only ``FOLLOW_UP_LANES`` lanes.
Several replicas share one outbox: a claimed row is ``sending`` under a lease, and one whose
sender died is sent again once the lease has run out (it may then arrive twice: the Bot API
has no idempotency key).

Only rows that are due are read (in SQL), and the sender sleeps until the next one falls
due or something new is queued. What a failure does to a row:

- a network error or a Bot API outage: retried with backoff (doubling with the failures
  in a row, up to a minute) for as long as it takes; the row is not charged an attempt;
- a 429: all sending pauses for its ``retry_after``; the row is not charged an attempt;
  the pause is stored on the row (its retry time), so a restarted sender waits it out;
- a row still pending when older than ``stale_after`` (``SEND_STALE_AFTER``) is given up:
  logged at WARNING and counted (``stale``), never sent late (the agent chat's are kept);
- a 403 (the customer blocked the bot): the customer is marked and what was queued for
  them is cancelled, their pending follow-ups too;
- a 403 from the agent chat, or a 400: see ``bot.telegram.refusals`` (the agent chat's
  rows are kept until the bot is back, and the admins told once; a wrong message is given
  up, HTML that does not parse sent once more as plain text first).

A row is marked in the database after its call, with the next claim (``bot.telegram.ledger``),
so a restart carries on where it stopped; if marking fails (the database is down) the sender
remembers it and does not send it again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.clock import Clock
from bot.followups import SendBudget
from bot.markup import plain
from bot.storage import (
    LIVE,
    RETRY_AFTER,
    OutboxItem,
    UnitOfWorkFactory,
)
from bot.telegram.calls import call, place_of
from bot.telegram.ledger import Ledger, Sent, Untried, give_back_untried, record, release_left
from bot.telegram.pacing import Pacing
from bot.telegram.refusals import (
    MAX_BACKOFF,
    AgentChatLoss,
    Refusal,
    bad_request,
    may_have_arrived,
)
from bot.telegram.rendering import keyboard
from bot.telegram.timing import keep_going
from knowledge.responses import Responses

log = logging.getLogger(__name__)

IDLE = 10.0  # seconds between looks at the outbox when nothing wakes the sender
LANES = 32  # chats one process sends to at once
FOLLOW_UP_LANES = 8  # of those, the most that may carry follow-ups: live replies keep the rest
LEASE = timedelta(seconds=60)  # how long a claimed row stays with its sender


class Sender:
    def __init__(
        self,
        *,
        bot: Bot,
        new_uow: UnitOfWorkFactory,
        clock: Clock,
        lanes: int = LANES,
        rate: float = 30.0,  # messages a second, all replicas together (SEND_RATE)
        sole: bool = False,  # the only sender on its database (SQLite): see ``_release``
        agent_chat_id: int | None = None,
        admin_ids: Collection[int] = (),
        responses: Responses | None = None,  # for the admins' notice; none: they are not told
        followup_rate: float | None = None,  # FOLLOW_UP rows a second at most; None: no limit
        stale_after: timedelta | None = None,  # give up rows older than this; None: never
    ):
        self.bot = bot
        self.new_uow = new_uow
        self.clock = clock
        self.lanes = lanes
        self.sole = sole
        self.pacing = Pacing(new_uow=new_uow, clock=clock, rate=rate, shared=not sole)
        self._lanes: dict[int, asyncio.Task[None]] = {}  # chat id → the lane sending to it
        self._follow_up_lanes = 0
        self._lane_error: BaseException | None = None
        self._released = False  # rows a dead sender left were looked for
        self.agent_chat_id = agent_chat_id
        self.agent_chat = AgentChatLoss(
            new_uow=new_uow, clock=clock, admin_ids=admin_ids, responses=responses
        )
        self.wake = asyncio.Event()
        self._paused_until = clock.now()
        self._pause_restored = False  # a 429 pause stored before a restart was looked for
        self.ledger = Ledger(new_uow=new_uow, clock=clock)  # what became of each row
        self.followup_budget = SendBudget(followup_rate) if followup_rate is not None else None
        self.stale_after = stale_after
        self.delivered = 0  # rows done with since start (sent or given up)
        self.stale = 0  # rows given up since start because they were older than stale_after
        self._outage = 0  # network errors in a row: the backoff while the Bot API is away
        self._horizon = 0.0  # seconds until the shared budget has room within HORIZON
        self.latency_sum = 0.0  # seconds from queued to sent, over the rows sent (``/metrics``)
        self.sent = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; sleeps until woken or the next row falls due."""
        await keep_going(
            stop,
            self.wake,
            lambda: self.send_due(stop),
            progress=lambda: self.delivered,
            kept="the outbox stays stored",
            log=log,
        )

    async def send_due(self, stop: asyncio.Event | None = None) -> float:
        """Send every row that is due, chats side by side, taking up what is queued
        meanwhile; returns how long to sleep before looking again. Once ``stop`` is set,
        each lane finishes the row in hand and nothing more is claimed."""
        stop = stop or asyncio.Event()
        now = self.clock.now()
        if not self._pause_restored:
            self._restore_pause(now)
        self.ledger.settle()
        self._release(now)
        while not stop.is_set():
            self.wake.clear()  # before claiming: a wake-up from now on is seen below
            await self._fill(claim=self._paused_until <= self.clock.now())
            if not self._lanes:
                break
            waits = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait([*self._lanes.values(), *waits], return_when=asyncio.FIRST_COMPLETED)
            for waiting in waits:
                waiting.cancel()
        if self._lanes:
            await asyncio.gather(*self._lanes.values(), return_exceptions=True)
        self.ledger.settle()
        if self._lane_error is not None:
            error, self._lane_error = self._lane_error, None
            raise error
        now = self.clock.now()
        if self._paused_until > now:
            return (self._paused_until - now).total_seconds()
        with self.new_uow() as uow:
            due = uow.outbox.next_due_at(now)
            lease = uow.outbox.lease_ends()
        soonest = min((t for t in (due, lease) if t is not None), default=None)
        delay = IDLE if soonest is None else min(IDLE, max((soonest - now).total_seconds(), 0.0))
        if self._horizon:  # rows wait for room within the horizon (others' slots)
            delay = min(delay, self._horizon)
        if self.followup_budget is not None and self._budget_left() <= 0:
            delay = min(delay, self.followup_budget.wait())  # follow-ups may be waiting
        return delay

    async def _fill(self, *, claim: bool = True) -> None:
        """Record the rows sent since the last look and claim the first row of as many
        waiting chats as there are free lanes, live ones first, each with its slot of the
        overall budget; start a lane for each. The database work runs in a thread, so the
        lanes' calls go on meanwhile."""
        free = self.lanes - len(self._lanes) if claim else 0
        marks = self.ledger.waiting()
        if free <= 0 and not marks:
            return
        cap = min(FOLLOW_UP_LANES - self._follow_up_lanes, self._budget_left())
        untried = self.ledger.untried()
        lease = self.clock.now() + LEASE
        try:
            busy = list(self._lanes)
            items, slots, self._horizon = await asyncio.to_thread(
                self._claim, marks, untried, free, cap, lease, busy
            )
        except Exception:
            if free > 0:  # the commit may have been done: its rows are given back next time
                self.ledger.uncertain(lease)
            raise
        self.ledger.recorded(marks)
        self.ledger.given_back(untried)
        if not self.pacing.shared:
            slots = self.pacing.reserve(None, len(items))
        for item, slot in zip(items, slots, strict=True):
            live = item.priority == LIVE
            self._follow_up_lanes += 0 if live else 1
            task = asyncio.create_task(self._lane(item, slot), name=f"lane {item.chat_id}")
            self._lanes[item.chat_id] = task
            task.add_done_callback(functools.partial(self._done, item.chat_id, live))

    def _claim(
        self,
        marks: list[Sent],
        untried: Untried,
        free: int,
        cap: int,
        lease: datetime,
        busy: Collection[int],
    ) -> tuple[list[OutboxItem], list[float], float]:
        """One transaction: ``marks`` marked sent (so their chats' next rows can be claimed),
        ``untried`` rows given back (not those of ``busy`` chats, in hand), up to ``free``
        rows claimed until ``lease`` (at most ``cap`` follow-ups), and, for replicas sharing
        the budget, a slot for each: rows claimed first, by any replica, go first. Shared,
        no more rows than there are slots within ``HORIZON``; the last value returned: when
        that held rows back, in how many seconds there is room again (else 0)."""
        now = self.clock.now()
        held = 0.0
        with self.new_uow() as uow:
            record(uow, marks)
            give_back_untried(uow, untried, keep=busy)
            if self.pacing.shared and free > 0:
                room, held = self.pacing.room(uow)
                free = min(free, room)
                cap = min(cap, free)
            items = uow.outbox.claim(now, lease, free, live=True) if free > 0 else []
            spare = min(free - len(items), cap)
            if spare > 0:
                follow_ups = uow.outbox.claim(now, lease, spare, live=False)
                if self.followup_budget is not None:  # handed over now: counted now
                    self.followup_budget.take(len(follow_ups))
                items += follow_ups
            slots = self.pacing.reserve(uow, len(items)) if self.pacing.shared else []
            uow.commit()
        return items, slots, held

    def _budget_left(self) -> int:
        """How many follow-ups may be handed over now (``FOLLOWUP_RATE``)."""
        budget = self.followup_budget
        return LANES if budget is None else max(budget.available(), 0)

    def _done(self, chat_id: int, live: bool, lane: asyncio.Task[None]) -> None:
        if self._lanes.get(chat_id) is lane:  # (noted late: the next may have started)
            del self._lanes[chat_id]
        self._follow_up_lanes -= 0 if live else 1

    async def _lane(self, item: OutboxItem, slot: float) -> None:
        """Send ``item``, in its chat's turn; the chat is this lane's alone until it ends.
        Its next row is claimed by ``_fill`` like any other: first come, first served across
        chats, so a customer's first reply does not wait behind another's third."""
        try:
            await self._send(item, slot)
        except Exception as exc:  # the database failed: raised from ``send_due``
            self._lane_error = self._lane_error or exc
            self.ledger.unsent(item)  # given back by the next claim, unless it was sent

    async def _send(self, item: OutboxItem, slot: float) -> bool:
        """One claimed row, in its turn (``slot``: of the overall budget, reserved with the
        claim); True when done with (sent or given up)."""
        if self._stale(item):
            self.delivered += 1
            return True
        await self.pacing.wait_turn(item.chat_id, slot)
        if self._paused_until > self.clock.now():  # a 429 came while this one waited
            self.ledger.give_back(item)
            return False
        delivered = await self.deliver(item)
        if delivered:
            self.delivered += 1
        return delivered

    def _release(self, now: datetime) -> None:
        """Put back the rows a dead sender left ``sending`` (``ledger.release_left``): the
        only sender on the database does it at its first look alone."""
        first, self._released = not self._released, True
        if first or not self.sole:
            release_left(self.new_uow, now, sole=self.sole, keep=self._lanes, log=log)

    async def deliver(self, item: OutboxItem) -> bool:
        """One row; True when it is done with (sent or given up), False when it waits."""
        try:
            message_id = await call(self.bot, item, lambda: place_of(self.new_uow, item))
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            self._paused_until = self.clock.now() + timedelta(seconds=seconds)
            self.ledger.retry(item, f"{RETRY_AFTER} {seconds:g}", after=seconds, count=False)
            self.pacing.hold(self._paused_until)  # the other replicas wait too
            log.warning("Telegram asked to slow down: pausing sends for %.0f s", seconds)
            return False
        except Forbidden as exc:
            if item.chat_id == self.agent_chat_id:
                if self.agent_chat.refused(item, exc):
                    self.wake.set()  # the admins' notices are due now
                return False
            log.info("chat %s has blocked the bot: %s", item.chat_id, exc.message)
            with self.new_uow() as uow:
                uow.outbox.mark_failed(item.id, f"403 {exc.message}")
                uow.customers.mark_blocked(item.chat_id, True, self.clock.now())
                uow.outbox.cancel_for_chat(item.chat_id, "customer blocked the bot")
                uow.followups.cancel_for_chat(
                    item.chat_id, self.clock.now(), "customer blocked the bot"
                )
                uow.commit()
            return True
        except BadRequest as exc:
            return await self._bad_request(item, exc)
        except NetworkError as exc:  # includes TimedOut and the Bot API's 5xx
            self._outage += 1
            pause = min(MAX_BACKOFF, 2.0**self._outage)
            log.warning(
                "sending to chat %s failed (%s)%s; trying again in %.0f s",
                item.chat_id,
                exc.message,
                " after it went out: it may arrive twice" if may_have_arrived(exc) else "",
                pause,
            )
            self.ledger.retry(item, f"network: {exc.message}", after=pause, count=False)
            return False
        except TelegramError as exc:
            log.error("Telegram refused a message to chat %s: %s", item.chat_id, exc.message)
            self.ledger.fail(item, exc.message)
            return True
        self._outage = 0
        if item.chat_id == self.agent_chat_id:
            self.agent_chat.sent()
        self._mark_sent(item, message_id)
        return True

    def _restore_pause(self, now: datetime) -> None:
        """Take up a 429 pause that a stopped or killed process left in the outbox."""
        with self.new_uow() as uow:
            until = uow.outbox.paused_until(now)
        self._pause_restored = True
        if until is not None and until > self._paused_until:
            self._paused_until = until
            log.warning(
                "a 429 pause from before the restart lasts %.0f s more: sends wait for it",
                (until - now).total_seconds(),
            )

    def _stale(self, item: OutboxItem) -> bool:
        """Give the row up (logged, counted) if it waited longer than ``stale_after``.

        The team's notices are kept however old (a lost agent chat keeps them until the bot
        is back there): a late ticket card still matters, a late reply to a customer not.
        """
        if self.stale_after is None or item.chat_id == self.agent_chat_id:
            return False
        age = self.clock.now() - item.created_at
        if age <= self.stale_after:
            return False
        limit = f"{self.stale_after.total_seconds() / 3600:g} h"
        with self.new_uow() as uow:
            uow.outbox.mark_failed(item.id, f"stale: not sent within {limit}")
            uow.commit()
        self.stale += 1
        log.warning(
            "gave up a message to chat %s: not sent within %s of being queued (last error: %s)",
            item.chat_id,
            limit,
            item.error or "none",
        )
        return True

    async def _bad_request(self, item: OutboxItem, exc: BadRequest) -> bool:
        refusal = bad_request(item, exc)
        if refusal is Refusal.DONE:
            self._mark_sent(item, None)
            return True
        if refusal is Refusal.PLAIN:
            return await self._send_plain(item)
        self.ledger.fail(item, f"400 {exc.message}")
        return True

    async def _send_plain(self, item: OutboxItem) -> bool:
        try:
            place = place_of(self.new_uow, item)
            sent = await self.bot.send_message(
                chat_id=item.chat_id,
                text=plain(item.text),
                reply_markup=keyboard(item),
                message_thread_id=place.thread_id,
                reply_parameters=place.reply,
            )
        except (RetryAfter, NetworkError) as exc:  # passing: the next try starts over
            self.ledger.retry(item, f"plain retry: {exc}", after=min(MAX_BACKOFF, 2.0), count=False)
            return False
        except TelegramError as exc:
            self.ledger.fail(item, f"plain retry failed: {exc.message}")
            return True
        self._mark_sent(item, sent.message_id)
        return True

    def _mark_sent(self, item: OutboxItem, result: int | None) -> None:
        """A delivered row: marked sent with the next claim (``bot.telegram.ledger``)."""
        self.ledger.sent(item, result)
        self.sent += 1
        self.latency_sum += max((self.clock.now() - item.created_at).total_seconds(), 0.0)
