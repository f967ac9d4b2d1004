"""The inbox: raw Telegram updates, stored before they are handled.

Several replicas may handle one inbox (PostgreSQL): ``claim`` locks an update for the
transaction that handles it (``FOR UPDATE SKIP LOCKED``) and only when no earlier update of
its chat is still waiting, so one chat's updates are never handled at once and always in
``update_id`` order, whichever replica stored them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, func, or_
from sqlalchemy import select as select_core
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from bot.storage.errors import NotFound
from bot.storage.records import InboxItem
from bot.storage.session import SessionSource, built, dialect_insert, due
from bot.storage.tables import InboxRow

_TABLE: Any = InboxRow.__table__  # type: ignore[attr-defined]


def _claim_statements() -> tuple[Any, Any]:
    """``claim``'s two queries, built once and on the table, not the ORM class (building
    them per update, or the ORM's handling of them, took longer than running them)."""
    row, earlier = _TABLE.c, _TABLE.alias("earlier").c
    ahead = exists().where(
        earlier.chat_id == row.chat_id,
        earlier.processed_at.is_(None),
        earlier.update_id < row.update_id,
    )
    mine = select_core(row.update_id).where(
        row.update_id == bindparam("update_id"), row.processed_at.is_(None)
    )
    return (
        mine.with_for_update(skip_locked=True, of=_TABLE),
        mine.where(~ahead).with_for_update(skip_locked=True, of=_TABLE),
    )


_CLAIM, _CLAIM_IN_TURN = _claim_statements()


def _add_statement(dialect: str) -> Any:
    stmt = dialect_insert(dialect, _TABLE).on_conflict_do_nothing(index_elements=["update_id"])
    return stmt.returning(_TABLE.c.update_id)


_MARK_DONE = (
    _TABLE.update()
    .where(_TABLE.c.update_id == bindparam("done_id"))
    .values(processed_at=bindparam("at"), error=bindparam("failure"))
    .returning(_TABLE.c.update_id)
)


class SqlInbox:
    """Raw Telegram updates, stored before they are handled."""

    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def add(self, update_id: int, payload: str, at: datetime, chat_id: int | None = None) -> bool:
        """Store the update; ``False`` if this ``update_id`` was stored already (a duplicate).

        ``chat_id`` keeps one chat's updates in order when one of them has to be retried.
        """
        session = self._session()
        values = {"update_id": update_id, "chat_id": chat_id, "payload": payload, "received_at": at}
        # RETURNING yields the row only when it was inserted (rowcount is unreliable here:
        # psycopg reports -1 for this statement).
        return session.execute(built(session, _add_statement), values).first() is not None

    def pending(
        self,
        limit: int = 100,
        *,
        now: datetime | None = None,
        settled_before: datetime | None = None,
    ) -> list[InboxItem]:
        """Updates not yet handled, oldest ``update_id`` first.

        With ``now``: only those due by then, and none queued behind an earlier update of
        the same chat that is still waiting for its retry, so each chat stays in order.
        With ``settled_before``: an update whose predecessor (``update_id`` - 1) is not
        stored yet waits until it was received before then, so that updates delivered at
        once over several webhook connections are handled in order.
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
            stmt = stmt.where(due(col(InboxRow.next_attempt_at), now), ~waiting)
        if settled_before is not None:
            before = aliased(InboxRow)
            predecessor = exists().where(col(before.update_id) == col(InboxRow.update_id) - 1)
            stmt = stmt.where(or_(predecessor, col(InboxRow.received_at) <= settled_before))
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

    def claim(self, item: InboxItem) -> bool:
        """Take the update for this transaction: True when it is still waiting, no other
        transaction holds it, and no earlier update of its chat waits (its turn has come).

        The lock lasts until the unit of work ends; call this first in it.
        """
        stmt = _CLAIM if item.chat_id is None else _CLAIM_IN_TURN
        mine = self._session().execute(stmt, {"update_id": item.update_id})
        return mine.first() is not None

    def count_pending(self) -> int:
        """How many stored updates are not handled yet (``/metrics``)."""
        # in update order, so that SQLite counts along the index of unhandled updates (the
        # plain count went along the (chat, handled) index: every update ever stored)
        unhandled = (
            select(col(InboxRow.update_id))
            .where(col(InboxRow.processed_at).is_(None))
            .order_by(col(InboxRow.update_id))
        )
        stmt = select(func.count()).select_from(unhandled.subquery())
        return int(self._session().execute(stmt).scalar_one())

    def next_due_at(self, now: datetime) -> datetime | None:
        """When the earliest update that waits for a retry falls due (None: none waits)."""
        stmt = select(func.min(col(InboxRow.next_attempt_at))).where(
            col(InboxRow.processed_at).is_(None), col(InboxRow.next_attempt_at) > now
        )
        return self._session().execute(stmt).scalar()

    def mark_done(self, update_id: int, at: datetime, error: str | None = None) -> None:
        """The update was handled (``error`` set: it failed and will not be retried)."""
        params = {"done_id": update_id, "at": at, "failure": error}
        if self._session().execute(_MARK_DONE, params).first() is None:
            raise NotFound(f"no update {update_id} in the inbox")

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
