"""A network that drops the bot's traffic to PostgreSQL silently (no reset, no FIN) for a
moment must not stop the bot for good: the statement lost on the way is never answered, so
only a timeout ends that connection, and the bot carries on without losing the message."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.storage import make_engine
from tests.databases import drop_everything, empty_postgres
from tests.e2e.botprocess import ROOT, BotProcess
from tests.e2e.fake_bot_api import FakeBotApi
from tests.e2e.partition import PartitionProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxy() -> Iterator[tuple[PartitionProxy, str]]:
    """PostgreSQL behind a proxy that can partition; the URL through it."""
    url = make_url(empty_postgres())
    partition = PartitionProxy(url.host or "127.0.0.1", url.port or 5432).start()
    try:
        yield partition, url.set(port=partition.port).render_as_string(hide_password=False)
    finally:
        partition.stop()
        engine = make_engine(url.render_as_string(hide_password=False))
        drop_everything(engine)
        engine.dispose()


def test_a_silent_partition_in_the_middle_of_a_statement_stops_the_bot_only_for_a_while(
    fake_api: FakeBotApi,
    proxy: tuple[PartitionProxy, str],
    tmp_path: Path,
    knowledge_dir: Path,
) -> None:
    partition, url = proxy
    bot = BotProcess(
        fake_api,
        tmp_path,
        module="tests.e2e.short_timeouts_bot",
        DATABASE_URL=url,
        KNOWLEDGE_DIR=str(knowledge_dir),
        PYTHONPATH=str(ROOT),
        POLL_TIMEOUT="1",  # the poller lock's connection is used more often than 2 s
    ).start()
    try:
        fake_api.push_command(1, "/start")
        assert fake_api.wait_for_messages(1, count=1, timeout=60)
        partition.partitioned = True
        fake_api.push_command(2, "/start")  # stored, handled and sent over the lost link
        deadline = time.monotonic() + 30  # (a guard: the bot talks to the database at once)
        while partition.dropped == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert partition.dropped > 0
        partition.partitioned = False  # the link is back; what was lost on it stays lost
        fake_api.push_command(3, "/start")
        assert fake_api.wait_for_messages(2, count=1, timeout=60)
        assert fake_api.wait_for_messages(3, count=1, timeout=60)
        assert len(fake_api.sent_messages(2)) == len(fake_api.sent_messages(1))  # once
    finally:
        bot.kill()
    assert fake_api.token not in bot.log()
