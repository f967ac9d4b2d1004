"""FAULTS.md T12: SIGTERM while forty customers are being answered. The bot finishes what
it has in hand and stops; restarted, it answers the rest: nobody lost, nobody answered
twice."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from tests.e2e.botprocess import BotProcess
from tests.e2e.fake_bot_api import FakeBotApi

CUSTOMERS = range(3000, 3040)


def outbox_done(database: Path, timeout: float = 60.0) -> None:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        with sqlite3.connect(database) as db:
            (waiting,) = db.execute(
                "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
            ).fetchone()
            (unhandled,) = db.execute(
                "SELECT count(*) FROM inbox WHERE processed_at IS NULL"
            ).fetchone()
        if waiting == 0 and unhandled == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"{waiting} replies and {unhandled} updates still waiting")


def test_sigterm_under_load_loses_nothing_and_sends_nothing_twice(
    fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path
) -> None:
    bot = BotProcess(fake_api, tmp_path, KNOWLEDGE_DIR=str(knowledge_dir)).start()
    for chat in CUSTOMERS:
        fake_api.push_command(chat, "start")
    fake_api.wait_for_messages(CUSTOMERS[0], 1, timeout=30)  # under way
    assert bot.stop() == 0  # SIGTERM: a clean stop
    bot.start()
    for chat in CUSTOMERS:
        fake_api.wait_for_messages(chat, 1, timeout=60)
    outbox_done(tmp_path / "bot.db")
    assert bot.stop() == 0
    counts = {chat: len(fake_api.sent_messages(chat)) for chat in CUSTOMERS}
    assert set(counts.values()) == {1}, counts  # each welcomed once
    assert "may arrive twice" not in bot.log()  # the stop left nothing half-sent
    assert fake_api.token not in bot.log()
