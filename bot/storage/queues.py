"""The bot's own repositories: the inbox of stored updates and the outbox of messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from bot.storage.errors import NotFound
from bot.storage.records import (
    RETRY_AFTER,
    InboxItem,
    MessageKind,
    OutboxItem,
    OutboxStatus,
    OutgoingMessage,
)
from bot.storage.session import SessionSource, insert
from bot.storage.tables import (
    InboxRow,
    OutboxRow,
)

# ---- the bot's repositories ---------------------------------------------------------


class SqlInbox:
    """Raw Telegram updates, stored before they are handled."""

    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def add(self, update_id: int, payload: str, at: datetime, chat_id: int | None = None) -> bool:
        """Store the update; ``False`` if this ``update_id`` was stored already (a duplicate).

        ``chat_id`` keeps one chat's updates in order when one of them has to be retried.
        """
        stmt = (
            insert(self._session(), InboxRow)
            .values(update_id=update_id, chat_id=chat_id, payload=payload, received_at=at)
            .on_conflict_do_nothing(index_elements=["update_id"])
            .returning(col(InboxRow.update_id))
        )
        # RETURNING yields the row only when it was inserted (rowcount is unreliable here:
        # psycopg reports -1 for this statement).
        return self._session().execute(stmt).first() is not None

    def pending(self, limit: int = 100, *, now: datetime | None = None) -> list[InboxItem]:
        """Updates not yet handled, oldest ``update_id`` first.

        With ``now``: only those due by then, and none queued behind an earlier update of
        the same chat that is still waiting for its retry, so each chat stays in order.
        """
        stmt = select(InboxRow).where(col(InboxRow.processed_at).is_(None))
        if now is not None:
            earlier = aliased(InboxRow)
            waiting = exists().where(
                col(earlier.chat_id) == col(InboxRow.chat_id),
                col(earlier.processed_at).is_(None),
                col(earlier.update_id) < col(InboxRow.update_id),
                col(earlier.next_attempt_at) > now,
            )
            stmt = stmt.where(_due(col(InboxRow.next_attempt_at), now), ~waiting)
        stmt = (
            stmt.order_by(col(InboxRow.update_id))
            .limit(limit)
            .execution_options(populate_existing=True)
        )
        return [
            InboxItem(
                update_id=row.update_id,
                payload=row.payload,
                chat_id=row.chat_id,
                attempts=row.attempts,
            )
            for row in self._session().scalars(stmt)
        ]

    def count_pending(self) -> int:
        """How many stored updates are not handled yet (``/metrics``)."""
        stmt = select(func.count()).where(col(InboxRow.processed_at).is_(None))
        return int(self._session().execute(stmt).scalar_one())

    def next_due_at(self, now: datetime) -> datetime | None:
        """When the earliest update that waits for a retry falls due (None: none waits)."""
        stmt = select(func.min(col(InboxRow.next_attempt_at))).where(
            col(InboxRow.processed_at).is_(None), col(InboxRow.next_attempt_at) > now
        )
        return self._session().execute(stmt).scalar()

    def mark_done(self, update_id: int, at: datetime, error: str | None = None) -> None:
        """The update was handled (``error`` set: it failed and will not be retried)."""
        row = self._row(update_id)
        row.processed_at = at
        row.error = error
        self._session().flush()

    def mark_retry(self, update_id: int, next_attempt_at: datetime, error: str) -> int:
        """Handling failed with a bug: try again at ``next_attempt_at``; returns the attempts."""
        row = self._row(update_id)
        row.attempts += 1
        row.next_attempt_at = next_attempt_at
        row.error = error
        self._session().flush()
        return row.attempts

    def last_update_id(self) -> int | None:
        """The highest ``update_id`` ever stored, handled or not."""
        stmt = select(func.max(col(InboxRow.update_id)))
        value = self._session().execute(stmt).scalar()
        return int(value) if value is not None else None

    def _row(self, update_id: int) -> InboxRow:
        row = self._session().get(InboxRow, update_id, populate_existing=True)
        if row is None:
            raise NotFound(f"no update {update_id} in the inbox")
        return row


def _due(next_attempt_at: Any, now: datetime) -> Any:
    """A row with no retry time, or one that has come."""
    return or_(next_attempt_at.is_(None), next_attempt_at <= now)


class SqlOutbox:
    """Messages to deliver, in order of ``id``."""

    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def add(self, message: OutgoingMessage, at: datetime) -> int:
        """Queue a message; returns its outbox id."""
        row = OutboxRow(
            chat_id=message.chat_id,
            kind=message.kind,
            text=message.text,
            buttons=[[dict(button) for button in line] for line in message.buttons]
            if message.buttons is not None
            else None,
            message_thread_id=message.message_thread_id,
            target_message_id=message.target_message_id,
            ticket_id=message.ticket_id,
            from_chat_id=message.from_chat_id,
            source_message_id=message.source_message_id,
            priority=message.priority,
            status=OutboxStatus.PENDING,
            attempts=0,
            created_at=at,
        )
        session = self._session()
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id

    def pending(self, limit: int = 100) -> list[OutboxItem]:
        """Pending messages by id, whatever their ``next_attempt_at``."""
        stmt = (
            select(OutboxRow)
            .where(col(OutboxRow.status) == OutboxStatus.PENDING)
            .order_by(col(OutboxRow.id))
            .limit(limit)
        )
        return self._items(self._session().scalars(stmt).all())

    def due(self, now: datetime, limit: int = 100) -> list[OutboxItem]:
        """Pending messages that may be sent at ``now``: live ones first, each by id.

        A message queued behind an earlier one of the same chat that waits for its retry is
        left out, and so is one behind an earlier follow-up of its chat (which comes later in
        this order), so each chat's messages arrive in order.
        """
        earlier = aliased(OutboxRow)
        waiting = exists().where(
            col(earlier.chat_id) == col(OutboxRow.chat_id),
            col(earlier.status) == OutboxStatus.PENDING,
            col(earlier.id) < col(OutboxRow.id),
            or_(
                col(earlier.next_attempt_at) > now, col(earlier.priority) > col(OutboxRow.priority)
            ),
        )
        stmt = select(OutboxRow).where(
            col(OutboxRow.status) == OutboxStatus.PENDING,
            _due(col(OutboxRow.next_attempt_at), now),
            ~waiting,
        )
        stmt = stmt.order_by(col(OutboxRow.priority), col(OutboxRow.id)).limit(limit)
        return self._items(self._session().scalars(stmt).all())

    def count_due(self, now: datetime) -> int:
        """How many pending messages may be sent at ``now``: the sender's backlog."""
        stmt = select(func.count()).where(
            col(OutboxRow.status) == OutboxStatus.PENDING,
            _due(col(OutboxRow.next_attempt_at), now),
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
        row = self._row(id)
        row.status = OutboxStatus.SENT
        row.sent_at = at
        row.telegram_message_id = telegram_message_id
        self._session().flush()

    def mark_retry(
        self, id: int, next_attempt_at: datetime, error: str, *, count: bool = True
    ) -> None:
        """A try failed and will be repeated: stays pending.

        ``count=False`` for a wait that is no fault of the message (a 429, an outage):
        ``attempts`` counts only real failures.
        """
        row = self._row(id)
        if count:
            row.attempts += 1
        row.next_attempt_at = next_attempt_at
        row.error = error
        self._session().flush()

    def mark_failed(self, id: int, error: str) -> None:
        """A try failed for good (terminal): ``attempts`` + 1, never sent."""
        row = self._row(id)
        row.status = OutboxStatus.FAILED
        row.attempts += 1
        row.error = error
        self._session().flush()

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

    def _row(self, id: int) -> OutboxRow:
        row = self._session().get(OutboxRow, id)
        if row is None:
            raise NotFound(f"no message {id} in the outbox")
        return row

    @staticmethod
    def _items(rows: Sequence[OutboxRow]) -> list[OutboxItem]:
        items = []
        for row in rows:
            assert row.id is not None
            items.append(
                OutboxItem(
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
                )
            )
        return items
