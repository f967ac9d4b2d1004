"""Several bot processes on one PostgreSQL database (FAULTS.md T9, T10; issue 12's "two and
three processes"): each update handled once and each reply sent once, one chat's updates in
``update_id`` order whichever replica took them, one poller at a time with fail-over."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.databases import empty_postgres
from tests.e2e.botprocess import BotProcess
from tests.e2e.fake_bot_api import FakeBotApi
from tests.e2e.test_webhook import SECRET, Telegram, free_port

pytestmark = pytest.mark.postgres

KETTLE = "the kettle light is on but it won't boil"


class Replicas:
    """``count`` bot processes on one database; in webhook mode each has its own port."""

    def __init__(self, fake: FakeBotApi, root: Path, knowledge: Path, url: str) -> None:
        self.fake, self.root, self.knowledge, self.url = fake, root, knowledge, url
        self.bots: list[BotProcess] = []
        self.hooks: list[Telegram] = []

    def start(self, count: int, *, webhook: bool, module: str = "bot", **more: str) -> Replicas:
        """``count`` more replicas, ``python -m module`` with ``more`` settings."""
        for n in range(len(self.bots), len(self.bots) + count):
            folder = self.root / f"replica{n}"
            folder.mkdir()
            env = {"KNOWLEDGE_DIR": str(self.knowledge), "DATABASE_URL": self.url, **more}
            if webhook:
                port = free_port()
                env |= {
                    "WEBHOOK_URL": "https://bot.example.test/telegram/hook",
                    "WEBHOOK_SECRET": SECRET,
                    "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
                }
                self.hooks.append(Telegram(port))
            bot = BotProcess(self.fake, folder, module=module, **env)
            self.bots.append(bot.start(wait=False))
        for bot in self.bots:  # connected: serving, polling or standing by
            assert bot.wait_for_log("waiting for customers", 90), bot.log()
        return self

    def post(self, update_ids: list[int]) -> None:
        """Telegram's side: every update posted at once, spread over the replicas."""

        def post(n: int) -> int:
            hook = self.hooks[n % len(self.hooks)]
            return hook.post(self.fake.pushed_update(update_ids[n]))

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(post, range(len(update_ids)))) == {200}

    def settled(self, timeout: float = 120.0) -> None:
        """Wait until every stored update is handled and every reply sent."""
        engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://", 1))
        give_up = time.monotonic() + timeout
        try:
            while time.monotonic() < give_up:
                with engine.connect() as db:
                    waiting = db.execute(
                        text(
                            "SELECT (SELECT count(*) FROM inbox WHERE processed_at IS NULL)"
                            " + (SELECT count(*) FROM outbox WHERE status IN"
                            " ('pending', 'sending'))"
                        )
                    ).scalar()
                if waiting == 0:
                    return
                time.sleep(0.1)
            raise AssertionError(f"{waiting} updates and replies still waiting")
        finally:
            engine.dispose()

    def query(self, sql: str, **params: object) -> list[tuple[object, ...]]:
        engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with engine.connect() as db:
                return [tuple(row) for row in db.execute(text(sql), params)]
        finally:
            engine.dispose()

    def stop(self) -> None:
        for bot in self.bots:
            if bot.alive():
                bot.kill()
            assert self.fake.token not in bot.log(), "the bot token was written to the log"


@pytest.fixture
def replicas(fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path) -> Iterator[Replicas]:
    url = empty_postgres()  # skipped without TEST_DATABASE_URL
    group = Replicas(fake_api, tmp_path, knowledge_dir, url)
    try:
        yield group
    finally:
        group.stop()


def texts(fake: FakeBotApi, chat: int) -> list[str]:
    return [m["text"] for m in fake.sent_messages(chat)]


@pytest.mark.parametrize("count", [2, 3])
def test_replicas_answer_every_customer_once_and_in_order(
    fake_api: FakeBotApi, replicas: Replicas, count: int
) -> None:
    """Customers' updates posted at once over several replicas' webhooks: every customer
    gets what one bot alone answers, once, in order."""
    replicas.start(count, webhook=True)
    customers = list(range(5000, 5040))
    first = [fake_api.push_command(chat, "start") for chat in customers]
    replicas.post(first)
    for chat in customers:
        fake_api.wait_for_messages(chat, 1, timeout=60)
    second = [fake_api.push_text(chat, KETTLE) for chat in customers]
    replicas.post(second)
    replicas.settled()
    expected = texts(fake_api, customers[0])
    assert len(expected) == 3, "\n---\n".join(expected)  # welcome, fix, "Did this fix it?"
    for chat in customers:
        assert texts(fake_api, chat) == expected, f"customer {chat}"
    handled = replicas.query("SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL")
    assert handled == [(2 * len(customers),)]
    logs = "".join(bot.log() for bot in replicas.bots)
    assert "may arrive twice" not in logs  # nothing had to be sent again


def test_one_chats_updates_over_three_replicas_are_handled_in_order(
    fake_api: FakeBotApi, replicas: Replicas
) -> None:
    """T10: twenty messages of one chat posted in parallel to three replicas."""
    replicas.start(3, webhook=True)
    chat = 6000
    updates = [fake_api.push_command(chat, "start")]
    updates += [fake_api.push_text(chat, f"note {n}: {KETTLE}") for n in range(19)]
    replicas.post(updates)
    replicas.settled()
    order = replicas.query(
        "SELECT update_id FROM inbox WHERE chat_id = :chat ORDER BY processed_at", chat=chat
    )
    assert [row[0] for row in order] == sorted(updates)
    stamps = replicas.query("SELECT DISTINCT processed_at FROM inbox WHERE chat_id = :c", c=chat)
    assert len(stamps) == 20  # one after another, never two at once
    said = replicas.query(
        "SELECT text FROM message WHERE chat_id = :chat AND direction = 'in' ORDER BY id",
        chat=chat,
    )
    assert [row[0] for row in said][-19:] == [f"note {n}: {KETTLE}" for n in range(19)]


def test_one_replica_polls_and_another_takes_over_when_it_dies(
    fake_api: FakeBotApi, replicas: Replicas
) -> None:
    """T9: two replicas in polling mode; only one polls; killed, the other takes over."""
    replicas.start(2, webhook=False)
    fake_api.wait_for_requests("getUpdates", timeout=60)  # logged before its first poll
    [polling] = [b for b in replicas.bots if "this replica polls" in b.log()]
    [standby] = [b for b in replicas.bots if b is not polling]
    assert standby.wait_for_log("stands by to take over", 30), standby.log()
    fake_api.push_command(7000, "start")
    fake_api.wait_for_messages(7000, 1, timeout=30)
    replicas.settled()  # marked sent: the kill below is not one in the middle of a send
    polling.kill()
    fake_api.push_command(7001, "start")
    assert standby.wait_for_log("this replica polls", 60), standby.log()
    fake_api.wait_for_messages(7001, 1, timeout=30)
    replicas.settled()
    assert len(texts(fake_api, 7000)) == 1 and len(texts(fake_api, 7001)) == 1
    assert "Conflict" not in standby.log()  # never two getUpdates at once
