"""The Telegram channel: builds the Bot API client and runs poller, worker and sender, and
the follow-up dispatcher (``bot.followups``) on the same event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Collection
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.admin import Admin
from bot.clock import Clock
from bot.followups import FollowUpDispatcher, FollowUpFlow
from bot.settings import TELEGRAM_API
from bot.storage import PollerLock, UnitOfWorkFactory
from bot.telegram import doctor
from bot.telegram.menus import set_menus
from bot.telegram.metrics import BotApiCounts, CountingRequest, Metric, Sending, counters
from bot.telegram.poller import ALLOWED_UPDATES, Poller
from bot.telegram.sender import LANES, Sender
from bot.telegram.timing import backoff, sleep
from bot.telegram.webhook import OpsServer, Webhook
from bot.telegram.worker import DeskEngine, Worker
from flows.engine import Conversations
from knowledge.responses import Responses

log = logging.getLogger(__name__)


class Reloadable(Protocol):
    async def refresh(self, *, wait: bool = False) -> bool: ...  # bot.reload.KnowledgeWatch


class ChannelError(Exception):
    """The Telegram channel cannot start; the message says why, for the operator."""


class _RetriedBySender(logging.Filter):
    """Drops PTB's ERROR (with traceback) for a 429 that its limiter passes on: the sender
    retries it and logs one WARNING with ``retry_after`` (a 429 is routine, not a bug)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Rate limit hit after maximum of")


_LIMITER_LOG = logging.getLogger("telegram.ext.AIORateLimiter")


def build_bot(token: str, base_url: str, base_file_url: str) -> ExtBot[Any]:
    if not any(isinstance(f, _RetriedBySender) for f in _LIMITER_LOG.filters):
        _LIMITER_LOG.addFilter(_RetriedBySender())
    return ExtBot(
        token,
        base_url=base_url,
        base_file_url=base_file_url,
        rate_limiter=AIORateLimiter(max_retries=0),  # 429s are retried by the sender
        request=CountingRequest(  # a connection for each of the sender's lanes
            BotApiCounts(), connection_pool_size=LANES, connect_timeout=10, read_timeout=20
        ),
        get_updates_request=HTTPXRequest(connect_timeout=10, read_timeout=40),
    )


WEBHOOK_SETTLE = 0.5  # seconds an update waits for its predecessor to be posted (webhook)
FLUSH = 5.0  # seconds the sender goes on after a stop with what the last updates queued
CONNECT_FIRST = 1.0  # seconds before the second try to reach the Bot API at start
CONNECT_MOST = 60.0  # the longest wait between tries


async def connect(
    bot: ExtBot[Any],
    stop: asyncio.Event,
    *,
    first: float = CONNECT_FIRST,
    most: float = CONNECT_MOST,
) -> bool:
    """Reach the Bot API (``getMe``), trying for as long as it takes; False if ``stop`` came
    first. An unreachable Bot API (a network error, its 5xx) is tried again after a doubling
    wait capped at ``most``, one log line per try; a refused token stops at once
    (``ChannelError``): waiting would not mend it."""
    failures = 0
    while not stop.is_set():
        try:
            await bot.initialize()
            return True
        except InvalidToken:
            raise ChannelError(
                "TELEGRAM_BOT_TOKEN was refused by the Bot API: check the token from"
                " @BotFather (and TELEGRAM_BASE_URL)."
            ) from None
        except NetworkError as exc:
            failures += 1
            pause = backoff(failures, first=first, most=most)
            log.warning(
                "cannot reach the Bot API (%s); try %d failed, trying again in %.0f s",
                exc.message,
                failures,
                pause,
            )
            await sleep(stop, pause)
    return False


class TelegramChannel:
    def __init__(
        self,
        *,
        bot: ExtBot[Any],
        new_uow: UnitOfWorkFactory,
        conversations: Conversations,
        desk: DeskEngine | None = None,
        responses: Responses,
        clock: Clock,
        agent_chat_id: int | None,
        admin_ids: Collection[int] = (),
        poll_timeout: int = 25,
        knowledge_watch: Reloadable | None = None,
        escalation: bool = True,
        base_url: str = TELEGRAM_API,
        followups: FollowUpFlow | None = None,
        followup_rate: float = 10.0,
        send_stale_after: timedelta | None = None,
        send_rate: float = 30.0,
        sole_sender: bool = False,
        poller_lock: PollerLock | None = None,
        followup_lease: timedelta = timedelta(seconds=60),
        hang_after_claim: bool = False,
        admin: Admin | None = None,
        webhook_url: str = "",
        webhook_secret: str | None = None,
        listen: tuple[str, int] | None = None,
    ):
        """``webhook_url`` set: webhook mode, served on ``listen`` (host, port); else long
        polling, with ``/healthz`` and ``/metrics`` on ``listen`` when it is given."""
        self.bot = bot
        self.conversations = conversations
        self.knowledge_watch = knowledge_watch
        self.agent_chat_id = agent_chat_id
        self.escalation = escalation
        self.base_url = base_url
        self.admin_ids = tuple(admin_ids)
        self.sender = Sender(
            bot=bot,
            new_uow=new_uow,
            clock=clock,
            agent_chat_id=agent_chat_id,
            admin_ids=admin_ids,
            responses=responses,
            followup_rate=followup_rate,
            stale_after=send_stale_after,
            rate=send_rate,
            sole=sole_sender,
        )
        self.worker = Worker(
            bot=bot,
            new_uow=new_uow,
            conversations=conversations,
            desk=desk,
            responses=responses,
            clock=clock,
            agent_chat_id=agent_chat_id,
            on_outbox=self.sender.wake,
            admin=admin,
            admin_ids=admin_ids,
            # updates posted at once over several connections may be stored out of order
            settle=WEBHOOK_SETTLE if webhook_url else 0.0,
        )
        if admin is not None:
            admin.on_outbox = self.sender.wake
        self.dispatcher = (
            FollowUpDispatcher(
                new_uow=new_uow,
                flows=followups,
                clock=clock,
                agent_chat_id=agent_chat_id,
                rate=followup_rate,
                lease=followup_lease,
                on_outbox=self.sender.wake,
                hang_after_claim=hang_after_claim,
            )
            if followups is not None
            else None
        )
        self.poller = Poller(
            bot=bot,
            new_uow=new_uow,
            clock=clock,
            on_stored=self.worker.wake,
            timeout=poll_timeout,
            lock=poller_lock,
        )
        self.webhook_url = webhook_url
        self.webhook = (
            Webhook(
                path=urlsplit(webhook_url).path,
                secret=webhook_secret or "",
                new_uow=new_uow,
                clock=clock,
                on_stored=self.worker.wake,
            )
            if webhook_url
            else None
        )
        if self.webhook is not None and not webhook_secret:
            raise ChannelError("webhook mode needs WEBHOOK_SECRET")
        self.ops = (
            OpsServer(
                host=listen[0],
                port=listen[1],
                new_uow=new_uow,
                metrics=self.metrics,
                webhook=self.webhook,
            )
            if listen is not None
            else None
        )
        if self.webhook is not None and self.ops is None:
            raise ChannelError("webhook mode needs WEBHOOK_LISTEN")
        self._webhook_secret = webhook_secret

    def metrics(self) -> list[Metric]:
        """This process's counters, for ``/metrics`` (the queues' depths are added there)."""
        request = self.bot.request
        return counters(
            stored=self.poller.stored + (self.webhook.counts.stored if self.webhook else 0),
            handled=self.worker.finished,
            failed=self.worker.set_aside,
            api=request.counts if isinstance(request, CountingRequest) else None,
            sending=Sending(
                sent=self.sender.sent,
                latency_sum=self.sender.latency_sum,
                stale=self.sender.stale,
                polling=self.webhook is None and self.poller.polling,
            ),
        )

    async def run(self) -> None:
        """Serve until SIGINT/SIGTERM; then finish the update in hand and stop.

        Refuses to start (``ChannelError``) when the start-up check finds a failure.
        """
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        setting = doctor.agent_chat_setting(self.agent_chat_id, escalation=self.escalation)
        if setting is not None and setting.status is doctor.Status.FAIL:
            raise ChannelError(f"cannot start: {setting.name}: {setting.message}")
        try:
            if not await connect(self.bot, stop):
                log.info("stopped before the Bot API could be reached")
                return
            await self._check()
            await self._set_commands()
            await self._serve()
            log.info("connected as @%s; waiting for customers", self.bot.username)
            if self.webhook is None:
                poller = asyncio.create_task(self.poller.run(stop), name="poller")
            else:  # nothing to poll: Telegram posts to the webhook
                poller = asyncio.create_task(_until(stop), name="webhook")
            worker = asyncio.create_task(self.worker.run(stop), name="worker")
            sender = asyncio.create_task(self.sender.run(stop), name="sender")
            watcher = asyncio.create_task(self._watch_knowledge(stop), name="knowledge")
            if self.dispatcher is not None:
                self.dispatcher.start()  # APScheduler on this loop: the follow-ups' clock
            stopped = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait(
                {poller, worker, sender, stopped}, return_when=asyncio.FIRST_COMPLETED
            )
            watcher.cancel()
            stop.set()
            if self.dispatcher is not None:  # the row in hand is finished, the rest given back
                await self.dispatcher.stop()
            # a getUpdates in flight holds nothing yet: cancelling it loses no update
            poller.cancel()
            self.worker.wake.set()
            self.sender.wake.set()
            await asyncio.gather(poller, worker, sender, return_exceptions=True)
            for task in done:
                if task is not stopped and task.exception() is not None:
                    raise ChannelError(f"the {task.get_name()} stopped: {task.exception()}")
            with contextlib.suppress(Exception):
                await self.worker.drain()
                # what the last updates queued, each chat's next row at least; a lane
                # waiting out a slow chat's pace is not waited for past FLUSH seconds
                flush = asyncio.Event()
                loop.call_later(FLUSH, flush.set)
                await self.sender.send_due(flush)
        finally:
            if self.ops is not None:  # after the worker: what was stored is handled
                with contextlib.suppress(Exception):
                    await self.ops.stop()
            with contextlib.suppress(Exception):
                await self.bot.shutdown()
            log.info("stopped")

    async def _serve(self) -> None:
        """Start the HTTP server; in webhook mode then tell Telegram where to post.

        The webhook stays set when the bot stops: other replicas keep taking updates, and a
        restarted one finds Telegram's retries waiting. Polling mode removes it (``Poller``).
        """
        if self.ops is not None:
            try:
                await self.ops.start()
            except OSError as exc:
                setting = "WEBHOOK_LISTEN" if self.webhook is not None else "METRICS_LISTEN"
                raise ChannelError(
                    f"cannot listen on {self.ops.host}:{self.ops.port} ({setting}):"
                    f" {exc.strerror or exc}"
                ) from None
        if self.webhook is None:
            return
        attempt = 0
        while True:
            try:
                await self.bot.set_webhook(
                    self.webhook_url,
                    secret_token=self._webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
                log.info("webhook set: Telegram posts updates to WEBHOOK_URL")
                return
            except TelegramError as exc:
                attempt += 1
                if isinstance(exc, BadRequest) or attempt >= 5:
                    raise ChannelError(f"setWebhook failed (WEBHOOK_URL): {exc.message}") from None
                log.warning("setWebhook failed (%s); trying again", exc.message)
                await asyncio.sleep(min(2.0**attempt, 10.0))

    async def _watch_knowledge(self, stop: asyncio.Event, every: float = 3.0) -> None:
        """Pick up edited knowledge files while running (bad edits keep the old ones); the
        new index is built in a thread, so customers are answered meanwhile."""
        if self.knowledge_watch is None:
            return
        while not stop.is_set():
            await asyncio.sleep(every)
            try:
                await self.knowledge_watch.refresh()
            except Exception:
                log.exception("checking the knowledge files failed")

    async def _check(self) -> None:
        """The start-up check of ``bot.telegram.doctor``: the agent chat and the bot's rights."""
        checks = await doctor.check_agent_chat(
            self.bot, self.agent_chat_id, escalation=self.escalation, base_url=self.base_url
        )
        for check in checks:
            if check.status is doctor.Status.FAIL:
                raise ChannelError(f"cannot start: {check.name}: {check.message}")
            log.log(
                logging.WARNING if check.status is doctor.Status.WARN else logging.INFO,
                "%s: %s",
                check.name,
                check.message,
            )

    async def _set_commands(self) -> None:
        await set_menus(self.bot, self.conversations.services, self.agent_chat_id, self.admin_ids)


async def _until(stop: asyncio.Event) -> None:
    await stop.wait()
