"""The questions asked on every pass or hand-over do not read the whole history.

A bot runs for months: the inbox keeps every update it handled and ``ticket_event`` every
ticket's story. The worker's look for updates still to handle, and the typical wait told at
each hand-over, must cost about the same with a long history as with none. Measured as
SQLite's virtual-machine steps (a progress handler), which count the rows a statement
reads, not the time it takes: no clock, no noise. PostgreSQL chooses its plans from table
statistics; ``benchmarks/history.py`` measures it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bot.storage import SqlUnitOfWork, make_engine, upgrade
from flows.model import TicketEvent, TicketEventKind, TicketId

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HISTORY = 3000


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def steps(engine: Engine, question: Callable[[SqlUnitOfWork], object]) -> int:
    """SQLite's virtual-machine steps (in hundreds) while ``question`` runs."""
    counted = [0]

    def count() -> int:
        counted[0] += 1
        return 0  # go on

    with SqlUnitOfWork(engine) as uow:
        raw: Any = uow._session().connection().connection.dbapi_connection
        raw.set_progress_handler(count, 100)
        try:
            question(uow)
        finally:
            raw.set_progress_handler(None, 0)
    return counted[0]


def handled_updates(engine: Engine, first: int, count: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO inbox (update_id, chat_id, payload, received_at, processed_at,"
                " attempts) VALUES (:id, :chat, :payload, :at, :at, 0)"
            ),
            [
                {"id": n, "chat": n % 97, "payload": '{"update_id": 1}', "at": T0}
                for n in range(first, first + count)
            ],
        )


def waiting_updates(engine: Engine, first: int) -> None:
    with SqlUnitOfWork(engine) as uow:
        for n in range(first, first + 20):
            uow.inbox.add(n, '{"update_id": 1}', T0, chat_id=n % 7)
        uow.commit()


def test_finding_the_updates_to_handle_does_not_read_those_handled(engine: Engine) -> None:
    def look(uow: SqlUnitOfWork) -> object:
        now = T0 + timedelta(minutes=1)
        return uow.inbox.pending(50, now=now), uow.inbox.next_due_at(now)

    waiting_updates(engine, 1_000_000)
    alone = steps(engine, look)
    count_alone = steps(engine, lambda uow: uow.inbox.count_pending())

    handled_updates(engine, 1, HISTORY)
    with SqlUnitOfWork(engine) as uow:
        assert len(uow.inbox.pending(50, now=T0 + timedelta(minutes=1))) == 20
        assert uow.inbox.count_pending() == 20
    with_history = steps(engine, look)
    count_with_history = steps(engine, lambda uow: uow.inbox.count_pending())

    # 3,000 handled updates read one by one would be hundreds of hundreds of steps
    assert with_history <= alone + 5, (alone, with_history)
    assert count_with_history <= count_alone + 5, (count_alone, count_with_history)


def test_the_typical_wait_reads_the_latest_hand_overs_only(engine: Engine) -> None:
    def hand_overs(first: int, count: int) -> None:
        with SqlUnitOfWork(engine) as uow:
            for n in range(first, first + count):
                at = T0 + timedelta(minutes=n)
                uow.ticket_events.add(TicketEvent(TicketId(n), TicketEventKind.OPENED, at))
                uow.ticket_events.add(TicketEvent(TicketId(n), TicketEventKind.ESCALATED, at))
                replied = at + timedelta(minutes=5 + n % 3)
                uow.ticket_events.add(
                    TicketEvent(TicketId(n), TicketEventKind.AGENT_REPLIED, replied)
                )
            uow.commit()

    def wait(uow: SqlUnitOfWork) -> object:
        return uow.ticket_events.first_response_times(20)

    hand_overs(1, 600)
    with SqlUnitOfWork(engine) as uow:
        recent = uow.ticket_events.first_response_times(20)
    few = steps(engine, wait)
    hand_overs(601, HISTORY)
    many = steps(engine, wait)
    with SqlUnitOfWork(engine) as uow:
        latest = uow.ticket_events.first_response_times(3)

    assert len(recent) == 20
    # the latest tickets (3600, 3599, 3598) answered after 5 + n % 3 minutes
    assert latest == [timedelta(minutes=5 + n % 3) for n in (3600, 3599, 3598)]
    assert many <= few * 1.5, (few, many)
