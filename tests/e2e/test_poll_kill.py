"""FAULTS.md T3: the bot killed between the ``getUpdates`` that brought a batch and the next
poll, which would have confirmed it. Restarted, it recognises what Telegram still holds:
every customer is answered once, nothing is lost, nothing handled twice.

The kill lands in that window by construction, not by timing:

- *before the batch is stored*: the bot's first poll is held by the fake Bot API until the
  whole batch is queued; the test then locks the inbox (SQLite's write lock, a table lock
  on PostgreSQL) and lets the poll go; the bot logs the batch it got (python-telegram-bot's
  "Getting updates") and cannot store it. Killed there, Telegram delivers it again.
- *after it is answered*: the fake holds the ``getUpdates`` whose offset would confirm the
  batch; the bot stores it, answers it, records the replies as sent, and is killed with the
  batch unconfirmed. The held call is dropped, as if it never reached Telegram.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.storage import SqlUnitOfWork
from tests.e2e.botprocess import BotProcess
from tests.e2e.fake_bot_api import FakeBotApi
from tests.e2e.test_followups import wait_until

CUSTOMERS = (8101, 8102, 8103)
LATE = 8104  # writes after the restart: once answered, everything before it is stored
KETTLE = "the kettle light is on but it won't boil"


def push_batch(fake: FakeBotApi) -> list[int]:
    """Each customer says /start and describes the problem: six updates."""
    return [
        update_id
        for chat in CUSTOMERS
        for update_id in (fake.push_command(chat, "start"), fake.push_text(chat, KETTLE))
    ]


@contextmanager
def inbox_locked(engine: Engine) -> Iterator[None]:
    """Nobody else can store an update while this lasts (on SQLite nobody else can write)."""
    with engine.connect() as db, db.begin():  # BEGIN IMMEDIATE on SQLite (make_engine)
        if engine.dialect.name == "postgresql":
            db.execute(text("LOCK TABLE inbox IN EXCLUSIVE MODE"))  # reads still go on
        yield


def settled(engine: Engine) -> bool:
    """Every stored update handled, every reply sent and recorded as sent."""
    with SqlUnitOfWork(engine) as uow:
        return (
            uow.inbox.count_pending() == 0
            and uow.outbox.count_pending() == 0
            and uow.outbox.lease_ends() is None  # none being sent
        )


def deliveries(bot: BotProcess) -> list[int]:
    """Every update id python-telegram-bot received, once per delivery, across restarts."""
    batches = re.findall(r"Getting updates: \[([\d, ]*)\]", bot.log())
    return [int(n) for batch in batches for n in batch.split(",") if n.strip()]


def stored_messages(engine: Engine, chat: int) -> int:
    with engine.connect() as db:
        query = "SELECT count(*) FROM message WHERE chat_id = :chat AND direction = 'in'"
        return int(db.execute(text(query), {"chat": chat}).scalar_one())


@pytest.mark.parametrize("kill", ["before it is stored", "after it is answered"])
def test_killed_between_get_updates_and_the_next_poll_nothing_is_lost_or_doubled(
    fake_api: FakeBotApi,
    tmp_path: Path,
    knowledge_dir: Path,
    database: tuple[str, Engine],
    kill: str,
) -> None:
    url, engine = database
    bot = BotProcess(fake_api, tmp_path, DATABASE_URL=url, KNOWLEDGE_DIR=str(knowledge_dir))
    try:
        if kill == "before it is stored":
            first_poll = fake_api.hold("getUpdates")
            bot.start()
            fake_api.wait_for_held("getUpdates")
            batch = push_batch(fake_api)
            with inbox_locked(engine):
                fake_api.release(first_poll)  # it brings the whole batch
                assert bot.wait_for_log(f"Getting updates: {batch}", 30), bot.log()
                bot.kill()
            with SqlUnitOfWork(engine) as uow:
                assert uow.inbox.last_update_id() is None  # nothing stored
        else:
            batch = push_batch(fake_api)
            fake_api.hold("getUpdates", lambda params: params.get("offset", 0) > batch[0])
            bot.start()
            for chat in CUSTOMERS:
                fake_api.wait_for_messages(chat, 3, timeout=30)
            wait_until(lambda: settled(engine), bot)
            fake_api.wait_for_held("getUpdates")  # the poll that would confirm the batch
            bot.kill()
            fake_api.release(drop=True)
        assert fake_api.confirmed_offset <= batch[0]  # killed with the batch unconfirmed
        assert [u["update_id"] for u in fake_api.pending_updates] == batch

        bot.start()
        fake_api.push_command(LATE, "start")
        fake_api.wait_for_messages(LATE, 1, timeout=30)
        wait_until(lambda: settled(engine), bot)
        assert bot.stop() == 0
    finally:
        if bot.alive():
            bot.kill()

    expected = [m["text"] for m in fake_api.sent_messages(CUSTOMERS[0])]
    assert len(expected) == 3, expected  # welcome, the fix, "Did this fix it?"
    for chat in CUSTOMERS:
        assert [m["text"] for m in fake_api.sent_messages(chat)] == expected, chat
        assert stored_messages(engine, chat) == 2  # each update's message stored once
    if kill == "before it is stored":  # Telegram delivered the batch again: taken once
        assert [deliveries(bot).count(update_id) for update_id in batch] == [2] * len(batch)
    assert fake_api.confirmed_offset > batch[-1]
    assert "may arrive twice" not in bot.log()
    assert fake_api.token not in bot.log()
