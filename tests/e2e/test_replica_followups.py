"""FAULTS.md T8: three replicas on PostgreSQL; one is SIGKILLed while it holds a batch of
claimed follow-ups. Once its lease has run out the other two send every one of them, and
nothing goes twice beyond what the killed replica had in flight.

The kill lands while the batch is held by construction: the doomed replica starts alone
with ``SUPPORTBOT_TEST_HANG_AFTER_CLAIM``, claims a batch (as many as ``FOLLOWUP_RATE``
allows in a second), logs it and freezes; the two others start beside it, and it is killed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import make_engine, upgrade
from flows.model import FollowUpStatus
from tests.databases import empty_postgres
from tests.e2e.botprocess import ROOT
from tests.e2e.fake_bot_api import FakeBotApi
from tests.e2e.test_followups import LEASE, add_followup, followup, questions
from tests.e2e.test_replicas import Replicas

pytestmark = pytest.mark.postgres

CHATS = range(9100, 9130)  # thirty customers, each with a follow-up due at once
RATE = 10  # FOLLOWUP_RATE: the most one claim takes


def test_a_replica_killed_holding_follow_ups_leaves_them_to_the_others_after_its_lease(
    fake_api: FakeBotApi, tmp_path: Path, knowledge_dir: Path
) -> None:
    url = empty_postgres()  # skipped without TEST_DATABASE_URL
    engine = make_engine(url)
    upgrade(engine)
    due = datetime.now(UTC) - timedelta(minutes=1)
    rows = {chat: add_followup(engine, due, chat_id=chat) for chat in CHATS}
    replicas = Replicas(fake_api, tmp_path, knowledge_dir, url)
    settings = {
        "PYTHONPATH": str(ROOT),
        "FOLLOWUP_LEASE": LEASE,
        "FOLLOWUP_RATE": str(RATE),
    }
    try:
        hang = {**settings, "SUPPORTBOT_TEST_HANG_AFTER_CLAIM": "1"}
        replicas.start(1, webhook=False, module="tests.e2e.standin_bot", **hang)
        [doomed] = replicas.bots
        claim = f"test hook: claimed {RATE} follow-up(s)"
        assert doomed.wait_for_log(claim, 60), doomed.log()
        claimed = [followup(engine, row_id) for row_id in rows.values()]
        held = {row.id: row for row in claimed if row.status is FollowUpStatus.SENDING}
        assert len(held) == RATE and {r.attempts for r in held.values()} == {1}
        # what the doomed replica had asked Telegram to send (none: it froze at its claim)
        in_flight = sum(r.get("chat_id") in CHATS for r in fake_api.requests_for("sendMessage"))
        replicas.start(2, webhook=False, module="tests.e2e.standin_bot", **settings)
        doomed.kill()  # SIGKILL, still holding its batch
        for chat in CHATS:
            fake_api.wait_for_messages(chat, 1, timeout=60)
        replicas.settled()
    finally:
        replicas.stop()

    sent = {chat: questions(fake_api, chat) for chat in CHATS}
    duplicates = sum(len(asked) - 1 for asked in sent.values())
    assert all(sent.values()), sent  # every follow-up sent
    assert duplicates <= in_flight, sent
    for row_id in rows.values():
        row = followup(engine, row_id)
        assert row.status is FollowUpStatus.SENT, row
        if row_id in held:  # taken again, and only after the dead claim's lease ran out
            lease_until = held[row_id].lease_until
            assert row.attempts == 2 and row.sent_at is not None and lease_until is not None
            assert row.sent_at >= lease_until
        else:
            assert row.attempts == 1
    engine.dispose()
