"""Long polling that never loses an update: store first, confirm after.

Telegram forgets an update once a later ``getUpdates`` passes an offset beyond it. This
poller writes every update of a batch to the ``inbox`` (a duplicate ``update_id`` is
dropped by the table's key) and commits before it asks for the next batch, so an update
is confirmed only once it is stored. python-telegram-bot's own Updater confirms before
its handlers finish, which is why it is not used here.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.clock import Clock
from bot.logs import brief
from bot.storage import PollerLock, UnitOfWorkFactory, is_temporary
from bot.telegram.timing import backoff, sleep

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
STANDBY = 5.0  # seconds between a standby replica's tries to take over polling


class Poller:
    def __init__(
        self,
        *,
        bot: Bot,
        new_uow: UnitOfWorkFactory,
        clock: Clock,
        on_stored: asyncio.Event,
        timeout: int = 25,
        lock: PollerLock | None = None,  # several replicas: the one holding it polls
    ):
        self.bot = bot
        self.new_uow = new_uow
        self.clock = clock
        self.on_stored = on_stored
        self.timeout = timeout
        self.stored = 0  # new updates stored since start (``/metrics``)
        self.lock = lock
        self.polling = lock is None  # whether this replica is the one polling (``/metrics``)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop``; with several replicas, only while holding the lock (the
        others stand by and one takes over within ``STANDBY`` seconds of its holder's end)."""
        await self._no_webhook()
        while not stop.is_set():
            if not await self._lead(stop):
                return
            await self._poll(stop)
            self.polling = self.lock is None

    async def _lead(self, stop: asyncio.Event) -> bool:
        """Wait until this replica holds the poller lock; False if ``stop`` came first."""
        if self.lock is None:
            return True
        said = False
        failures = 0
        while not stop.is_set():
            try:  # in a thread, as ``held`` below: a stalled database holds up this task only
                if await asyncio.to_thread(self.lock.acquire):
                    log.info("this replica polls Telegram for updates")
                    self.polling = True
                    return True
                failures = 0
                if not said:
                    log.info("another replica polls Telegram; this one stands by to take over")
                    said = True
                pause = STANDBY
            except Exception as exc:
                if not is_temporary(exc):
                    raise
                failures += 1
                pause = backoff(failures, most=STANDBY)
                log.warning("the database is unavailable (%s); waiting to poll", brief(exc))
            await sleep(stop, pause)
        return False

    async def _poll(self, stop: asyncio.Event) -> None:
        """Store and confirm updates until ``stop``, or until the lock is lost."""
        offset = await self._first_offset(stop)
        failures = 0
        while not stop.is_set():
            if self.lock is not None and not await asyncio.to_thread(self.lock.held):
                log.warning("lost the poller lock (its database connection); standing by")
                return
            started = asyncio.get_running_loop().time()
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=self.timeout, allowed_updates=ALLOWED_UPDATES
                )
            except RetryAfter as exc:
                await sleep(stop, _seconds(exc.retry_after))
                continue
            except Conflict:
                log.warning("another getUpdates or a webhook is active; removing the webhook")
                await self._drop_webhook()
                failures += 1
                await sleep(stop, min(30.0, 2.0**failures))
                continue
            except InvalidToken:
                raise
            except (NetworkError, TelegramError) as exc:
                failures += 1
                log.warning("getUpdates failed (%s); retrying", exc)
                await sleep(stop, min(30.0, 2.0**failures))
                continue
            failures = 0
            if not updates:
                # a server that does not long-poll answers at once: do not spin on it
                if asyncio.get_running_loop().time() - started < 0.5:
                    await sleep(stop, 0.5)
                continue
            stored = await self._store(updates, stop)
            if stored is None:
                return
            offset = stored + 1
            self.on_stored.set()

    async def _first_offset(self, stop: asyncio.Event) -> int | None:
        """Where the stored updates end: ask Telegram only for those after it."""
        failures = 0
        while not stop.is_set():
            try:
                with self.new_uow() as uow:
                    last = uow.inbox.last_update_id()
                return last + 1 if last is not None else None
            except Exception as exc:
                if not is_temporary(exc):
                    raise
                failures += 1
                log.warning("the database is unavailable (%s); waiting to poll", brief(exc))
                await sleep(stop, backoff(failures))
        return None

    async def _store(self, updates: tuple[Update, ...], stop: asyncio.Event) -> int | None:
        """Store the batch; retried until it works, as the offset must not move before.

        After a failure the updates are stored one per transaction, so a flaky database
        that lets short transactions through still takes the batch.
        """
        failures = 0
        pieces = [list(updates)]
        while True:
            try:
                while pieces:
                    # in a thread: the event loop (the sender's lanes) goes on meanwhile
                    self.stored += await asyncio.to_thread(self._store_piece, pieces[0])
                    pieces.pop(0)
                    failures = 0
                return max(u.update_id for u in updates)
            except Exception as exc:
                failures += 1
                pieces = [[update] for piece in pieces for update in piece]
                pause = backoff(failures, most=5.0)
                if is_temporary(exc):
                    log.warning(
                        "the database is unavailable (%s); storing the updates again in %.1f s"
                        " before confirming them",
                        brief(exc),
                        pause,
                    )
                else:
                    log.exception("could not store updates; retrying before confirming them")
                if await sleep(stop, pause):
                    return None

    def _store_piece(self, updates: list[Update]) -> int:
        """Store ``updates`` in one transaction; returns how many were new."""
        added = 0
        with self.new_uow() as uow:
            for update in updates:
                payload = json.dumps(update.to_dict(), ensure_ascii=False)
                chat = update.effective_chat
                chat_id = chat.id if chat is not None else None
                added += uow.inbox.add(update.update_id, payload, self.clock.now(), chat_id)
            uow.commit()
        return added

    async def _no_webhook(self) -> None:
        """getUpdates is refused while a webhook is set (left by webhook mode, say): remove it
        first, rather than meet a 409 and wait."""
        try:
            info = await self.bot.get_webhook_info()
        except TelegramError as exc:  # the 409 handling below still removes it
            log.warning("getWebhookInfo failed: %s", exc)
            return
        if info.url:
            log.warning("a webhook is set; removing it to poll (WEBHOOK_URL is not set)")
            await self._drop_webhook()

    async def _drop_webhook(self) -> None:
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except TelegramError as exc:
            log.warning("deleteWebhook failed: %s", exc)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
