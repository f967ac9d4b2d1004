"""The outbox: messages to deliver, and the pace they go out at.

Several senders (one per replica) may share it. A sender ``claim``s the first waiting row
of a chat (never one behind another of its chat that waits or is being sent), which makes
it ``sending`` until a lease ends; it marks the row sent, retried or failed after the call.
A row whose sender died is taken up again once its lease has run out (``release_expired``):
that row may arrive twice, as the Bot API has no idempotency key; nothing else can.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, exists, func, or_, update
from sqlalchemy import insert as insert_into
from sqlalchemy import select as select_core
from sqlmodel import col, select

from bot.storage.errors import NotFound
from bot.storage.records import (
    LIVE,
    RETRY_AFTER,
    MessageKind,
    OutboxItem,
    OutboxStatus,
    OutgoingMessage,
)
from bot.storage.session import SessionSource, due, insert
from bot.storage.tables import OutboxRow, SendPaceRow

_NOT_DONE = (OutboxStatus.PENDING, OutboxStatus.SENDING)
_TABLE: Any = OutboxRow.__table__  # type: ignore[attr-defined]
_PACE: Any = SendPaceRow.__table__  # type: ignore[attr-defined]


def _claim_statement(one_chat: bool, live: bool | None) -> Any:
    """``claim``'s statement: one UPDATE of the rows its subquery picks. Built once, and on
    the table (not the ORM class): building it per call, or the ORM's handling of it, cost
    more than running it."""
    row, earlier = _TABLE.c, _TABLE.alias("earlier").c
    ahead = exists().where(
        earlier.chat_id == row.chat_id, earlier.id < row.id, earlier.status.in_(_NOT_DONE)
    )
    chosen = select_core(row.id).where(
        row.status == OutboxStatus.PENDING, due(row.next_attempt_at, bindparam("now")), ~ahead
    )
    if one_chat:
        chosen = chosen.where(row.chat_id == bindparam("chat"))
    if live is not None:
        chosen = chosen.where(row.priority == LIVE if live else row.priority != LIVE)
    to_a_group = case((row.chat_id < 0, 1), else_=0)  # the team's chat: after customers'
    # in the order customers wrote (update ids), not the order replies were queued: several
    # replicas handle updates side by side and queue replies out of that order; rows no
    # update caused come after
    unprompted = case((row.update_id.is_(None), 1), else_=0)
    chosen = (
        chosen.order_by(row.priority, to_a_group, unprompted, row.update_id, row.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True, of=_TABLE)
    )
    return (
        update(_TABLE)
        .where(row.id.in_(chosen.scalar_subquery().correlate(None)))
        .values(status=OutboxStatus.SENDING, lease_until=bindparam("lease"))
        .returning(*_TABLE.c)
    )


_CLAIMS = {
    (one_chat, live): _claim_statement(one_chat, live)
    for one_chat in (False, True)
    for live in (None, True, False)
}
_ADD = insert_into(_TABLE).returning(_TABLE.c.id)
_BY_ID = _TABLE.c.id == bindparam("row_id")
_MARK_SENT = (
    update(_TABLE)
    .where(_BY_ID)
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("at"),
        telegram_message_id=bindparam("message_id"),
        lease_until=None,
    )
    .returning(_TABLE.c.id)
)


class SqlOutbox:
    """Messages to deliver, in order of ``id``."""

    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def add(self, message: OutgoingMessage, at: datetime) -> int:
        """Queue a message; returns its outbox id."""
        values = {
            "chat_id": message.chat_id,
            "kind": message.kind,
            "text": message.text,
            "buttons": [[dict(button) for button in line] for line in message.buttons]
            if message.buttons is not None
            else None,
            "message_thread_id": message.message_thread_id,
            "target_message_id": message.target_message_id,
            "ticket_id": message.ticket_id,
            "from_chat_id": message.from_chat_id,
            "source_message_id": message.source_message_id,
            "priority": message.priority,
            "update_id": message.update_id,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "created_at": at,
        }
        return int(self._session().execute(_ADD, values).scalar_one())

    def pending(self, limit: int = 100) -> list[OutboxItem]:
        """Pending messages by id, whatever their ``next_attempt_at``."""
        stmt = (
            select(OutboxRow)
            .where(col(OutboxRow.status) == OutboxStatus.PENDING)
            .order_by(col(OutboxRow.id))
            .limit(limit)
        )
        return self._items(self._session().scalars(stmt).all())

    def claim(
        self,
        now: datetime,
        lease_until: datetime,
        limit: int,
        *,
        chat_id: int | None = None,
        live: bool | None = None,
    ) -> list[OutboxItem]:
        """Take up to ``limit`` due rows, each the first of its chat not yet done, live ones
        first, and of those the customers' before the team chat's (a group: its notices are
        bulk work, they wait while customers' replies do): each becomes ``sending`` until
        ``lease_until``. Rows another transaction holds
        are skipped (``FOR UPDATE SKIP LOCKED``). ``chat_id``: only that chat's; ``live``:
        only live rows (True) or only the others (False)."""
        stmt = _CLAIMS[(chat_id is not None, live)]
        params = {"now": now, "lease": lease_until, "limit": limit, "chat": chat_id}
        rows = self._session().execute(stmt, params).all()
        return sorted((_item(row) for row in rows), key=_claim_order)

    def release_expired(self, now: datetime, *, keep: Collection[int] = ()) -> list[int]:
        """Rows left ``sending`` by a sender whose lease ran out (it died, or this process
        was restarted): waiting again; returns their chats (the caller logs them). ``keep``:
        chats the caller is sending to itself, left alone."""
        stmt = (
            update(OutboxRow)
            .where(
                col(OutboxRow.status) == OutboxStatus.SENDING,
                or_(col(OutboxRow.lease_until).is_(None), col(OutboxRow.lease_until) < now),
                col(OutboxRow.chat_id).not_in(list(keep)),
            )
            .values(status=OutboxStatus.PENDING, lease_until=None)
            .returning(col(OutboxRow.chat_id))
            .execution_options(synchronize_session=False)
        )
        return list(self._session().execute(stmt).scalars())

    def lease_ends(self) -> datetime | None:
        """When the earliest lease of a row being sent runs out (None: none is being sent)."""
        stmt = select(func.min(col(OutboxRow.lease_until))).where(
            col(OutboxRow.status) == OutboxStatus.SENDING
        )
        return self._session().execute(stmt).scalar()

    def count_due(self, now: datetime) -> int:
        """How many pending messages may be sent at ``now``: the sender's backlog."""
        stmt = select(func.count()).where(
            col(OutboxRow.status) == OutboxStatus.PENDING,
            due(col(OutboxRow.next_attempt_at), now),
        )
        return int(self._session().execute(stmt).scalar() or 0)

    def count_pending(self) -> int:
        """How many messages wait to be sent, due or not (``/metrics``)."""
        stmt = select(func.count()).where(col(OutboxRow.status) == OutboxStatus.PENDING)
        return int(self._session().execute(stmt).scalar_one())

    def next_due_at(self, now: datetime) -> datetime | None:
        """When the earliest message that waits for a retry falls due (None: none waits)."""
        stmt = select(func.min(col(OutboxRow.next_attempt_at))).where(
            col(OutboxRow.status) == OutboxStatus.PENDING, col(OutboxRow.next_attempt_at) > now
        )
        return self._session().execute(stmt).scalar()

    def paused_until(self, now: datetime) -> datetime | None:
        """When the latest 429 pause stored on a pending row ends, if after ``now``: a
        restarted sender waits it out (the row charged the 429 is due when it ends)."""
        stmt = select(func.max(col(OutboxRow.next_attempt_at))).where(
            col(OutboxRow.status) == OutboxStatus.PENDING,
            col(OutboxRow.error).startswith(RETRY_AFTER),
            col(OutboxRow.next_attempt_at) > now,
        )
        return self._session().execute(stmt).scalar()

    def for_chat(self, chat_id: int, status: OutboxStatus | None = None) -> list[OutboxItem]:
        """A chat's messages by id, optionally only those with ``status``."""
        stmt = select(OutboxRow).where(col(OutboxRow.chat_id) == chat_id)
        if status is not None:
            stmt = stmt.where(col(OutboxRow.status) == status)
        return self._items(self._session().scalars(stmt.order_by(col(OutboxRow.id))).all())

    def waiting_messages(self, chat_id: int) -> int:
        """How many messages (texts, cards, copies) wait to go to the chat; opening or
        closing a topic and clearing buttons are not counted."""
        stmt = select(func.count()).where(
            col(OutboxRow.chat_id) == chat_id,
            col(OutboxRow.status) == OutboxStatus.PENDING,
            col(OutboxRow.kind).in_([MessageKind.SEND, MessageKind.CARD, MessageKind.COPY]),
        )
        return int(self._session().execute(stmt).scalar_one())

    def mark_sent(self, id: int, at: datetime, telegram_message_id: int | None) -> None:
        params = {"row_id": id, "at": at, "message_id": telegram_message_id}
        if self._session().execute(_MARK_SENT, params).first() is None:
            raise NotFound(f"no message {id} in the outbox")

    def mark_retry(
        self, id: int, next_attempt_at: datetime, error: str, *, count: bool = True
    ) -> None:
        """A try failed and will be repeated: waiting again.

        ``count=False`` for a wait that is no fault of the message (a 429, an outage):
        ``attempts`` counts only real failures.
        """
        self._set(
            id,
            status=OutboxStatus.PENDING,
            attempts=col(OutboxRow.attempts) + (1 if count else 0),
            next_attempt_at=next_attempt_at,
            error=error,
            lease_until=None,
        )

    def give_back(self, id: int) -> None:
        """A claimed row not tried after all (the sender is stopping or pausing, or the
        database failed before the call): waiting again. A row no longer ``sending`` (sent,
        given up) is left as it is."""
        stmt = (
            update(OutboxRow)
            .where(col(OutboxRow.id) == id, col(OutboxRow.status) == OutboxStatus.SENDING)
            .values(status=OutboxStatus.PENDING, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        self._session().execute(stmt)

    def give_back_claim(self, lease_until: datetime, *, keep: Collection[int] = ()) -> None:
        """The rows one claim took (found by the lease it wrote, to the microsecond), still
        ``sending``: waiting again. For a claim whose commit may or may not have been done;
        ``keep``: chats the caller is sending to, left alone."""
        stmt = (
            update(OutboxRow)
            .where(
                col(OutboxRow.status) == OutboxStatus.SENDING,
                col(OutboxRow.lease_until) == lease_until,
                col(OutboxRow.chat_id).not_in(list(keep)),
            )
            .values(status=OutboxStatus.PENDING, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        self._session().execute(stmt)

    def mark_failed(self, id: int, error: str) -> None:
        """A try failed for good (terminal): ``attempts`` + 1, never sent."""
        self._set(
            id,
            status=OutboxStatus.FAILED,
            attempts=col(OutboxRow.attempts) + 1,
            error=error,
            lease_until=None,
        )

    def _set(self, id: int, **values: Any) -> None:
        """One UPDATE by key (no read first: the sender writes each row it sends)."""
        stmt = (
            update(OutboxRow)
            .where(col(OutboxRow.id) == id)
            .values(**values)
            .returning(col(OutboxRow.id))
            .execution_options(synchronize_session=False)
        )
        if self._session().execute(stmt).first() is None:
            raise NotFound(f"no message {id} in the outbox")

    def cancel_for_chat(self, chat_id: int, reason: str) -> int:
        """Cancel every pending message to the chat (e.g. the customer blocked the bot)."""
        stmt = select(OutboxRow).where(
            col(OutboxRow.chat_id) == chat_id, col(OutboxRow.status) == OutboxStatus.PENDING
        )
        rows = self._session().scalars(stmt).all()
        for row in rows:
            row.status = OutboxStatus.CANCELLED
            row.error = reason
        self._session().flush()
        return len(rows)

    @staticmethod
    def _items(rows: Sequence[OutboxRow]) -> list[OutboxItem]:
        return [_item(row) for row in rows]


def _claim_order(item: OutboxItem) -> tuple[int, bool, bool, int, int]:
    """The claim's order (``_claim_statement``), for the rows it returned in no order."""
    unprompted = item.update_id is None
    return (item.priority, item.chat_id < 0, unprompted, item.update_id or 0, item.id)


def _item(row: Any) -> OutboxItem:
    """An outbox row (an ``OutboxRow`` or a result row of its columns) as an item."""
    assert row.id is not None
    return OutboxItem(
        id=row.id,
        chat_id=row.chat_id,
        kind=MessageKind(row.kind),
        text=row.text,
        buttons=row.buttons,
        message_thread_id=row.message_thread_id,
        target_message_id=row.target_message_id,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        error=row.error,
        telegram_message_id=row.telegram_message_id,
        ticket_id=row.ticket_id,
        from_chat_id=row.from_chat_id,
        source_message_id=row.source_message_id,
        priority=row.priority,
        update_id=row.update_id,
    )


class SqlPace:
    """Slots for sending, shared by every replica (GCRA): key 0 is the bot's overall budget,
    a group's chat id its own limit. Times are seconds since the epoch."""

    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def take(self, key: int, now: float, interval: float) -> float:
        """Reserve the next slot of ``key``, one ``interval`` after the last one taken (or
        ``now``, if that is later); returns when it begins: the caller waits until then."""
        row = col(SendPaceRow.tat)
        stmt = (
            update(SendPaceRow)
            .where(col(SendPaceRow.key) == key)
            .values(tat=case((row > now, row), else_=now) + interval)
            .returning(row)
        )
        tat = self._session().execute(stmt).scalar()
        if tat is None:  # the first slot ever taken of this key
            self._session().execute(
                insert(self._session(), SendPaceRow)
                .values(key=key, tat=now)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            tat = self._session().execute(stmt).scalar_one()
        return float(tat) - interval

    def ahead(self, key: int, now: float) -> float:
        """How far ahead of ``now`` the next free slot of ``key`` lies (0: free now). The row
        stays locked until the transaction ends (PostgreSQL), as ``take`` would lock it."""
        stmt = select_core(_PACE.c.tat).where(_PACE.c.key == key).with_for_update()
        tat = self._session().execute(stmt).scalar()
        return 0.0 if tat is None else max(float(tat) - now, 0.0)

    def hold(self, key: int, until: float) -> None:
        """No slot of ``key`` begins before ``until`` (a 429's ``retry_after``)."""
        row = col(SendPaceRow.tat)
        self._session().execute(
            insert(self._session(), SendPaceRow)
            .values(key=key, tat=until)
            .on_conflict_do_update(
                index_elements=["key"], set_={"tat": case((row > until, row), else_=until)}
            )
        )
