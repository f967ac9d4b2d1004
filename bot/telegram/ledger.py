"""What became of each row the sender claimed, written to the outbox: sent, waiting again,
failed for good, or given back untried.

A row sent is remembered until it is marked, which happens in the transaction that claims
the next rows (``Sender._claim``), so rows sent together cost one transaction; if the
database fails meanwhile, the row stays remembered and is never sent again. A row claimed
and not sent when the database failed is given back by the next pass rather than left to
its lease, which would hold its chat for a minute.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.storage import MessageKind, OutboxItem, SqlUnitOfWork, UnitOfWorkFactory

Sent = tuple[OutboxItem, int | None, datetime]  # the row, its result, when it was sent


class Ledger:
    def __init__(self, *, new_uow: UnitOfWorkFactory, clock: Clock) -> None:
        self.new_uow = new_uow
        self.clock = clock
        self._unrecorded: dict[int, Sent] = {}  # sent, not yet marked
        self._unclaimed: set[int] = set()  # claimed, not sent, not yet given back

    def sent(self, item: OutboxItem, result: int | None) -> None:
        """``item`` reached Telegram (``result``: the message id, or a new topic's thread
        id): to be marked with the next claim."""
        self._unrecorded[item.id] = (item, result, self.clock.now())

    def unsent(self, item: OutboxItem) -> None:
        """The database failed while ``item`` was in hand: given back by the next pass,
        unless it was sent (then it is marked, never sent again)."""
        if item.id not in self._unrecorded:
            self._unclaimed.add(item.id)

    def waiting(self) -> list[Sent]:
        """The rows sent and not marked yet (for ``record`` in a claim's transaction)."""
        return list(self._unrecorded.values())

    def recorded(self, marks: Iterable[Sent]) -> None:
        """``marks`` were committed."""
        for item, _, _ in marks:
            self._unrecorded.pop(item.id, None)

    def settle(self) -> None:
        """Mark what was sent and give back what was not, each in a transaction of its own."""
        if self._unrecorded:
            marks = self.waiting()
            with self.new_uow() as uow:
                record(uow, marks)
                uow.commit()
            self.recorded(marks)
        if self._unclaimed:
            with self.new_uow() as uow:
                for id in self._unclaimed:
                    uow.outbox.give_back(id)
                uow.commit()
            self._unclaimed.clear()

    def give_back(self, item: OutboxItem) -> None:
        """A claimed row not tried after all (a 429 came while it waited): waiting again."""
        with self.new_uow() as uow:
            uow.outbox.give_back(item.id)
            uow.commit()

    def retry(self, item: OutboxItem, error: str, *, after: float, count: bool = True) -> None:
        with self.new_uow() as uow:
            at = self.clock.now() + timedelta(seconds=after)
            uow.outbox.mark_retry(item.id, at, error, count=count)
            uow.commit()

    def fail(self, item: OutboxItem, error: str) -> None:
        with self.new_uow() as uow:
            uow.outbox.mark_failed(item.id, error[:500])
            uow.commit()


def record(uow: SqlUnitOfWork, marks: Iterable[Sent]) -> None:
    """Mark rows sent; a new topic's thread id and a card's message id go on the ticket."""
    for item, result, at in marks:
        uow.outbox.mark_sent(item.id, at, result)
        if item.ticket_id is not None and result is not None:
            if item.kind is MessageKind.CREATE_TOPIC:
                uow.tickets.set_topic(item.ticket_id, result)
            elif item.kind is MessageKind.CARD:
                uow.tickets.set_card(item.ticket_id, result)
