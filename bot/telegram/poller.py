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

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.clock import Clock
from bot.storage import UnitOfWorkFactory

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


class Poller:
    def __init__(
        self,
        *,
        bot: Bot,
        new_uow: UnitOfWorkFactory,
        clock: Clock,
        on_stored: asyncio.Event,
        timeout: int = 25,
    ):
        self.bot = bot
        self.new_uow = new_uow
        self.clock = clock
        self.on_stored = on_stored
        self.timeout = timeout

    async def run(self, stop: asyncio.Event) -> None:
        with self.new_uow() as uow:
            last = uow.inbox.last_update_id()
        offset = last + 1 if last is not None else None
        failures = 0
        while not stop.is_set():
            started = asyncio.get_running_loop().time()
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=self.timeout, allowed_updates=ALLOWED_UPDATES
                )
            except RetryAfter as exc:
                await _sleep(stop, _seconds(exc.retry_after))
                continue
            except Conflict:
                log.warning("another getUpdates or a webhook is active; removing the webhook")
                await self._drop_webhook()
                failures += 1
                await _sleep(stop, min(30.0, 2.0**failures))
                continue
            except InvalidToken:
                raise
            except (NetworkError, TelegramError) as exc:
                failures += 1
                log.warning("getUpdates failed (%s); retrying", exc)
                await _sleep(stop, min(30.0, 2.0**failures))
                continue
            failures = 0
            if not updates:
                # a server that does not long-poll answers at once: do not spin on it
                if asyncio.get_running_loop().time() - started < 0.5:
                    await _sleep(stop, 0.5)
                continue
            stored = await self._store(updates, stop)
            if stored is None:
                return
            offset = stored + 1
            self.on_stored.set()

    async def _store(self, updates: tuple[Update, ...], stop: asyncio.Event) -> int | None:
        """Store the batch; retried until it works, as the offset must not move before."""
        while True:
            try:
                with self.new_uow() as uow:
                    for update in updates:
                        payload = json.dumps(update.to_dict(), ensure_ascii=False)
                        uow.inbox.add(update.update_id, payload, self.clock.now())
                    uow.commit()
                return max(u.update_id for u in updates)
            except Exception:
                log.exception("could not store updates; retrying before confirming them")
                if await _sleep(stop, 2.0):
                    return None

    async def _drop_webhook(self) -> None:
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except TelegramError as exc:
            log.warning("deleteWebhook failed: %s", exc)


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]


async def _sleep(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep, or return early (True) when ``stop`` is set."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True
