"""The follow-up timers on SQL: the flows' ``FollowUpRepository`` and the dispatcher's claim.

The database is the list of timers. A dispatcher *claims* due rows: they become
``sending`` with a lease (``lease_until``) and one more attempt, in a transaction of their
own. It then handles each in a unit of work that first *locks* the row and checks the claim
is still its own (``lock_claimed``): a claim whose process died is taken again by the next
claim after the lease, and the late first owner, if it was only slow, finds the row taken
and leaves it alone. On PostgreSQL both use ``FOR UPDATE SKIP LOCKED`` / ``FOR UPDATE``, so
two processes never claim the same row; SQLite takes the write lock at ``BEGIN IMMEDIATE``
and serves one process (``bot.storage.lock``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlmodel import col, select

from bot.storage.errors import NotFound, StorageError
from bot.storage.session import SessionSource, insert
from bot.storage.tables import FollowUpRow
from flows.model import ChatId, FollowUp, FollowUpKind, FollowUpStatus, TicketId

WAITING = (FollowUpStatus.PENDING.value, FollowUpStatus.SENDING.value)


class SqlFollowUps:
    def __init__(self, session: SessionSource) -> None:
        self._session = session

    # ---- the flows' port ---------------------------------------------------------------

    def add(self, followup: FollowUp) -> FollowUp | None:
        """Store a new follow-up; None when its (ticket, kind, round) exists.

        ``INSERT ... ON CONFLICT DO NOTHING``: a duplicate neither raises nor spoils the
        caller's transaction.
        """
        if followup.id is not None:
            raise StorageError(f"follow-up {followup.id} is already stored; use save()")
        now = datetime.now(UTC)
        stmt = (
            insert(self._session(), FollowUpRow)
            .values(
                ticket_id=followup.ticket_id,
                chat_id=followup.chat_id,
                kind=FollowUpKind(followup.kind).value,
                round=followup.round,
                due_at=followup.due_at,
                status=FollowUpStatus(followup.status).value,
                attempts=followup.attempts,
                lease_until=followup.lease_until,
                sent_at=followup.sent_at,
                last_error=followup.last_error,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["ticket_id", "kind", "round"])
            .returning(col(FollowUpRow.id))
        )
        new_id = self._session().execute(stmt).scalar()
        if new_id is None:
            return None
        row = self._session().get(FollowUpRow, new_id, populate_existing=True)
        assert row is not None
        return followup_from_row(row)

    def get(self, followup_id: int) -> FollowUp | None:
        row = self._session().get(FollowUpRow, followup_id, populate_existing=True)
        return followup_from_row(row) if row is not None else None

    def save(self, followup: FollowUp) -> None:
        """Store status, due_at, sent_at, lease and last_error of an existing row."""
        row = self._session().get(FollowUpRow, followup.id) if followup.id is not None else None
        if row is None:
            raise NotFound(f"follow-up {followup.id} is not stored; use add()")
        row.status = FollowUpStatus(followup.status).value
        row.due_at = followup.due_at
        row.sent_at = followup.sent_at
        row.lease_until = followup.lease_until
        row.last_error = followup.last_error
        row.updated_at = datetime.now(UTC)
        self._session().flush()

    def for_ticket(self, ticket_id: TicketId) -> list[FollowUp]:
        """The ticket's follow-ups, oldest first."""
        stmt = (
            select(FollowUpRow)
            .where(col(FollowUpRow.ticket_id) == ticket_id)
            .order_by(col(FollowUpRow.id))
            .execution_options(populate_existing=True)
        )
        return [followup_from_row(row) for row in self._session().scalars(stmt)]

    def cancel_pending(self, ticket_id: TicketId, at: datetime) -> int:
        """Cancel the ticket's pending (and sending) follow-ups; returns how many."""
        return self._cancel(col(FollowUpRow.ticket_id) == ticket_id, at, None)

    # ---- the dispatcher's ----------------------------------------------------------------

    def claim_due(
        self, now: datetime, lease: timedelta, limit: int, *, chat_id: int | None = None
    ) -> list[FollowUp]:
        """Claim up to ``limit`` rows that are due: pending with ``due_at <= now``, or
        sending with a lease that ran out (its process died). Earliest due first.

        Each becomes ``sending`` until ``now + lease`` with one more attempt. The caller
        commits, then handles each in a unit of work of its own (``lock_claimed``).
        ``chat_id``: only that chat's (the terminal chat).
        """
        if limit <= 0:
            return []
        due = or_(
            and_(
                col(FollowUpRow.status) == FollowUpStatus.PENDING.value,
                col(FollowUpRow.due_at) <= now,
            ),
            and_(
                col(FollowUpRow.status) == FollowUpStatus.SENDING.value,
                col(FollowUpRow.lease_until) < now,
            ),
        )
        stmt = select(FollowUpRow.id).where(due)
        if chat_id is not None:
            stmt = stmt.where(col(FollowUpRow.chat_id) == chat_id)
        # SKIP LOCKED: rows another process is claiming or handling are left to it.
        # (SQLite renders no FOR UPDATE: BEGIN IMMEDIATE holds the only write lock.)
        stmt = (
            stmt.order_by(col(FollowUpRow.due_at), col(FollowUpRow.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        session = self._session()
        ids = list(session.execute(stmt).scalars())
        if not ids:
            return []
        session.execute(
            update(FollowUpRow)
            .where(col(FollowUpRow.id).in_(ids))
            .values(
                status=FollowUpStatus.SENDING.value,
                lease_until=now + lease,
                attempts=col(FollowUpRow.attempts) + 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        rows = session.scalars(
            select(FollowUpRow)
            .where(col(FollowUpRow.id).in_(ids))
            .order_by(col(FollowUpRow.due_at), col(FollowUpRow.id))
            .execution_options(populate_existing=True)
        )
        return [followup_from_row(row) for row in rows]

    def lock_claimed(self, claimed: FollowUp) -> FollowUp | None:
        """The row, locked until the end of this unit of work, if ``claimed`` (a row that
        ``claim_due`` returned) is still this claim: sending, with the same attempt.

        None when it is not: cancelled meanwhile, or taken by another claim after the
        lease ran out; the caller leaves it alone.
        """
        stmt = (
            select(FollowUpRow)
            .where(
                col(FollowUpRow.id) == claimed.id,
                col(FollowUpRow.status) == FollowUpStatus.SENDING.value,
                col(FollowUpRow.attempts) == claimed.attempts,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row = self._session().scalars(stmt).first()
        return followup_from_row(row) if row is not None else None

    def release(self, claimed: FollowUp, now: datetime, error: str | None = None) -> bool:
        """Give a claim back: pending again at its ``due_at``, for the next claim.

        For a claim not handled (the dispatcher stopped first). False when the claim is not
        this one any more.
        """
        row = self._session().get(FollowUpRow, claimed.id, populate_existing=True)
        if row is None or row.status != FollowUpStatus.SENDING or row.attempts != claimed.attempts:
            return False
        row.status = FollowUpStatus.PENDING.value
        row.lease_until = None
        row.last_error = error if error is not None else row.last_error
        row.updated_at = now
        self._session().flush()
        return True

    def record_error(self, claimed: FollowUp, error: str, now: datetime) -> bool:
        """Note why handling a claim failed; the row stays claimed until its lease ends and
        is then tried again. False when the claim is not this one any more."""
        row = self._session().get(FollowUpRow, claimed.id, populate_existing=True)
        if row is None or row.status != FollowUpStatus.SENDING or row.attempts != claimed.attempts:
            return False
        row.last_error = error[:500]
        row.updated_at = now
        self._session().flush()
        return True

    def cancel_for_chat(self, chat_id: int, at: datetime, reason: str) -> int:
        """Cancel every pending (and sending) follow-up of a chat, e.g. the customer blocked
        the bot; returns how many."""
        return self._cancel(col(FollowUpRow.chat_id) == chat_id, at, reason)

    def next_due_at(self, now: datetime) -> datetime | None:
        """When the next row may be claimed: the earliest pending ``due_at`` or running-out
        lease. At or before ``now`` when one is due already; None when none waits."""
        pending = select(func.min(col(FollowUpRow.due_at))).where(
            col(FollowUpRow.status) == FollowUpStatus.PENDING.value
        )
        leased = select(func.min(col(FollowUpRow.lease_until))).where(
            col(FollowUpRow.status) == FollowUpStatus.SENDING.value
        )
        times = [self._session().execute(stmt).scalar() for stmt in (pending, leased)]
        found = [t for t in times if t is not None]
        return min(found) if found else None

    def count_by_status(self) -> dict[FollowUpStatus, int]:
        """How many rows are in each status (for the benchmark and operators)."""
        stmt = select(FollowUpRow.status, func.count()).group_by(col(FollowUpRow.status))
        return {FollowUpStatus(s): int(n) for s, n in self._session().execute(stmt).all()}

    def _cancel(self, where: Any, at: datetime, reason: str | None) -> int:
        stmt = select(FollowUpRow).where(where, col(FollowUpRow.status).in_(WAITING))
        rows = self._session().scalars(stmt.execution_options(populate_existing=True)).all()
        for row in rows:
            row.status = FollowUpStatus.CANCELLED.value
            row.lease_until = None
            row.updated_at = at
            if reason is not None:
                row.last_error = reason
        self._session().flush()
        return len(rows)


def followup_from_row(row: FollowUpRow) -> FollowUp:
    assert row.id is not None
    return FollowUp(
        id=row.id,
        ticket_id=TicketId(row.ticket_id),
        chat_id=ChatId(row.chat_id),
        kind=FollowUpKind(row.kind),
        due_at=row.due_at,
        round=row.round,
        status=FollowUpStatus(row.status),
        attempts=row.attempts,
        lease_until=row.lease_until,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )
