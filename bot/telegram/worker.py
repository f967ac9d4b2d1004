"""Handles stored updates in ``update_id`` order: one unit of work per update.

The flows' effects go to the outbox in the same transaction that marks the update done,
so an update is either fully handled (state, ticket, replies) or not at all and handled
again. A bug while handling one update answers the customer with an apology instead of
silence, and never stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from telegram import Bot, Update
from telegram.error import TelegramError

from bot.clock import Clock
from bot.delivery import store_effects
from bot.storage import SEND, InboxItem, OutgoingMessage, UnitOfWorkFactory
from bot.telegram.updates import MembershipChange, callback_to_answer, to_event
from flows.engine import Conversations
from knowledge.responses import Responses, Say

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        *,
        bot: Bot,
        new_uow: UnitOfWorkFactory,
        conversations: Conversations,
        responses: Responses,
        clock: Clock,
        agent_chat_id: int | None,
        on_outbox: asyncio.Event,
    ):
        self.bot = bot
        self.new_uow = new_uow
        self.conversations = conversations
        self.responses = responses
        self.clock = clock
        self.agent_chat_id = agent_chat_id
        self.on_outbox = on_outbox
        self.wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.drain()
            except Exception:  # the database may be down: keep the update, try again
                log.exception("handling stored updates failed; retrying shortly")
                await asyncio.sleep(2.0)
                continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=5.0)

    async def drain(self) -> int:
        """Handle every stored update not handled yet; returns how many."""
        done = 0
        while True:
            with self.new_uow() as uow:
                items = uow.inbox.pending(50)
            if not items:
                return done
            for item in items:
                await self.handle(item)
                done += 1
            self.on_outbox.set()

    async def handle(self, item: InboxItem) -> None:
        try:
            update = Update.de_json(json.loads(item.payload), self.bot)
        except Exception as exc:  # not an update we can read: keep it, do not retry it
            log.exception("stored update %s cannot be read", item.update_id)
            self._apologise(item, None, exc)
            return
        answer = callback_to_answer(update)
        if answer is not None:  # first, so the button stops spinning at once
            try:
                await self.bot.answer_callback_query(answer.query_id)
            except TelegramError as exc:  # too old after a restart: harmless
                log.info("answerCallbackQuery failed: %s", exc)
        try:
            self._handle(item, update)
        except Exception as exc:
            log.exception("handling update %s failed", item.update_id)
            self._apologise(item, update, exc)

    def _handle(self, item: InboxItem, update: Update) -> None:
        event = to_event(update, self.bot.username)
        now = self.clock.now()
        with self.new_uow() as uow:
            if isinstance(event, MembershipChange):
                uow.customers.mark_blocked(event.chat_id, event.blocked, now)
                if event.blocked:
                    uow.outbox.cancel_for_chat(event.chat_id, "customer blocked the bot")
            elif event is not None:
                effects = self.conversations.handle(uow, event)
                store_effects(uow, effects, agent_chat_id=self.agent_chat_id, at=now)
            uow.inbox.mark_done(item.update_id, now)
            uow.commit()

    def _apologise(self, item: InboxItem, update: Update | None, exc: Exception) -> None:
        chat = update.effective_chat if update is not None else None
        with self.new_uow() as uow:
            uow.inbox.mark_done(item.update_id, self.clock.now(), error=repr(exc)[:500])
            if chat is not None and chat.type == "private":
                text = self.responses.text(Say.SOMETHING_WENT_WRONG)
                uow.outbox.add(OutgoingMessage(chat.id, SEND, text), self.clock.now())
            uow.commit()
