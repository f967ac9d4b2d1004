"""The bot's HTTP server: Telegram's webhook, ``/healthz`` and ``/metrics``.

Webhook mode (``WEBHOOK_URL``): Telegram posts each update to the URL's path here. A request
is answered 200 only once its update is committed to the ``inbox`` (a duplicate
``update_id`` is dropped by the table's key), so nothing Telegram was told about can be lost:

- no ``X-Telegram-Bot-Api-Secret-Token`` header: 401; a wrong one: 403 (compared in constant
  time; the header's value is never logged); nothing is read or stored;
- a body that is not a JSON update: 400;
- the database down, locked too long or not answering within ``STORE_TIMEOUT``: 503, and
  Telegram delivers the update again later (if the slow write commits after all, the retry
  is dropped as a duplicate).

aiohttp serves it on the bot's own event loop; python-telegram-bot's webhook server answers
200 once an update is in an in-memory queue (lost in a crash), compares the secret with
``!=`` and logs a wrong one, so it is not used. Database calls run in a thread, so a locked
SQLite file or an unreachable PostgreSQL never stalls the loop (or the health check).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web
from telegram import Update

from bot.clock import Clock
from bot.logs import brief
from bot.storage import UnitOfWorkFactory, is_temporary
from bot.telegram.metrics import Metric, Source, WebhookCounts, metric, render

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
STORE_TIMEOUT = 10.0  # seconds for a webhook's write before Telegram is told to retry (503)
HEALTH_TIMEOUT = 5.0  # seconds for /healthz's and /metrics's queries
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
T = TypeVar("T")


class Webhook:
    """The handler of Telegram's POSTs: check the secret, store the update, then say 200."""

    def __init__(
        self,
        *,
        path: str,
        secret: str,
        new_uow: UnitOfWorkFactory,
        clock: Clock,
        on_stored: asyncio.Event,
    ):
        self.path = path or "/"
        self._secret = secret.encode()
        self.new_uow = new_uow
        self.clock = clock
        self.on_stored = on_stored
        self.counts = WebhookCounts()

    async def handle(self, request: web.Request) -> web.Response:
        response = await self._handle(request)
        self.counts.answers[response.status] += 1
        return response

    async def _handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            log.warning("refused a webhook request from %s: no secret token", request.remote)
            return web.Response(status=401, text="secret token missing\n")
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self._secret):
            log.warning("refused a webhook request from %s: wrong secret token", request.remote)
            return web.Response(status=403, text="wrong secret token\n")
        try:
            data = json.loads(await request.read())
        except ValueError:
            data = None
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            log.warning("refused a webhook request from %s: not a Telegram update", request.remote)
            return web.Response(status=400, text="not a Telegram update\n")
        assert isinstance(data, dict)
        try:
            new = await _in_thread(self._store, update_id, data, timeout=STORE_TIMEOUT)
        except TimeoutError:
            log.warning("storing update %s took too long; Telegram will retry it", update_id)
            return web.Response(status=503, text="database unavailable\n")
        except Exception as exc:
            if is_temporary(exc):
                log.warning(
                    "the database is unavailable (%s); Telegram will retry update %s",
                    brief(exc),
                    update_id,
                )
                return web.Response(status=503, text="database unavailable\n")
            log.exception("storing update %s failed; Telegram will retry it", update_id)
            return web.Response(status=500, text="could not store the update\n")
        if new:
            self.counts.stored += 1
            self.on_stored.set()
        else:
            self.counts.duplicates += 1
            log.info("update %s was stored before; dropped the copy", update_id)
        return web.Response(text="ok\n")

    def _store(self, update_id: int, data: dict[str, Any]) -> bool:
        """One transaction; True when the update is new, False for a duplicate."""
        try:
            chat = Update.de_json(data, None).effective_chat
        except Exception:  # stored all the same: the worker sets it aside, logged
            chat = None
        payload = json.dumps(data, ensure_ascii=False)
        with self.new_uow() as uow:
            new = uow.inbox.add(update_id, payload, self.clock.now(), chat.id if chat else None)
            uow.commit()
        return new

    def metrics(self) -> list[Metric]:
        answers = self.counts.answers
        return [
            Metric(
                "supportbot_webhook_requests_total",
                "counter",
                "Webhook requests answered, by HTTP status.",
                tuple(({"code": str(code)}, float(n)) for code, n in sorted(answers.items())),
            ),
            metric(
                "supportbot_webhook_duplicates_total",
                "counter",
                "Updates Telegram posted again that were stored already (dropped).",
                self.counts.duplicates,
            ),
        ]


class OpsServer:
    """aiohttp on ``host:port``: ``/healthz``, ``/metrics`` and, in webhook mode, the webhook."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        new_uow: UnitOfWorkFactory,
        metrics: Source,
        webhook: Webhook | None = None,
    ):
        self.host = host
        self.port = port  # 0: any free port; the one bound is in ``port`` after start()
        self.new_uow = new_uow
        self.source = metrics
        self.webhook = webhook
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        if webhook is not None:
            app.router.add_post(webhook.path, webhook.handle)
        self._runner = web.AppRunner(app, access_log=None)

    async def start(self) -> None:
        """Bind and serve; raises ``OSError`` when the address cannot be bound."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        log.info("serving /healthz and /metrics on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        try:
            await _in_thread(self._ping, timeout=HEALTH_TIMEOUT)
        except Exception as exc:
            log.warning("health check: the database does not answer (%s)", brief(exc))
            return web.Response(status=503, text="database unavailable\n")
        return web.Response(text="ok\n")

    def _ping(self) -> None:
        with self.new_uow() as uow:
            uow.ping()

    async def _metrics(self, request: web.Request) -> web.Response:
        metrics = list(self.source())
        if self.webhook is not None:
            metrics += self.webhook.metrics()
        depths: tuple[int, int] | None = None
        try:
            depths = await _in_thread(self._depths, timeout=HEALTH_TIMEOUT)
        except Exception as exc:
            log.warning("metrics: the database does not answer (%s)", brief(exc))
        up = 0.0 if depths is None else 1.0
        metrics.append(
            metric("supportbot_database_up", "gauge", "1 when the database answers.", up)
        )
        if depths is not None:
            inbox, outbox = depths
            metrics += [
                metric(
                    "supportbot_inbox_pending",
                    "gauge",
                    "Stored updates not handled yet (all replicas).",
                    inbox,
                ),
                metric(
                    "supportbot_outbox_pending",
                    "gauge",
                    "Messages waiting to be sent (all replicas).",
                    outbox,
                ),
            ]
        return web.Response(body=render(metrics).encode(), headers={"Content-Type": PROMETHEUS})

    def _depths(self) -> tuple[int, int]:
        with self.new_uow() as uow:
            return uow.inbox.count_pending(), uow.outbox.count_pending()


async def _in_thread(work: Callable[..., T], *args: Any, timeout: float) -> T:
    """Run blocking database work in a thread; ``TimeoutError`` after ``timeout`` seconds
    (the thread finishes on its own: its transaction commits or rolls back by itself)."""
    return await asyncio.wait_for(asyncio.to_thread(work, *args), timeout)
