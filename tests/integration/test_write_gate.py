"""The SQLite write gate (``bot.storage.gate``): one transaction of this process at a time,
and the gate is free again however a transaction ends — else every later one would wait for
the gate's timeout."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.storage import SqlUnitOfWork, make_engine, upgrade
from bot.storage.gate import WriteGate, gate_of

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    upgrade(engine)
    return engine


def gate(engine: Engine) -> WriteGate:
    found = gate_of(engine)
    assert found is not None
    return found


def test_a_transaction_holds_the_gate_until_it_commits(engine: Engine) -> None:
    with SqlUnitOfWork(engine) as uow:
        uow.inbox.add(1, "{}", T0, 5)
        assert gate(engine).held
        uow.commit()
        assert not gate(engine).held
    with SqlUnitOfWork(engine) as uow:
        assert uow.inbox.last_update_id() == 1


def test_a_failed_transaction_frees_the_gate(engine: Engine) -> None:
    with pytest.raises(RuntimeError), SqlUnitOfWork(engine) as uow:
        uow.inbox.add(1, "{}", T0, 5)
        raise RuntimeError("a bug while handling")
    assert not gate(engine).held
    with SqlUnitOfWork(engine) as uow:
        assert uow.inbox.last_update_id() is None  # rolled back


def test_an_invalidated_connection_frees_the_gate(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.begin()
        connection.execute(text("SELECT 1"))
        assert gate(engine).held
        connection.invalidate()  # as after a dropped connection
        assert not gate(engine).held


def test_a_second_threads_transaction_waits_for_the_first_and_goes_when_it_commits(
    engine: Engine,
) -> None:
    entered = threading.Event()

    def second() -> None:
        with SqlUnitOfWork(engine) as uow:
            uow.inbox.add(2, "{}", T0, 6)  # its first statement begins the transaction
            entered.set()
            uow.commit()

    with SqlUnitOfWork(engine) as uow:
        uow.inbox.add(1, "{}", T0, 5)
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.3)
        assert not entered.is_set()
        uow.commit()
    thread.join(10)
    assert entered.is_set()
    assert not gate(engine).held
    with SqlUnitOfWork(engine) as uow:
        assert uow.inbox.last_update_id() == 2
