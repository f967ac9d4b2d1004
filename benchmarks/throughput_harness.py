"""The throughput benchmark's machinery: the recording fake Bot API, the bot processes'
CPU and memory, a PostgreSQL database per run, the bot's inbox, and Telegram's side of a
webhook (the load balancer)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from bot.storage import make_engine
from bot.storage.tables import InboxRow, OutboxRow
from tests.e2e.fake_bot_api import FakeBotApi

FIRST_CUSTOMER = 10_000_001  # customer c writes from private chat FIRST_CUSTOMER + c
WEBHOOK_SECRET = "bench-Webhook_secret-0123456789"
WEBHOOK_CONNECTIONS = 40  # Telegram's default max_connections for a webhook
SENDING = frozenset({"sendmessage", "copymessage", "forwardmessage", "sendphoto", "senddocument"})
CLK_TCK = os.sysconf("SC_CLK_TCK")


class RecordingFake(FakeBotApi):
    """The fake Bot API, noting the wall-clock time, chat and text of every message it took."""

    def __init__(self) -> None:
        super().__init__()
        self.sends: list[tuple[float, int, str]] = []

    def _call(self, token: str, method: str, params: dict[str, Any]) -> Any:
        result = super()._call(token, method, params)
        if method.lower() in SENDING:
            chat = params.get("chat_id")
            text = str(params.get("text") or f"<{method}>")
            self.sends.append((time.time(), int(chat) if chat is not None else 0, text))
        return result

    def push_backlog(self, customers: int, scripts: Sequence[Sequence[str]]) -> list[int]:
        """Every customer's messages at once, round by round (each customer's first message,
        then each one's second, ...); the bot's long poll is woken only when all are in."""
        ids = []
        with self._cond:  # re-entrant: the pushes take it again
            for k in range(len(scripts[0])):
                for c in range(customers):
                    ids.append(self.push_text(FIRST_CUSTOMER + c, scripts[c % len(scripts)][k]))
        return ids


# --- processes ------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (its waited-for children included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / CLK_TCK


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_database(url: str) -> Iterator[str]:
    """A fresh database beside ``url``'s, dropped afterwards."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


class Inbox:
    """The bot's own record: updates stored and handled, and replies still queued."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.since = 0  # updates up to this id (the warm-up) are left out of both figures

    def progress(self) -> tuple[int, int]:
        """(updates handled, outbox rows not yet sent: pending, or claimed by a lane that
        waits for its chat's turn); (0, 1) before the tables exist."""
        try:
            with self.engine.connect() as c:
                handled = c.execute(
                    select(func.count()).where(
                        col(InboxRow.processed_at).is_not(None),
                        col(InboxRow.update_id) > self.since,
                    )
                ).scalar_one()
                pending = c.execute(
                    select(func.count()).where(col(OutboxRow.status).in_(("pending", "sending")))
                ).scalar_one()
        except SQLAlchemyError:
            return 0, 1
        return int(handled), int(pending)

    def span(self) -> tuple[int, float, float]:
        """(updates handled, first received_at, last processed_at) as Unix times."""
        with self.engine.connect() as c:
            count, first, last = c.execute(
                select(
                    func.count(), func.min(InboxRow.received_at), func.max(InboxRow.processed_at)
                ).where(
                    col(InboxRow.processed_at).is_not(None), col(InboxRow.update_id) > self.since
                )
            ).one()
        if not count or first is None or last is None:
            return 0, 0.0, 0.0
        return int(count), first.timestamp(), last.timestamp()

    def close(self) -> None:
        self.engine.dispose()


# --- before the release: one customer answered ---------------------------------------------

WARM_CHAT = FIRST_CUSTOMER - 1  # and below: not customers, left out of every figure


def warm_up(fake: RecordingFake, ports: Sequence[int], inbox: Inbox | None, timeout: float) -> None:
    """A "hello" answered before the release, as a bot in service has answered many: the
    backlog's first update then follows a stored one, as it would in service. (In a fresh
    database, a webhook bot holds its first update ``WEBHOOK_SETTLE`` for a predecessor that
    never comes: Telegram numbers updates on from an id the bot can't know. That made the
    first customer's reply the run's last but a few, in every run.) ``ports``: the
    webhooks', one "hello" each, one after the other, so that every replica has served (a
    replica that had not came up to a second behind the others); none: the bot polls.
    ``inbox``: wait until each is handled and its replies sent (else until a reply came:
    the echo bot)."""
    give_up = time.time() + timeout
    for i, port in enumerate(ports or [None]):
        update_id = fake.push_text(WARM_CHAT - i, "hello")
        if port is not None:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/telegram/hook",
                data=json.dumps(fake.pushed_update(update_id)).encode(),
                headers={
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                },
            )
            with urllib.request.urlopen(request, timeout=timeout):
                pass
        while True:
            if inbox is None:
                done = any(chat == WARM_CHAT - i for _, chat, _ in fake.sends)
            else:
                done = inbox.progress() == (i + 1, 0)
            if done:
                break
            if time.time() > give_up:
                raise RuntimeError(f"the bot did not answer the warm-up in {timeout:.0f} s")
            time.sleep(0.05)
    if inbox is not None:
        inbox.since = update_id  # the release's figures leave the warm-up out


# --- Telegram's side of a webhook: the load balancer ----------------------------------------


class LoadBalancer(threading.Thread):
    """POSTs the updates round-robin to the replicas' webhooks, WEBHOOK_CONNECTIONS at a time,
    a chat's next update only once its last one was answered 200 (a 503 is posted again)."""

    def __init__(self, updates: list[dict[str, Any]], ports: list[int], give_up: float):
        super().__init__(daemon=True)
        self.updates, self.ports, self.give_up = updates, ports, give_up
        self.refused = 0
        self.started: dict[int, float] = {}  # update's index -> when its first POST went out
        self.done = threading.Event()

    def run(self) -> None:
        try:
            asyncio.run(self._post_all())
        finally:
            self.done.set()

    async def _post_all(self) -> None:
        import aiohttp

        gate = asyncio.Semaphore(WEBHOOK_CONNECTIONS)
        last: dict[int, asyncio.Task[None]] = {}
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        connector = aiohttp.TCPConnector(limit=WEBHOOK_CONNECTIONS)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def post(
                i: int, update: dict[str, Any], before: asyncio.Task[None] | None
            ) -> None:
                if before is not None:
                    await before
                url = f"http://127.0.0.1:{self.ports[i % len(self.ports)]}/telegram/hook"
                while time.time() < self.give_up:
                    async with gate:
                        self.started.setdefault(i, time.time())
                        try:
                            async with session.post(url, json=update, headers=headers) as r:
                                if r.status == 200:
                                    return
                        except aiohttp.ClientError:
                            pass
                    self.refused += 1
                    await asyncio.sleep(0.5)

            tasks = []
            for i, update in enumerate(self.updates):
                chat = update["message"]["chat"]["id"]
                task = asyncio.create_task(post(i, update, last.get(chat)))
                last[chat] = task
                tasks.append(task)
            await asyncio.gather(*tasks)
