"""The follow-up dispatcher on real databases, with a settable clock and budget clock."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.followups import MAX_ATTEMPTS, FollowUpDispatcher, SendBudget
from bot.storage import (
    DatabaseUnavailable,
    MessageKind,
    OutboxStatus,
    OutgoingMessage,
    SqlUnitOfWork,
)
from flows.model import (
    ChatId,
    Effect,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Person,
    Ticket,
    TicketStatus,
)
from flows.ports import Repositories
from tests.followup_standin import QUESTION, StandInFollowUps

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


class Clocks:
    """The bot's clock (datetimes) and the budget's (monotonic seconds), both settable."""

    def __init__(self) -> None:
        self.current = T0
        self.mono = 1000.0

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self.mono


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


def dispatcher(
    engine: Engine, clocks: Clocks, flows: object | None = None, rate: float = 100.0
) -> FollowUpDispatcher:
    d = FollowUpDispatcher(
        new_uow=functools.partial(SqlUnitOfWork, engine),
        flows=flows or StandInFollowUps(clocks),  # type: ignore[arg-type]
        clock=clocks,
        agent_chat_id=None,
        rate=rate,
        lease=LEASE,
        backlog=10_000,
    )
    d.budget = SendBudget(rate, now=clocks.monotonic)
    return d


def add_due(engine: Engine, count: int, chat_id: int = 42, due_at: datetime = T0) -> list[int]:
    ids = []
    with SqlUnitOfWork(engine) as uow:
        uow.customers.upsert(Person(ChatId(chat_id), chat_id, "Ann", None), T0)
        for _ in range(count):
            ticket = uow.tickets.add(
                Ticket(ChatId(chat_id), "kettle", TicketStatus.RESOLVED, T0, T0)
            )
            assert ticket.id is not None
            row = uow.followups.add(
                FollowUp(ticket.id, ChatId(chat_id), FollowUpKind.CHECK, due_at)
            )
            assert row is not None and row.id is not None
            ids.append(row.id)
        uow.commit()
    return ids


def outbox(engine: Engine, chat_id: int = 42) -> list[str]:
    with SqlUnitOfWork(engine) as uow:
        return [item.text for item in uow.outbox.for_chat(chat_id)]


def rows(engine: Engine, ids: list[int]) -> list[FollowUp]:
    with SqlUnitOfWork(engine) as uow:
        found = [uow.followups.get(i) for i in ids]
    return [f for f in found if f is not None]


def run_pass(d: FollowUpDispatcher) -> float:
    return asyncio.run(d._pass())


def test_a_due_follow_up_is_asked_once(engine: Engine, clocks: Clocks) -> None:
    [early] = add_due(engine, 1)
    [later] = add_due(engine, 1, due_at=T0 + timedelta(hours=1))
    d = dispatcher(engine, clocks)
    wait = run_pass(d)
    assert [t.startswith(QUESTION) for t in outbox(engine)] == [True]
    assert wait == pytest.approx(3600, abs=1)  # the next tick: when the next one is due
    run_pass(d)
    run_pass(d)
    assert len(outbox(engine)) == 1
    [row, waiting] = rows(engine, [early, later])
    assert (row.status, row.attempts, waiting.status) == (
        FollowUpStatus.SENT,
        1,
        FollowUpStatus.PENDING,
    )
    clocks.current += timedelta(hours=1)
    run_pass(d)
    assert len(outbox(engine)) == 2


def test_the_budget_hands_over_at_most_rate_a_second(engine: Engine, clocks: Clocks) -> None:
    ids = add_due(engine, 10)
    d = dispatcher(engine, clocks, rate=3)
    assert run_pass(d) == pytest.approx(1.0)  # three went; the next may go in a second
    assert len(outbox(engine)) == 3
    clocks.mono += 0.5
    run_pass(d)
    assert len(outbox(engine)) == 3  # still inside that second
    clocks.mono += 0.5
    run_pass(d)
    assert len(outbox(engine)) == 6
    waiting = [f for f in rows(engine, ids) if f.status is FollowUpStatus.PENDING]
    assert len(waiting) == 4  # not claimed while the budget is spent: no lease runs down


def test_the_budget_is_a_sliding_second() -> None:
    now = [0.0]
    budget = SendBudget(2, now=lambda: now[0])
    budget.take()
    now[0] = 0.9
    budget.take()
    assert budget.available() == 0 and budget.wait() == pytest.approx(0.1)
    now[0] = 1.0
    assert budget.available() == 1  # the one at 0.0 left the window; not a full refill
    slow = SendBudget(0.5, now=lambda: now[0])
    slow.take()
    assert slow.wait() == pytest.approx(2.0)


def test_nothing_is_handed_over_while_the_sender_is_behind(engine: Engine, clocks: Clocks) -> None:
    add_due(engine, 2)
    d = dispatcher(engine, clocks)
    d.backlog = 3
    with SqlUnitOfWork(engine) as uow:
        for n in range(3):
            uow.outbox.add(OutgoingMessage(7, MessageKind.SEND, f"live {n}"), T0)
        uow.commit()
    run_pass(d)
    assert outbox(engine) == []
    with SqlUnitOfWork(engine) as uow:
        uow.outbox.mark_sent(1, T0, 1)
        uow.commit()
    run_pass(d)
    assert len(outbox(engine)) == 2


def test_a_blocked_customer_is_not_asked_and_the_row_is_cancelled(
    engine: Engine, clocks: Clocks
) -> None:
    [row_id] = add_due(engine, 1)
    with SqlUnitOfWork(engine) as uow:
        uow.customers.mark_blocked(42, True, T0)
        uow.commit()
    flows = StandInFollowUps(clocks)
    run_pass(dispatcher(engine, clocks, flows))
    assert outbox(engine) == [] and flows.calls == 0
    [row] = rows(engine, [row_id])
    assert (row.status, row.last_error) == (FollowUpStatus.CANCELLED, "customer blocked the bot")


class Failing:
    def __init__(self, error: Exception, times: int, clocks: Clocks) -> None:
        self.error, self.times = error, times
        self.real = StandInFollowUps(clocks)

    def due(self, repos: Repositories, followup: FollowUp) -> list[Effect]:
        if self.times > 0:
            self.times -= 1
            raise self.error
        return self.real.due(repos, followup)


def test_a_passing_database_failure_ends_the_tick_and_the_lease_brings_the_row_back(
    engine: Engine, clocks: Clocks
) -> None:
    [row_id] = add_due(engine, 1)
    d = dispatcher(engine, clocks, Failing(DatabaseUnavailable("gone"), 1, clocks))
    asyncio.run(d.tick())  # logged, not raised
    [row] = rows(engine, [row_id])
    assert (row.status, row.last_error, outbox(engine)) == (FollowUpStatus.SENDING, None, [])
    run_pass(d)
    assert outbox(engine) == []  # claimed and leased: not before the lease ends
    clocks.current += LEASE + timedelta(seconds=1)
    run_pass(d)
    assert len(outbox(engine)) == 1
    [row] = rows(engine, [row_id])
    assert (row.status, row.attempts) == (FollowUpStatus.SENT, 2)


def test_a_bug_is_noted_retried_after_the_lease_and_given_up_after_a_few(
    engine: Engine, clocks: Clocks
) -> None:
    [row_id] = add_due(engine, 1)
    d = dispatcher(engine, clocks, Failing(RuntimeError("bug in flows"), 99, clocks))
    for attempt in range(1, MAX_ATTEMPTS + 1):
        run_pass(d)
        [row] = rows(engine, [row_id])
        assert row.attempts == attempt and "bug in flows" in (row.last_error or "")
        clocks.current += LEASE + timedelta(seconds=1)
    assert row.status is FollowUpStatus.CANCELLED and "gave up after 5 tries" in (
        row.last_error or ""
    )
    run_pass(d)
    assert outbox(engine) == [] and rows(engine, [row_id])[0].attempts == MAX_ATTEMPTS


class Forgetful:
    """A flow that forgets to set the row's status: would send it again after the lease."""

    def due(self, repos: Repositories, followup: FollowUp) -> list[Effect]:
        return []


def test_flows_that_leave_a_row_sending_are_a_bug_not_a_silent_resend(
    engine: Engine, clocks: Clocks
) -> None:
    [row_id] = add_due(engine, 1)
    run_pass(dispatcher(engine, clocks, Forgetful()))
    [row] = rows(engine, [row_id])
    assert "left follow-up" in (row.last_error or "")


def test_a_claim_taken_over_after_its_lease_is_left_alone(engine: Engine, clocks: Clocks) -> None:
    [row_id] = add_due(engine, 1)
    d = dispatcher(engine, clocks)
    with SqlUnitOfWork(engine) as uow:
        [stale] = uow.followups.claim_due(T0, LEASE, 1)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:  # another process, after the lease
        uow.followups.claim_due(T0 + LEASE * 2, LEASE, 1)
        uow.commit()
    assert d.handle(stale) is False
    assert outbox(engine) == []
    assert rows(engine, [row_id])[0].status is FollowUpStatus.SENDING


def test_stopping_gives_the_rest_of_a_claim_back(engine: Engine, clocks: Clocks) -> None:
    ids = add_due(engine, 3)

    class StopAfterOne(StandInFollowUps):
        def due(self, repos: Repositories, followup: FollowUp) -> list[Effect]:
            d._stopping = True
            return super().due(repos, followup)

    d = dispatcher(engine, clocks, StopAfterOne(clocks))
    run_pass(d)
    assert [f.status for f in rows(engine, ids)] == [
        FollowUpStatus.SENT,
        FollowUpStatus.PENDING,
        FollowUpStatus.PENDING,
    ]


def test_apscheduler_ticks_at_the_next_due_time(engine: Engine) -> None:
    """Real clocks: the one-off job armed for the next due time fires long before the
    (hour-long) interval tick would."""
    from bot.clock import SystemClock

    clock = SystemClock()
    start = clock.now()
    add_due(engine, 1, due_at=start)
    [later] = add_due(engine, 1, due_at=start + timedelta(seconds=1))

    async def main() -> list[FollowUp]:
        d = FollowUpDispatcher(
            new_uow=functools.partial(SqlUnitOfWork, engine),
            flows=StandInFollowUps(clock),
            clock=clock,
            agent_chat_id=None,
            rate=10,
            interval=3600,
        )
        d.start()
        try:
            for _ in range(200):
                await asyncio.sleep(0.05)
                if d.handed == 2:
                    break
        finally:
            await d.stop()
        return rows(engine, [later])

    [row] = asyncio.run(main())
    assert row.status is FollowUpStatus.SENT
    assert outbox(engine) and all(t.startswith(QUESTION) for t in outbox(engine))
    with SqlUnitOfWork(engine) as uow:
        assert [i.status for i in uow.outbox.for_chat(42)] == [OutboxStatus.PENDING] * 2
