"""What lets several replicas share one database, on real databases: inbox and outbox claims,
the shared send pace, the poller lock and migrations started at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from bot.storage import (
    FOLLOW_UP,
    InboxItem,
    MessageKind,
    OutgoingMessage,
    PollerLock,
    SqlUnitOfWork,
    make_engine,
    upgrade,
)
from bot.storage.migrate import current_revision

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LEASE = T0 + timedelta(seconds=60)
ANN, BEN = 4242, 4343


def queue(engine: Engine, chat_id: int, *texts: str, priority: int = 0) -> list[int]:
    with SqlUnitOfWork(engine) as uow:
        ids = [
            uow.outbox.add(OutgoingMessage(chat_id, MessageKind.SEND, text, priority=priority), T0)
            for text in texts
        ]
        uow.commit()
    return ids


def claim(
    engine: Engine, limit: int = 100, *, chat_id: int | None = None, live: bool | None = None
) -> list[tuple[int, str]]:
    with SqlUnitOfWork(engine) as uow:
        items = uow.outbox.claim(T0, LEASE, limit, chat_id=chat_id, live=live)
        uow.commit()
    return [(item.chat_id, item.text) for item in items]


def statuses(engine: Engine, chat_id: int) -> list[str]:
    with SqlUnitOfWork(engine) as uow:
        return [item.status.value for item in uow.outbox.for_chat(chat_id)]


# ---- the outbox ----------------------------------------------------------------------


def test_a_claim_takes_each_chats_first_row_and_nothing_behind_it(engine: Engine) -> None:
    queue(engine, ANN, "a1", "a2")
    queue(engine, BEN, "b1")
    assert claim(engine) == [(ANN, "a1"), (BEN, "b1")]
    assert statuses(engine, ANN) == ["sending", "pending"]
    assert claim(engine) == []  # a2 waits while a1 is being sent
    with SqlUnitOfWork(engine) as uow:
        [a1, _] = uow.outbox.for_chat(ANN)
        uow.outbox.mark_sent(a1.id, T0, 77)
        uow.commit()
    assert claim(engine, chat_id=ANN) == [(ANN, "a2")]


def test_live_rows_are_claimed_before_follow_ups_and_apart_from_them(engine: Engine) -> None:
    queue(engine, BEN, "how did it go?", priority=FOLLOW_UP)
    queue(engine, ANN, "a reply")
    assert claim(engine, 1) == [(ANN, "a reply")]  # queued later, claimed first
    assert claim(engine, live=True) == []
    assert claim(engine, live=False) == [(BEN, "how did it go?")]


def test_customers_replies_are_claimed_before_the_team_chats_notices(engine: Engine) -> None:
    """The team's chat (a group) is bulk work: its notices wait while customers' replies do,
    however much earlier they were queued."""
    team = -1001234567890
    queue(engine, team, "new ticket")
    queue(engine, ANN, "a reply")
    queue(engine, BEN, "b reply")
    assert claim(engine, 2) == [(ANN, "a reply"), (BEN, "b reply")]
    assert claim(engine, 2) == [(team, "new ticket")]


def test_chats_are_served_in_the_order_customers_wrote_not_the_order_replies_were_queued(
    engine: Engine,
) -> None:
    """Replicas handle updates side by side: Ben wrote first (update 7), but the replica
    handling Ann's update 8 queued its reply first. A row no update caused comes after."""

    def reply(chat_id: int, text: str, update_id: int | None) -> None:
        with SqlUnitOfWork(engine) as uow:
            uow.outbox.add(
                OutgoingMessage(chat_id, MessageKind.SEND, text, update_id=update_id), T0
            )
            uow.commit()

    reply(4444, "unprompted", None)
    reply(ANN, "a1", 8)
    reply(BEN, "b1", 7)
    reply(ANN, "a2", 5)  # Ann's own rows still go in the order they were queued
    assert claim(engine, 1) == [(BEN, "b1")]
    assert claim(engine) == [(ANN, "a1"), (4444, "unprompted")]


def test_a_row_whose_sender_died_is_taken_up_after_its_lease(engine: Engine) -> None:
    queue(engine, ANN, "a1", "a2")
    assert claim(engine) == [(ANN, "a1")]  # ... and its process is killed
    with SqlUnitOfWork(engine) as uow:
        assert uow.outbox.release_expired(LEASE - timedelta(seconds=1)) == []  # alive still
        assert uow.outbox.release_expired(LEASE, keep=[ANN]) == []  # the caller's own lane
        assert uow.outbox.release_expired(LEASE + timedelta(seconds=1)) == [ANN]
        uow.commit()
    assert statuses(engine, ANN) == ["pending", "pending"]
    assert claim(engine) == [(ANN, "a1")]  # in order again


def test_giving_back_leaves_a_row_that_was_sent_alone(engine: Engine) -> None:
    [a1] = queue(engine, ANN, "a1")
    claim(engine)
    with SqlUnitOfWork(engine) as uow:
        uow.outbox.mark_sent(a1, T0, 77)
        uow.outbox.give_back(a1)  # a late give-back (its database write failed before)
        uow.commit()
    assert statuses(engine, ANN) == ["sent"]


@pytest.mark.postgres
def test_postgresql_outbox_claims_skip_what_another_replica_holds(
    engine: Engine, database_url: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serves one process")
    queue(engine, ANN, "a1", "a2")
    queue(engine, BEN, "b1")
    with impatient(database_url) as other:
        with SqlUnitOfWork(engine) as first, SqlUnitOfWork(other) as second:
            a = first.outbox.claim(T0, LEASE, 1)  # not committed: a1 is locked
            b = second.outbox.claim(T0, LEASE, 100)
            assert [i.text for i in a] == ["a1"]
            assert [i.text for i in b] == ["b1"]  # not a1 (held), not a2 (behind a1)
            first.commit()
            second.commit()
        assert claim(engine) == []  # a1 is being sent: a2 still waits


def test_concurrent_senders_never_share_a_row_nor_a_chat(engine: Engine) -> None:
    """Threads claiming at once (SQLite: one writer at a time; PostgreSQL: SKIP LOCKED)
    each take a chat's rows only while no other holds one of that chat."""
    for chat in range(1000, 1020):
        queue(engine, chat, *(f"{chat}-{n}" for n in range(3)))
    sent: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)
    held: set[int] = set()
    guard = threading.Lock()

    def sender() -> None:
        try:
            start.wait()
            while True:
                with SqlUnitOfWork(engine) as uow:
                    items = uow.outbox.claim(T0, LEASE, 3)
                    uow.commit()
                if not items:
                    with SqlUnitOfWork(engine) as uow:
                        if uow.outbox.count_pending() == 0 and uow.outbox.lease_ends() is None:
                            return
                    continue
                for item in items:
                    with guard:
                        assert item.chat_id not in held, "two senders on one chat"
                        held.add(item.chat_id)
                        sent.append(item.text)
                    with SqlUnitOfWork(engine) as uow:
                        uow.outbox.mark_sent(item.id, T0, 1)
                        with guard:  # before the commit: the chat's next row may go after it
                            held.discard(item.chat_id)
                        uow.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert sorted(sent) == sorted(f"{c}-{n}" for c in range(1000, 1020) for n in range(3))
    for chat in range(1000, 1020):  # each chat in its order
        assert [t for t in sent if t.startswith(f"{chat}-")] == [f"{chat}-{n}" for n in range(3)]


# ---- the inbox -----------------------------------------------------------------------


def store(engine: Engine, update_id: int, chat_id: int | None) -> InboxItem:
    with SqlUnitOfWork(engine) as uow:
        uow.inbox.add(update_id, "{}", T0, chat_id)
        uow.commit()
    return InboxItem(update_id=update_id, payload="{}", chat_id=chat_id, attempts=0)


def test_an_update_is_claimed_only_in_its_chats_turn(engine: Engine) -> None:
    first, second = store(engine, 1, ANN), store(engine, 2, ANN)
    other = store(engine, 3, BEN)
    with SqlUnitOfWork(engine) as uow:
        assert not uow.inbox.claim(second)  # the first of Ann's waits
        assert uow.inbox.claim(other)
        assert uow.inbox.claim(first)
        uow.inbox.mark_done(1, T0)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert not uow.inbox.claim(first)  # done already
        assert uow.inbox.claim(second)


@pytest.mark.postgres
def test_postgresql_an_update_in_hand_is_nobody_elses(engine: Engine, database_url: str) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serves one process")
    first, second = store(engine, 1, ANN), store(engine, 2, ANN)
    with impatient(database_url) as other:
        with SqlUnitOfWork(engine) as a:
            a.repeatable_read()
            assert a.inbox.claim(first)  # being handled: locked until a commits
            with SqlUnitOfWork(other) as b:
                b.repeatable_read()
                assert not b.inbox.claim(first)  # held: skipped, not waited for
                assert not b.inbox.claim(second)  # Ann's first is not done: not her turn
            a.inbox.mark_done(1, T0)
            a.commit()
        with SqlUnitOfWork(other) as b:
            assert b.inbox.claim(second)


# ---- the shared pace -----------------------------------------------------------------


def test_slots_are_shared_and_spaced_and_a_429_holds_them(engine: Engine) -> None:
    now = T0.timestamp()
    starts = []
    for _ in range(3):
        with SqlUnitOfWork(engine) as uow:  # three replicas, say, one after another
            starts.append(uow.pace.take(0, now, 0.5))
            uow.commit()
    assert starts == [now, now + 0.5, now + 1.0]
    with SqlUnitOfWork(engine) as uow:
        uow.pace.hold(0, now + 30)  # Telegram's retry_after
        uow.pace.hold(0, now + 10)  # an earlier end does not shorten it
        assert uow.pace.take(0, now + 2, 0.5) == now + 30
        assert uow.pace.take(-100, now + 2, 3.0) == now + 2  # a group's pace is its own
        uow.commit()
    with SqlUnitOfWork(engine) as uow:  # long idle: the next slot is at once
        assert uow.pace.take(0, now + 100, 0.5) == now + 100


# ---- one poller ----------------------------------------------------------------------


def test_one_replica_at_a_time_holds_the_poller_lock(engine: Engine, database_url: str) -> None:
    other = make_engine(database_url)
    first, second = PollerLock(engine), PollerLock(other)
    try:
        assert first.acquire()
        if engine.dialect.name == "sqlite":  # the file lock keeps a second process out
            assert second.acquire()
            return
        assert not second.acquire()
        assert first.held() and not second.held()
        first.release()  # the polling replica died: its connection closed
        assert second.acquire() and second.held()
        assert not first.acquire()
    finally:
        first.release()
        second.release()
        other.dispose()


@pytest.mark.postgres
def test_replicas_started_at_once_migrate_once(bare_engine: Engine, database_url: str) -> None:
    if bare_engine.dialect.name != "postgresql":
        pytest.skip("one SQLite file is served by one process")
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def replica() -> None:
        engine = make_engine(database_url)
        try:
            start.wait()
            upgrade(engine)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert current_revision(bare_engine) is not None


class impatient:
    """A second engine on the database that fails fast instead of waiting for a lock."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url).set(drivername="postgresql+psycopg")
        self.engine = create_engine(url, connect_args={"options": "-c lock_timeout=3000"})

    def __enter__(self) -> Engine:
        return self.engine

    def __exit__(self, *exc: object) -> None:
        self.engine.dispose()
