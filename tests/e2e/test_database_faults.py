"""Nothing a customer writes is lost when the database drops connections under load.

The real poller, worker and sender run in this process against the fake Bot API over HTTP,
on a real database whose connections keep failing: on PostgreSQL another session kills the
bot's connections every 50 ms (``pg_terminate_backend``, as a restarting server or a
network blip would), 150 times; on SQLite, where there is no server to lose, one statement in 25
fails with "database is locked" or "disk I/O error". Every customer must get exactly the
replies that a customer gets from a healthy database: none lost, none doubled, no apology.
"""

from __future__ import annotations

import asyncio
import functools
import random
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bot.app import App, build
from bot.clock import SystemClock
from bot.settings import load_settings
from bot.storage import SqlUnitOfWork, make_engine
from bot.telegram.channel import build_bot
from bot.telegram.poller import Poller
from bot.telegram.sender import Sender
from bot.telegram.worker import Worker
from tests.databases import drop_everything, empty_postgres, postgres_url
from tests.e2e.fake_bot_api import FakeBotApi

CUSTOMERS = 40
SCRIPT = ["/start", "my earbuds won't connect to my phone", "/status"]
VICTIM = "supportbot-under-test"  # the application_name whose connections are killed
KILLS = 150  # PostgreSQL: the bot's connections killed, every 50 ms, until this many


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.db'}"
        return
    url = empty_postgres(application_name=VICTIM)
    yield url
    engine = make_engine(url)
    drop_everything(engine)
    engine.dispose()


@pytest.fixture
def app(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KNOWLEDGE_DIR", raising=False)
    return build(load_settings(database_url=database, matcher="lexical"), clock=SystemClock())


def test_dropped_connections_lose_no_message(fake_api: FakeBotApi, app: App) -> None:
    engine = _engine_of(app)
    baseline = 1
    for text in SCRIPT:  # one customer on a healthy database: what everyone should get
        _push(fake_api, baseline, text)
    expected = _serve_until(fake_api, app, lambda: _done(engine, len(SCRIPT)), chats=[baseline])
    assert expected[baseline], "the healthy customer got no reply"

    customers = list(range(100, 100 + CUSTOMERS))
    with _faults(engine) as failures:
        for text in SCRIPT:
            for chat in customers:
                _push(fake_api, chat, text)
        total = len(SCRIPT) * (CUSTOMERS + 1)
        got = _serve_until(fake_api, app, lambda: _done(engine, total), chats=customers)
    assert failures() > 20, "the fault injection did not bite: the test proves nothing"
    for chat in customers:
        assert got[chat] == expected[baseline], f"customer {chat} got {got[chat]!r}"
    with SqlUnitOfWork(engine) as uow:
        assert uow.inbox.pending() == []
        assert uow.outbox.pending() == []


# ---- the bot's loops, in this process ---------------------------------------------------


def _serve_until(
    fake: FakeBotApi, app: App, finished: Callable[[], bool], *, chats: list[int]
) -> dict[int, list[str]]:
    """Run poller, worker and sender until ``finished()``; the texts each chat received."""

    async def main() -> None:
        bot = build_bot(fake.token, fake.base_url, fake.base_file_url)
        await bot.initialize()
        sender = Sender(bot=bot, new_uow=app.new_uow, clock=app.clock)
        worker = Worker(
            bot=bot,
            new_uow=app.new_uow,
            conversations=app.conversations,
            responses=app.responses,
            clock=app.clock,
            agent_chat_id=None,
            on_outbox=sender.wake,
        )
        poller = Poller(
            bot=bot, new_uow=app.new_uow, clock=app.clock, on_stored=worker.wake, timeout=1
        )
        stop = asyncio.Event()
        tasks = [asyncio.create_task(loop.run(stop)) for loop in (poller, worker, sender)]
        try:
            for _ in range(1200):  # at most about two minutes
                if finished() or any(t.done() for t in tasks):
                    break
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            worker.wake.set()
            sender.wake.set()
            tasks[0].cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await bot.shutdown()
        for task in tasks[1:]:
            assert task.exception() is None, f"a loop died: {task.exception()!r}"

    asyncio.run(main())
    # ticket numbers differ from customer to customer; everything else must not
    return {
        chat: [re.sub(r"T-\d+", "T-#", m["text"]) for m in fake.sent_messages(chat)]
        for chat in chats
    }


def _push(fake: FakeBotApi, chat: int, text: str) -> None:
    if text.startswith("/"):
        fake.push_command(chat, text)
    else:
        fake.push_text(chat, text)


def _done(engine: Engine, updates: int) -> bool:
    """Every update handled and every reply sent (read without the faults' listener)."""
    try:
        with engine.connect() as connection:
            handled = connection.exec_driver_sql(
                "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL"
            ).scalar()
            unsent = connection.exec_driver_sql(
                "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
            ).scalar()
    except Exception:  # a fault hit the check itself: not done yet
        return False
    return handled == updates and unsent == 0


def _engine_of(app: App) -> Engine:
    new_uow = app.new_uow
    assert isinstance(new_uow, functools.partial) and new_uow.func is SqlUnitOfWork
    engine = new_uow.args[0]
    assert isinstance(engine, Engine)
    return engine


# ---- the faults ------------------------------------------------------------------------


class _faults:
    """Break the database's connections until the block ends; yields a failure counter."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.count = 0
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.random = random.Random(6)

    def __enter__(self) -> Callable[[], int]:
        if self.engine.dialect.name == "postgresql":
            self.thread = threading.Thread(target=self._kill_connections, daemon=True)
            self.thread.start()
        else:
            event.listen(self.engine, "before_cursor_execute", self._fail_sometimes)
        return lambda: self.count

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(10)
        else:
            event.remove(self.engine, "before_cursor_execute", self._fail_sometimes)

    def _fail_sometimes(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("SELECT count(*)"):  # the test's own progress check
            return
        if self.random.random() < 1 / 25:
            self.count += 1
            raise sqlite3.OperationalError(
                self.random.choice(["database is locked", "disk I/O error"])
            )

    def _kill_connections(self) -> None:
        import psycopg

        url = postgres_url()
        assert url is not None
        with psycopg.connect(url, autocommit=True) as killer:
            # a bounded number of kills: at a fixed 50 ms rate alone, a loaded machine (where a
            # transaction takes longer than that) would never finish one, and the test would
            # measure the machine, not the bot
            while self.count < KILLS and not self.stop.wait(0.05):
                killed = killer.execute(
                    "SELECT count(*) FROM ("
                    " SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = %s AND datname = current_database()"
                    " AND pid <> pg_backend_pid()) AS k",
                    (VICTIM,),
                ).fetchone()
                self.count += int(killed[0]) if killed else 0
