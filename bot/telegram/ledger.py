"""What became of each row the sender claimed, written to the outbox: sent, waiting again,
failed for good, or given back untried.

A row sent is remembered until it is marked, which happens in the transaction that claims
the next rows (``Sender._claim``), so rows sent together cost one transaction; if the
database fails meanwhile, the row stays remembered and is never sent again. A row claimed
and not sent when the database failed is given back by the next claim rather than left to
its lease, which would hold its chat for a minute; so are the rows of a claim whose commit
failed without saying whether it was done (the connection dropped before the answer came):
they are found by the lease it wrote, which no other claim shares.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.storage import MessageKind, OutboxItem, SqlUnitOfWork, UnitOfWorkFactory

Sent = tuple[OutboxItem, int | None, datetime]  # the row, its result, when it was sent
Untried = tuple[list[int], list[datetime]]  # rows claimed and not tried; leases of claims


class Ledger:
    def __init__(self, *, new_uow: UnitOfWorkFactory, clock: Clock) -> None:
        self.new_uow = new_uow
        self.clock = clock
        self._unrecorded: dict[int, Sent] = {}  # sent, not yet marked
        self._unclaimed: set[int] = set()  # claimed, not sent, not yet given back
        self._uncertain: set[datetime] = set()  # leases of claims that may have committed

    def sent(self, item: OutboxItem, result: int | None) -> None:
        """``item`` reached Telegram (``result``: the message id, or a new topic's thread
        id): to be marked with the next claim."""
        self._unrecorded[item.id] = (item, result, self.clock.now())

    def unsent(self, item: OutboxItem) -> None:
        """The database failed while ``item`` was in hand: given back by the next pass,
        unless it was sent (then it is marked, never sent again)."""
        if item.id not in self._unrecorded:
            self._unclaimed.add(item.id)

    def uncertain(self, lease: datetime) -> None:
        """A claim writing ``lease`` failed in its commit: it may have been done."""
        self._uncertain.add(lease)

    def untried(self) -> Untried:
        """What the next claim gives back: rows claimed and not sent, and the leases of
        claims that may have committed (their rows are no lane's)."""
        return list(self._unclaimed), list(self._uncertain)

    def given_back(self, untried: Untried) -> None:
        """``untried`` was given back, committed."""
        self._unclaimed.difference_update(untried[0])
        self._uncertain.difference_update(untried[1])

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
        if self._unclaimed or self._uncertain:
            untried = self.untried()
            with self.new_uow() as uow:
                give_back_untried(uow, untried)
                uow.commit()
            self.given_back(untried)

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


def give_back_untried(uow: SqlUnitOfWork, untried: Untried, keep: Collection[int] = ()) -> None:
    """Put back rows claimed and never tried (see ``Ledger.untried``); ``keep``: chats this
    process is sending to, whose rows are in hand whatever their lease."""
    ids, leases = untried
    for id in ids:
        uow.outbox.give_back(id)
    for lease in leases:
        uow.outbox.give_back_claim(lease, keep=keep)


def release_left(
    new_uow: UnitOfWorkFactory,
    now: datetime,
    *,
    sole: bool,
    keep: Collection[int],
    log: logging.Logger,  # the sender's
) -> None:
    """Put back the rows a dead sender left ``sending``: after their lease, or, for the only
    sender on the database (``sole``), whatever their lease (they are its own, from before a
    restart); not those of ``keep``'s chats, in hand. Each may have reached the customer
    already: logged."""
    until = datetime.max.replace(tzinfo=now.tzinfo) if sole else now
    with new_uow() as uow:
        chats = uow.outbox.release_expired(until, keep=keep)
        uow.commit()
    if chats:
        log.warning(
            "%d message(s) were being sent when their sender stopped (chats %s); sending"
            " them again: each may arrive twice",
            len(chats),
            ", ".join(str(c) for c in sorted(set(chats))[:10]),
        )
