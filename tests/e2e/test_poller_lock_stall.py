"""A database that stalls while the poller checks its lock holds up the poller alone: the
event loop, which runs the worker and the sender, goes on (found by a fault proxy that
silently dropped PostgreSQL's traffic: everything stopped, with no log line)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from bot.app import build
from bot.clock import SystemClock
from bot.settings import load_settings
from bot.storage import PollerLock
from bot.telegram.channel import build_bot
from bot.telegram.poller import Poller
from tests.e2e.fake_bot_api import FakeBotApi

STALL_LIMIT = 30.0  # seconds the stalled check waits at most: a safety net, not a measure


class StallingLock(PollerLock):
    """Taken at once; checking it stalls, as a statement on a silent network would, until
    the event loop shows it is still running (or the safety net ends the wait)."""

    def __init__(self) -> None:
        self.stalled = threading.Event()  # the check is waiting
        self.loop_ran = threading.Event()  # the event loop did something meanwhile
        self.loop_ran_while_stalled: bool | None = None

    def acquire(self) -> bool:
        return True

    def held(self) -> bool:
        self.stalled.set()
        self.loop_ran_while_stalled = self.loop_ran.wait(STALL_LIMIT)
        return False  # the connection is gone: stand by

    def release(self) -> None:
        pass


def test_a_stalled_lock_check_leaves_the_event_loop_running(
    fake_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KNOWLEDGE_DIR", raising=False)
    app = build(
        load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}", matcher="lexical"),
        clock=SystemClock(),
    )
    lock = StallingLock()

    async def main() -> None:
        bot = build_bot(fake_api.token, fake_api.base_url, fake_api.base_file_url)
        await bot.initialize()
        stop = asyncio.Event()
        poller = Poller(
            bot=bot, new_uow=app.new_uow, clock=app.clock, on_stored=asyncio.Event(), lock=lock
        )
        polling = asyncio.create_task(poller.run(stop))
        while lock.loop_ran_while_stalled is None and not polling.done():
            if lock.stalled.is_set():  # another task gets its turn while the check stalls
                lock.loop_ran.set()
            await asyncio.sleep(0.01)
        stop.set()
        await polling
        await bot.shutdown()

    asyncio.run(main())
    assert lock.loop_ran_while_stalled is True
