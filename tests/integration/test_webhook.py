"""The webhook, /healthz and /metrics over real HTTP, on a real database.

SQLite always, PostgreSQL too where ``TEST_DATABASE_URL`` is set. "The database is down"
is another session holding the lock the webhook's write needs, with the bot's wait for it
cut short (SQLite's busy timeout, PostgreSQL's ``lock_timeout``): the same failure every
run, and the lock released at a known moment, as a restarted database would come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Engine, text

from bot.clock import SystemClock
from bot.storage import SqlUnitOfWork, make_engine, upgrade
from bot.storage import engine as engine_module
from bot.telegram.metrics import Metric, metric
from bot.telegram.webhook import SECRET_HEADER, OpsServer, Webhook
from tests.databases import empty_postgres

SECRET = "s3cret-Token_for-the-webhook"
PATH = "/telegram/hook"


@dataclass
class Database:
    url: str
    engine: Engine

    def new_uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    def stored(self) -> list[tuple[int, dict[str, Any], int | None]]:
        with self.new_uow() as uow:
            return [
                (item.update_id, json.loads(item.payload), item.chat_id)
                for item in uow.inbox.pending()
            ]

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Another session holds the lock every write to the inbox needs."""
        if self.engine.dialect.name == "sqlite":
            held = sqlite3.connect(str(self.engine.url.database), isolation_level=None)
            held.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                held.rollback()
                held.close()
            return
        with self.engine.connect() as connection:  # a session of its own, not the bot's
            connection.execute(text("LOCK TABLE inbox IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                connection.rollback()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Database]:
    if request.param == "sqlite":
        monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 200)
        url = f"sqlite:///{tmp_path / 'bot.db'}"
    else:
        url = empty_postgres(options="-c lock_timeout=200")
    engine = make_engine(url)
    upgrade(engine)
    try:
        yield Database(url, engine)
    finally:
        engine.dispose()


@dataclass
class Served:
    base: str
    webhook: Webhook
    wake: asyncio.Event
    http: aiohttp.ClientSession

    async def post(self, body: Any, secret: str | None = SECRET) -> tuple[int, str]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        async with self.http.post(self.base + PATH, data=data, headers=headers) as response:
            return response.status, await response.text()

    async def get(self, path: str) -> tuple[int, str, str]:
        async with self.http.get(self.base + path) as response:
            return response.status, response.headers["Content-Type"], await response.text()


def own_metrics() -> list[Metric]:
    return [metric("supportbot_updates_handled_total", "counter", "Handled.", 7)]


@contextlib.asynccontextmanager
async def serve(database: Database) -> AsyncIterator[Served]:
    wake = asyncio.Event()
    webhook = Webhook(
        path=PATH, secret=SECRET, new_uow=database.new_uow, clock=SystemClock(), on_stored=wake
    )
    server = OpsServer(
        host="127.0.0.1", port=0, new_uow=database.new_uow, metrics=own_metrics, webhook=webhook
    )
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Served(f"http://127.0.0.1:{server.port}", webhook, wake, http)
    finally:
        await server.stop()


def update(update_id: int, chat_id: int = 42, text: str = "my kettle leaks") -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1764460800,
            "chat": {"id": chat_id, "type": "private", "first_name": "Ann"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ann"},
            "text": text,
        },
    }


def test_only_the_right_secret_stores_and_the_secret_is_never_logged(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        async with serve(database) as served:
            assert (await served.post(update(1), secret=None))[0] == 401
            assert (await served.post(update(2), secret="wrong"))[0] == 403
            assert (await served.post(update(3), secret=SECRET[:-1]))[0] == 403
            assert (await served.post(update(4), secret=SECRET + "x"))[0] == 403
            assert (await served.post(update(5), secret="ünïcode"))[0] == 403
            assert database.stored() == []
            assert not served.wake.is_set()
            assert await served.post(update(6)) == (200, "ok\n")
            assert served.wake.is_set()  # the worker is woken to handle it

    asyncio.run(scenario())
    assert database.stored() == [(6, update(6), 42)]  # the update as Telegram sent it
    assert "no secret token" in caplog.text and "wrong secret token" in caplog.text
    assert SECRET not in caplog.text
    assert not any(SECRET in repr(record.__dict__) for record in caplog.records)


def test_a_duplicate_update_id_is_stored_once(database: Database) -> None:
    async def scenario() -> None:
        async with serve(database) as served:
            assert (await served.post(update(7)))[0] == 200
            # Telegram retried (our 200 was lost), with the same update_id
            assert (await served.post(update(7, text="changed")))[0] == 200
            assert served.webhook.counts.stored == 1
            assert served.webhook.counts.duplicates == 1

    asyncio.run(scenario())
    assert database.stored() == [(7, update(7), 42)]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"message": {}}', b'{"update_id": "7"}', b'{"update_id": true}'],
)
def test_a_body_that_is_not_an_update_is_refused(database: Database, body: bytes) -> None:
    async def scenario() -> None:
        async with serve(database) as served:
            assert (await served.post(body))[0] == 400

    asyncio.run(scenario())
    assert database.stored() == []


def test_503_while_the_database_is_unavailable_then_telegrams_retry_is_stored(
    database: Database,
) -> None:
    async def scenario() -> None:
        async with serve(database) as served:
            with database.locked():
                status, body = await served.post(update(9))
                assert (status, body) == (503, "database unavailable\n")
                assert not served.wake.is_set()
                if database.engine.dialect.name == "sqlite":  # SELECT 1 needs the lock there
                    assert (await served.get("/healthz"))[0] == 503
            assert database.stored() == []  # nothing was acknowledged, nothing stored
            assert (await served.post(update(9)))[0] == 200  # Telegram tries again
            assert (await served.post(update(9)))[0] == 200
            assert served.webhook.counts.answers == {503: 1, 200: 2}

    asyncio.run(scenario())
    assert database.stored() == [(9, update(9), 42)]


def test_healthz_and_metrics(database: Database) -> None:
    async def scenario() -> tuple[tuple[int, str, str], tuple[int, str, str]]:
        async with serve(database) as served:
            await served.post(update(11))
            await served.post(update(11))
            await served.post(update(12), secret="wrong")
            return await served.get("/healthz"), await served.get("/metrics")

    health, (status, content_type, body) = asyncio.run(scenario())
    assert health[0] == 200 and health[2] == "ok\n"
    assert status == 200
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    values = {}
    for line in body.splitlines():
        if line.startswith("#"):
            assert re.fullmatch(r"# (HELP \w+ .+|TYPE \w+ (counter|gauge))", line), line
            continue
        sample = re.fullmatch(r'(\w+(?:\{\w+="[^"]*"\})?) (\S+)', line)
        assert sample is not None, line
        values[sample[1]] = float(sample[2])
    assert values == {
        "supportbot_updates_handled_total": 7,  # from the process's own counters
        'supportbot_webhook_requests_total{code="200"}': 2,
        'supportbot_webhook_requests_total{code="403"}': 1,
        "supportbot_webhook_duplicates_total": 1,
        "supportbot_database_up": 1,
        "supportbot_inbox_pending": 1,
        "supportbot_outbox_pending": 0,
    }
    for name in {re.sub(r"\{.*", "", key) for key in values}:
        assert f"# TYPE {name} " in body and f"# HELP {name} " in body
    assert SECRET not in body


def test_metrics_say_the_database_is_down_and_health_fails(
    database: Database, tmp_path: Path
) -> None:
    """/metrics still answers (with database_up 0) while /healthz says 503."""
    if database.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite lock stands for a database that does not answer")

    async def scenario() -> tuple[tuple[int, str, str], tuple[int, str, str]]:
        async with serve(database) as served:
            with database.locked():
                return await served.get("/healthz"), await served.get("/metrics")

    health, metrics = asyncio.run(scenario())
    assert health[0] == 503 and health[2] == "database unavailable\n"
    assert metrics[0] == 200
    assert "supportbot_database_up 0" in metrics[2]
    assert "supportbot_inbox_pending" not in metrics[2]
