"""Handles stored updates in ``update_id`` order: one unit of work per update.

Several replicas may share the inbox: each update is claimed in the transaction that
handles it (``SqlInbox.claim``), so one chat's updates are handled one at a time and in
order, whichever replica took them; an update another replica holds is left to it.

The flows' effects go to the outbox in the same transaction that marks the update done,
so an update is either fully handled (state, ticket, replies) or not at all and handled
again. Two kinds of failure, treated differently:

- a passing one (the database dropped a connection, restarted, was locked too long): the
  update stays in the inbox untouched and the worker tries again with backoff, for as long
  as it takes; nothing is counted against the update and nobody is told anything;
- a conflict (another replica changed the same rows first, PostgreSQL): handled again at
  once, as if it had never been tried;
- a bug (anything else): the update is tried again a few times with backoff, while other
  chats go on (later updates of the same chat wait, to keep its order); if it still fails
  it is set aside with the error, logged at ERROR, and the customer gets an apology.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Collection
from datetime import timedelta
from typing import Protocol

from telegram import Bot, Update
from telegram.error import TelegramError

from bot import admin as admin_commands
from bot.admin import Admin
from bot.clock import Clock
from bot.delivery import store_effects
from bot.logs import brief
from bot.storage import (
    InboxItem,
    MessageKind,
    OutgoingMessage,
    UnitOfWorkFactory,
    is_conflict,
    is_temporary,
)
from bot.telegram.timing import keep_going
from bot.telegram.updates import MembershipChange, callback_to_answer, to_event
from flows.model import Effect, Inbound, TeamMessage
from flows.ports import Repositories
from knowledge.responses import Responses, Say

log = logging.getLogger(__name__)

MAX_TRIES = 3  # an update that fails this often with a bug is set aside
BUG_RETRY_AFTER = (2.0, 10.0)  # seconds before the 2nd and the 3rd try
IDLE = 5.0  # seconds between looks at the inbox when nothing wakes the worker
BATCH = 50
WAKE_EVERY = 10  # updates handled in one trip between wake-ups of the sender
SOON = (0.02, 0.05, 0.1, 0.2)  # pauses before an update is tried again after a passing failure
CONTENDED = 0.2  # seconds before looking again when other replicas held every update due
_TAKEN = object()  # another replica holds the update, or its chat's earlier one waits


class FlowEngine(Protocol):
    """What the worker runs each update through (``flows.engine.Conversations``)."""

    def handle(self, repos: Repositories, event: Inbound) -> list[Effect]: ...


class DeskEngine(Protocol):
    """What the worker runs the team's messages through (``flows.desk.Desk``)."""

    def handle(self, repos: Repositories, event: TeamMessage) -> list[Effect]: ...


class Worker:
    def __init__(
        self,
        *,
        bot: Bot,
        new_uow: UnitOfWorkFactory,
        conversations: FlowEngine,
        desk: DeskEngine | None = None,
        responses: Responses,
        clock: Clock,
        agent_chat_id: int | None,
        on_outbox: asyncio.Event,
        admin: Admin | None = None,
        admin_ids: Collection[int] = (),  # told of an update set aside (``ADMIN_IDS``)
        settle: float = 0.0,  # webhook mode: seconds an update waits for a missing predecessor
    ):
        self.bot = bot
        self.new_uow = new_uow
        self.conversations = conversations
        self.desk = desk
        self.responses = responses
        self.clock = clock
        self.agent_chat_id = agent_chat_id
        self.on_outbox = on_outbox
        self.admin = admin  # /stats, /unmatched, /reload (bot.admin)
        self.admin_ids = tuple(admin_ids)
        self.settle = settle
        self.wake = asyncio.Event()
        self._answered: set[int] = set()  # button presses already acknowledged to Telegram
        self._retry_in: float | None = None  # seconds until an update waiting to retry is due
        self._contended = False  # an update was left to another replica in this pass
        self.finished = 0  # updates finished since start
        self.set_aside = 0  # of those, set aside after failing with a bug

    async def run(self, stop: asyncio.Event) -> None:
        await keep_going(
            stop,
            self.wake,
            self._pass,
            progress=lambda: self.finished,
            kept="the updates stay stored",
            log=log,
        )

    async def _pass(self) -> float:
        """Handle what is due; returns how long to nap before looking again."""
        await self.drain()
        return IDLE if self._retry_in is None else min(IDLE, self._retry_in)

    async def drain(self) -> int:
        """Handle every stored update that is due; returns how many were finished.

        A passing database failure propagates (the update stays stored for the next try).
        """
        done = 0
        try:
            while True:
                self._contended = False
                now = self.clock.now()
                settled = now - timedelta(seconds=self.settle) if self.settle else None
                with self.new_uow() as uow:
                    items = uow.inbox.pending(BATCH, now=now, settled_before=settled)
                    if not items:
                        due = uow.inbox.next_due_at(now)
                        self._retry_in = None if due is None else (due - now).total_seconds()
                        if settled is not None and uow.inbox.count_pending():
                            self._retry_in = self.settle  # (one waits for its predecessor)
                        return done
                # most of them in one trip; ``waiting``: chats to leave alone in this pass
                # (another replica holds one of their updates, or an earlier one will be retried)
                finished, stopped, waiting = await self._handle_run(items)
                self.finished += finished
                for item in items[stopped:]:
                    if item.chat_id is not None and item.chat_id in waiting:
                        continue
                    if await self._handle_soon(item):
                        finished += 1
                        self.finished += 1
                        self.on_outbox.set()
                    elif item.chat_id is not None:
                        waiting.add(item.chat_id)
                    await asyncio.sleep(0)  # the sender's lanes send what this one queued
                done += finished
                if not finished and self._contended:
                    self._retry_in = CONTENDED  # other replicas have them: look again soon
                    return done
        finally:
            if done:
                self.on_outbox.set()

    async def _handle_run(self, items: list[InboxItem]) -> tuple[int, int, set[int]]:
        """Handle ``items`` in order in one trip to a thread, each in its own transaction,
        until one is not simply finished (it failed, it is a button press still to answer):
        that one and the rest are left to ``handle``, one at a time, which knows what to do.
        Returns how many were finished, where the run stopped, and the chats it passed
        over because another replica holds one of their updates (their later ones wait).

        One trip for many: with a trip per update, the thread and the event loop took turns
        at the GIL for every update (py-spy: the worker's threads spent half their time
        handing results back); 500 updates drained alone went from 286 to 332 a second, CPU
        from 3.5 to 3.0 ms an update (medians of three, the same run)."""
        loop = asyncio.get_running_loop()
        taken: set[int] = set()
        finished = 0
        request: object = None

        def run() -> int:
            nonlocal finished, request
            for index, item in enumerate(items):
                if item.chat_id in taken:
                    continue
                try:
                    update = Update.de_json(json.loads(item.payload), self.bot)
                    if callback_to_answer(update) is not None:
                        return index  # answered first, from the event loop
                    request = self._handle(item, update)
                except Exception:  # ``handle`` tries it again and tells what it was
                    return index
                if request is _TAKEN:
                    self._contended = True
                    if item.chat_id is not None:
                        taken.add(item.chat_id)
                    continue
                finished += 1
                if finished % WAKE_EVERY == 0:
                    loop.call_soon_threadsafe(self.on_outbox.set)
                if isinstance(request, admin_commands.Request):
                    return index + 1
            return len(items)

        stopped = await asyncio.to_thread(run)
        if isinstance(request, admin_commands.Request) and self.admin is not None:
            self.admin.start(request)  # committed: now it may run
        if finished:
            self.on_outbox.set()
        return finished, stopped, taken

    async def _handle_soon(self, item: InboxItem) -> bool:
        """``handle``, tried again at once (after a few milliseconds) when the database
        fails in passing: a flaky database that lets short work through lets this update
        through too, without the pause of a failed pass. A database that keeps failing is
        left to ``keep_going``'s backoff."""
        for pause in SOON:
            try:
                return await self.handle(item)
            except Exception as exc:
                if not is_temporary(exc):
                    raise
                await asyncio.sleep(pause)
        return await self.handle(item)

    async def handle(self, item: InboxItem) -> bool:
        """Handle one update; True when finished with it, False when it will be retried."""
        try:
            update = Update.de_json(json.loads(item.payload), self.bot)
        except Exception as exc:  # not an update we can read: retrying will not help
            log.error("stored update %s cannot be read (%s); setting it aside", item.update_id, exc)
            self._set_aside(item, None, exc)
            return True
        await self._answer_button(item, update)
        try:
            # in a thread: the event loop stays free for the sender's lanes and their pace
            request = await asyncio.to_thread(self._handle, item, update)
        except Exception as exc:
            if is_conflict(exc):  # another replica changed the same rows: handle it again
                log.info("update %s met a concurrent change; handling it again", item.update_id)
                self._contended = True
                return False
            if is_temporary(exc):
                raise
            return self._failed(item, update, exc)
        if request is _TAKEN:
            self._contended = True
            return False
        self._answered.discard(item.update_id)
        if isinstance(request, admin_commands.Request) and self.admin is not None:
            self.admin.start(request)  # committed: now it may run
        return True

    async def _answer_button(self, item: InboxItem, update: Update) -> None:
        """``answerCallbackQuery`` first, so the button stops spinning at once; only once."""
        answer = callback_to_answer(update)
        if answer is None or item.update_id in self._answered or item.attempts > 0:
            return
        self._answered.add(item.update_id)
        try:
            await self.bot.answer_callback_query(answer.query_id)
        except TelegramError as exc:  # too old after a restart: harmless
            log.info("answerCallbackQuery failed: %s", exc)

    def _handle(self, item: InboxItem, update: Update) -> admin_commands.Request | object | None:
        """Handle the update in one transaction; an admin's command to run after it, or
        ``_TAKEN`` when it is not this worker's to handle now."""
        event = to_event(update, self.bot.username, self.agent_chat_id)
        now = self.clock.now()
        request = admin_commands.request_for(event) if self.admin is not None else None
        with self.new_uow() as uow:
            uow.repeatable_read()
            if not uow.inbox.claim(item):
                return _TAKEN
            if request is not None and self.admin is not None:
                if not self.admin.accept(uow, request):
                    request = None
            elif isinstance(event, TeamMessage):
                if self.desk is not None:
                    effects = self.desk.handle(uow, event)
                    store_effects(
                        uow,
                        effects,
                        agent_chat_id=self.agent_chat_id,
                        at=now,
                        update_id=item.update_id,
                    )
            elif isinstance(event, MembershipChange):
                uow.customers.mark_blocked(event.chat_id, event.blocked, now)
                if event.blocked:
                    uow.outbox.cancel_for_chat(event.chat_id, "customer blocked the bot")
                    uow.followups.cancel_for_chat(event.chat_id, now, "customer blocked the bot")
            elif event is not None:
                effects = self.conversations.handle(uow, event)
                store_effects(
                    uow, effects, agent_chat_id=self.agent_chat_id, at=now, update_id=item.update_id
                )
            uow.inbox.mark_done(item.update_id, now)
            uow.commit()
        return request

    def _failed(self, item: InboxItem, update: Update, exc: Exception) -> bool:
        """A bug: retry after a pause, or after ``MAX_TRIES`` set the update aside."""
        tries = item.attempts + 1
        if tries >= MAX_TRIES:
            log.error(
                "handling update %s failed %d times; setting it aside",
                item.update_id,
                tries,
                exc_info=exc,
            )
            self._set_aside(item, update, exc)
            return True
        pause = BUG_RETRY_AFTER[min(tries, len(BUG_RETRY_AFTER)) - 1]
        log.warning(
            "handling update %s failed (%s); trying again in %.0f s",
            item.update_id,
            brief(exc),
            pause,
            exc_info=exc,
        )
        with self.new_uow() as uow:
            at = self.clock.now() + timedelta(seconds=pause)
            uow.inbox.mark_retry(item.update_id, at, repr(exc)[:500])
            uow.commit()
        return False

    def _set_aside(self, item: InboxItem, update: Update | None, exc: Exception) -> None:
        """Mark the update done with its error; each admin (``ADMIN_IDS``) gets a private
        notice, and a customer in a private chat an apology that says the team was told
        only when somebody was."""
        self._answered.discard(item.update_id)
        chat = update.effective_chat if update is not None else None
        now = self.clock.now()
        with self.new_uow() as uow:
            uow.inbox.mark_done(item.update_id, now, error=repr(exc)[:500])
            notice = self.responses.text(
                Say.ADMIN_UPDATE_SET_ASIDE,
                update=item.update_id,
                chat=item.chat_id if item.chat_id is not None else "-",
                error=brief(exc)[:300],
            )
            for admin in self.admin_ids:
                uow.outbox.add(OutgoingMessage(admin, MessageKind.SEND, notice), now)
            if chat is not None and chat.type == "private":
                told = self.admin_ids  # the team was told only when there was an admin to tell
                say = Say.SOMETHING_WENT_WRONG_TEAM_TOLD if told else Say.SOMETHING_WENT_WRONG
                text = self.responses.text(say)
                # in the customer's turn, among the replies to updates that came before
                apology = OutgoingMessage(chat.id, MessageKind.SEND, text, update_id=item.update_id)
                uow.outbox.add(apology, now)
            uow.commit()
        self.set_aside += 1
