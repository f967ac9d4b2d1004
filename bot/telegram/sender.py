"""Delivers the outbox through the Bot API: in order per chat, retried, never lost.

Network errors and timeouts are retried with backoff; a 429 pauses all sending for its
``retry_after``; a 403 (the customer blocked the bot) marks the customer and cancels what
was queued for them; other 400s are logged and given up. Rows are marked in the database
after each call, so a restart carries on where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.clock import Clock
from bot.storage import CLEAR_BUTTONS, OutboxItem, UnitOfWorkFactory
from bot.telegram.rendering import keyboard, plain, split_html

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_BACKOFF = 300.0


class Sender:
    def __init__(self, *, bot: Bot, new_uow: UnitOfWorkFactory, clock: Clock, batch: int = 100):
        self.bot = bot
        self.new_uow = new_uow
        self.clock = clock
        self.batch = batch
        self.wake = asyncio.Event()
        self._paused_until = clock.now()
        self._gone: set[int] = set()  # chats that blocked the bot during this pass

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; sleeps until woken or the next retry falls due."""
        while not stop.is_set():
            try:
                delay = await self.send_due()
            except Exception:  # the database may be down: log, wait, try again
                log.exception("sending the outbox failed; retrying shortly")
                delay = 5.0
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=delay)

    async def send_due(self) -> float:
        """Send every row that is due; returns how long to sleep before looking again."""
        now = self.clock.now()
        if self._paused_until > now:
            return (self._paused_until - now).total_seconds()
        with self.new_uow() as uow:
            items = uow.outbox.pending(self.batch)
        waiting: set[int] = set()  # chats with an earlier row not yet due: keep their order
        self._gone.clear()
        next_due = 1.0 if len(items) < self.batch else 0.0
        for item in items:
            if item.chat_id in waiting:
                continue
            now = self.clock.now()
            if item.next_attempt_at is not None and item.next_attempt_at > now:
                waiting.add(item.chat_id)
                next_due = min(next_due, (item.next_attempt_at - now).total_seconds())
                continue
            if not await self.deliver(item) or item.chat_id in self._gone:
                waiting.add(item.chat_id)
                if self._paused_until > self.clock.now():
                    return (self._paused_until - self.clock.now()).total_seconds()
        return max(next_due, 0.05)

    async def deliver(self, item: OutboxItem) -> bool:
        """One row; True when it is done with (sent or given up), False when it waits."""
        try:
            message_id = await self._call(item)
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            self._paused_until = self.clock.now() + timedelta(seconds=seconds)
            log.warning("Telegram asked to slow down: pausing sends for %.0f s", seconds)
            self._retry(item, f"429 retry after {seconds}", at_least=seconds)
            return False
        except Forbidden as exc:
            log.info("chat %s has blocked the bot: %s", item.chat_id, exc.message)
            self._gone.add(item.chat_id)
            with self.new_uow() as uow:
                uow.outbox.mark_failed(item.id, f"403 {exc.message}")
                uow.customers.mark_blocked(item.chat_id, True, self.clock.now())
                uow.outbox.cancel_for_chat(item.chat_id, "customer blocked the bot")
                uow.commit()
            return True
        except BadRequest as exc:
            return await self._bad_request(item, exc)
        except NetworkError as exc:  # includes TimedOut
            log.warning("sending to chat %s failed (%s); will retry", item.chat_id, exc.message)
            self._retry(item, f"network: {exc.message}")
            return False
        except TelegramError as exc:
            log.error("Telegram refused a message to chat %s: %s", item.chat_id, exc.message)
            self._fail(item, exc.message)
            return True
        with self.new_uow() as uow:
            uow.outbox.mark_sent(item.id, self.clock.now(), message_id)
            uow.commit()
        return True

    async def _call(self, item: OutboxItem) -> int | None:
        if item.kind == CLEAR_BUTTONS:
            if item.target_message_id is None:
                return None
            await self.bot.edit_message_reply_markup(
                chat_id=item.chat_id, message_id=item.target_message_id, reply_markup=None
            )
            return None
        chunks = split_html(item.text)
        message_id = None
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            sent = await self.bot.send_message(
                chat_id=item.chat_id,
                text=chunk,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(item) if last else None,
                message_thread_id=item.message_thread_id,
                disable_web_page_preview=True,
            )
            message_id = sent.message_id
        return message_id

    async def _bad_request(self, item: OutboxItem, exc: BadRequest) -> bool:
        text = exc.message.lower()
        if item.kind == CLEAR_BUTTONS and (
            "not modified" in text or "not found" in text or "can't be edited" in text
        ):
            with self.new_uow() as uow:  # nothing left to clear: fine
                uow.outbox.mark_sent(item.id, self.clock.now(), None)
                uow.commit()
            return True
        if "can't parse entities" in text and item.text:
            log.error("message to chat %s did not parse; sending it as plain text", item.chat_id)
            await self._send_plain(item)
            return True
        log.error("Telegram refused a message to chat %s: %s", item.chat_id, exc.message)
        self._fail(item, f"400 {exc.message}")
        return True

    async def _send_plain(self, item: OutboxItem) -> None:
        try:
            sent = await self.bot.send_message(chat_id=item.chat_id, text=plain(item.text)[:4096])
        except TelegramError as exc:
            self._fail(item, f"plain retry failed: {exc.message}")
            return
        with self.new_uow() as uow:
            uow.outbox.mark_sent(item.id, self.clock.now(), sent.message_id)
            uow.commit()

    def _retry(self, item: OutboxItem, error: str, at_least: float = 0.0) -> None:
        if item.attempts + 1 >= MAX_ATTEMPTS:
            self._fail(item, f"gave up after {MAX_ATTEMPTS} attempts: {error}")
            return
        backoff = max(at_least, min(MAX_BACKOFF, 2.0 ** (item.attempts + 1)))
        with self.new_uow() as uow:
            uow.outbox.mark_retry(item.id, self.clock.now() + timedelta(seconds=backoff), error)
            uow.commit()

    def _fail(self, item: OutboxItem, error: str) -> None:
        with self.new_uow() as uow:
            uow.outbox.mark_failed(item.id, error[:500])
            uow.commit()
