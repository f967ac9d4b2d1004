"""The follow-up timers on real databases: the flows' port and the dispatcher's claim."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from bot.storage import SqlUnitOfWork
from flows.model import (
    ChatId,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketId,
    TicketStatus,
)

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
CHAT = ChatId(42)


def add_ticket(engine: Engine, chat_id: int = CHAT) -> TicketId:
    with SqlUnitOfWork(engine) as uow:
        ticket = uow.tickets.add(
            Ticket(
                chat_id=ChatId(chat_id),
                summary="kettle is cold",
                status=TicketStatus.RESOLVED,
                created_at=T0,
                updated_at=T0,
            )
        )
        uow.commit()
    assert ticket.id is not None
    return ticket.id


def check(
    ticket_id: TicketId, due_at: datetime = T0, chat_id: int = CHAT, round: int = 1
) -> FollowUp:
    return FollowUp(ticket_id, ChatId(chat_id), FollowUpKind.CHECK, due_at, round=round)


def add_due(engine: Engine, count: int, due_at: datetime = T0, chat_id: int = CHAT) -> list[int]:
    ids = []
    with SqlUnitOfWork(engine) as uow:
        for _ in range(count):
            ticket = uow.tickets.add(
                Ticket(
                    chat_id=ChatId(chat_id),
                    summary="s",
                    status=TicketStatus.RESOLVED,
                    created_at=T0,
                    updated_at=T0,
                )
            )
            assert ticket.id is not None
            stored = uow.followups.add(check(ticket.id, due_at, chat_id))
            assert stored is not None and stored.id is not None
            ids.append(stored.id)
        uow.commit()
    return ids


def claim(engine: Engine, now: datetime, limit: int = 100) -> list[FollowUp]:
    with SqlUnitOfWork(engine) as uow:
        claimed = uow.followups.claim_due(now, LEASE, limit)
        uow.commit()
    return claimed


def test_add_get_save_for_ticket_round_trip(engine: Engine) -> None:
    ticket_id = add_ticket(engine)
    with SqlUnitOfWork(engine) as uow:
        stored = uow.followups.add(check(ticket_id))
        uow.commit()
    assert stored is not None and stored.id is not None
    assert (stored.status, stored.round, stored.attempts) == (FollowUpStatus.PENDING, 1, 0)

    with SqlUnitOfWork(engine) as uow:
        got = uow.followups.get(stored.id)
        assert got == stored
        assert got.due_at == T0 and got.due_at.utcoffset() == timedelta(0)
        got.status = FollowUpStatus.SENT
        got.sent_at = T0 + timedelta(minutes=1)
        got.due_at = T0 + timedelta(hours=1)
        got.last_error = "note"
        uow.followups.save(got)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.followups.for_ticket(ticket_id) == [got]
        assert uow.followups.get(stored.id + 1000) is None


def test_a_second_add_of_one_ticket_kind_and_round_is_none_and_the_transaction_goes_on(
    engine: Engine,
) -> None:
    ticket_id = add_ticket(engine)
    with SqlUnitOfWork(engine) as uow:
        first = uow.followups.add(check(ticket_id))
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        uow.ticket_events.add(TicketEvent(ticket_id, TicketEventKind.RESOLVED, T0))
        assert uow.followups.add(check(ticket_id, T0 + timedelta(hours=5))) is None
        later = uow.followups.add(check(ticket_id, round=2))  # "Remind me later": next round
        close = uow.followups.add(
            FollowUp(ticket_id, CHAT, FollowUpKind.CLOSE, T0 + timedelta(days=7))
        )
        uow.commit()  # the conflict spoiled nothing before or after it
    assert later is not None and close is not None
    with SqlUnitOfWork(engine) as uow:
        rows = uow.followups.for_ticket(ticket_id)
        assert [(f.id, f.kind, f.round, f.due_at) for f in rows] == [
            (first.id if first else None, FollowUpKind.CHECK, 1, T0),
            (later.id, FollowUpKind.CHECK, 2, T0),
            (close.id, FollowUpKind.CLOSE, 1, T0 + timedelta(days=7)),
        ]
        assert [e.kind for e in uow.ticket_events.for_ticket(ticket_id)] == [
            TicketEventKind.RESOLVED
        ]


def test_claim_takes_due_pending_rows_once_earliest_first(engine: Engine) -> None:
    late, early = add_due(engine, 1, T0 + timedelta(minutes=1)) + add_due(engine, 1, T0)
    [future] = add_due(engine, 1, T0 + timedelta(hours=1))
    now = T0 + timedelta(minutes=2)

    claimed = claim(engine, now)
    assert [f.id for f in claimed] == [early, late]
    for f in claimed:
        assert (f.status, f.attempts, f.lease_until) == (FollowUpStatus.SENDING, 1, now + LEASE)
    assert claim(engine, now) == []  # claimed, leased: nobody takes them again
    assert claim(engine, now + LEASE) == []  # the lease runs to its end
    with SqlUnitOfWork(engine) as uow:
        got = uow.followups.get(future)
        assert got is not None and got.status is FollowUpStatus.PENDING
        assert uow.followups.next_due_at(now) == now + LEASE  # a lease ends before the hour


def test_a_claim_whose_lease_ran_out_is_taken_again_and_the_old_claim_is_void(
    engine: Engine,
) -> None:
    [row_id] = add_due(engine, 1)
    [first] = claim(engine, T0)
    # the first claimer died (or stalled): after its lease, another claims the row
    [second] = claim(engine, T0 + LEASE + timedelta(seconds=1))
    assert (second.id, second.attempts) == (row_id, 2)
    with SqlUnitOfWork(engine) as uow:
        assert uow.followups.lock_claimed(first) is None  # the late first owner backs off
        assert uow.followups.record_error(first, "late", T0) is False
        assert uow.followups.release(first, T0) is False
        mine = uow.followups.lock_claimed(second)
        assert mine is not None and mine.attempts == 2
        mine.status = FollowUpStatus.SENT
        mine.sent_at = T0
        uow.followups.save(mine)
        uow.commit()
    assert claim(engine, T0 + timedelta(days=1)) == []  # sent: never claimed again


def test_a_released_claim_is_due_again_and_an_error_is_recorded(engine: Engine) -> None:
    [row_id] = add_due(engine, 1)
    [claimed] = claim(engine, T0)
    with SqlUnitOfWork(engine) as uow:
        assert uow.followups.record_error(claimed, "boom", T0)
        assert uow.followups.release(claimed, T0)
        uow.commit()
    [again] = claim(engine, T0)
    assert (again.id, again.attempts, again.last_error) == (row_id, 2, "boom")


def test_cancel_pending_and_cancel_for_chat_leave_sent_rows(engine: Engine) -> None:
    a, b = add_ticket(engine), add_ticket(engine)
    other = add_ticket(engine, chat_id=7)
    with SqlUnitOfWork(engine) as uow:
        for ticket_id in (a, b):
            uow.followups.add(check(ticket_id))
        sent = uow.followups.add(check(a, round=2))
        assert sent is not None
        sent.status = FollowUpStatus.SENT
        uow.followups.save(sent)
        uow.followups.add(check(other, chat_id=7))
        uow.commit()
    claim(engine, T0, limit=1)  # one of them is being sent: cancelled too
    with SqlUnitOfWork(engine) as uow:
        assert uow.followups.cancel_pending(a, T0) == 1
        assert uow.followups.cancel_for_chat(CHAT, T0, "customer blocked the bot") == 1
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert [f.status for f in uow.followups.for_ticket(a)] == [
            FollowUpStatus.CANCELLED,
            FollowUpStatus.SENT,
        ]
        [of_b] = uow.followups.for_ticket(b)
        assert (of_b.status, of_b.last_error) == (
            FollowUpStatus.CANCELLED,
            "customer blocked the bot",
        )
        assert [f.status for f in uow.followups.for_ticket(other)] in (
            [FollowUpStatus.PENDING],
            [FollowUpStatus.SENDING],
        )
        assert uow.followups.count_by_status()[FollowUpStatus.CANCELLED] == 2


def test_claim_for_one_chat_and_next_due_at(engine: Engine) -> None:
    add_due(engine, 2, T0, chat_id=7)
    [mine] = add_due(engine, 1, T0 + timedelta(seconds=5))
    with SqlUnitOfWork(engine) as uow:
        assert uow.followups.next_due_at(T0) == T0
        assert uow.followups.claim_due(T0, LEASE, 10, chat_id=CHAT) == []
        [got] = uow.followups.claim_due(T0 + timedelta(seconds=5), LEASE, 10, chat_id=CHAT)
        assert got.id == mine
        uow.commit()


def test_a_ticket_keeps_its_rating(engine: Engine) -> None:
    ticket_id = add_ticket(engine)
    with SqlUnitOfWork(engine) as uow:
        ticket = uow.tickets.get(ticket_id)
        assert ticket is not None and ticket.rating is None and ticket.rating_comment is None
        ticket.rating, ticket.rating_comment = 5, "quick & <kind>"
        uow.tickets.save(ticket)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        got = uow.tickets.get(ticket_id)
        assert got is not None and (got.rating, got.rating_comment) == (5, "quick & <kind>")


def test_concurrent_claims_never_share_a_row(engine: Engine) -> None:
    """Threads claiming at once (SQLite: one writer at a time; PostgreSQL: SKIP LOCKED)."""
    ids = add_due(engine, 60)
    got: list[list[int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def claimer() -> None:
        try:
            start.wait()
            mine: list[int] = []
            while batch := claim(engine, T0, limit=3):
                mine.extend(f.id for f in batch if f.id is not None)
            got.append(mine)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    every = [i for mine in got for i in mine]
    assert sorted(every) == sorted(ids)  # each claimed once, none left


@pytest.mark.postgres
def test_postgresql_claims_skip_rows_another_transaction_holds(
    engine: Engine, database_url: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serves one process")
    ids = add_due(engine, 10)
    url = make_url(database_url).set(drivername="postgresql+psycopg")
    # without SKIP LOCKED the second claim would wait for the first: fail fast instead
    impatient = create_engine(url, connect_args={"options": "-c lock_timeout=3000"})
    try:
        with SqlUnitOfWork(engine) as first, SqlUnitOfWork(impatient) as second:
            a = first.followups.claim_due(T0, LEASE, 4)  # not committed: rows locked
            b = second.followups.claim_due(T0, LEASE, 100)
            assert len(a) == 4 and len(b) == 6
            assert {f.id for f in a} | {f.id for f in b} == set(ids)
            # while one transaction handles a claimed row, no claim can take it either
            b_row = second.followups.lock_claimed(b[0])
            assert b_row is not None
            first.commit()
            second.commit()
    finally:
        impatient.dispose()
