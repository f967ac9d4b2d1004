"""What ``supportbot report`` reads: one period's tickets, their history, and the questions the
knowledge missed, in one read-only transaction (so the figures agree with each other).

The tickets are those *opened* in [since, until); their events and follow-ups are all of them,
whenever they happened, so a ticket opened on the last day and resolved the next counts as
resolved. The unmatched questions are those asked in [since, until).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlmodel import col, select

from bot.storage.conversations import SqlTicketRepository
from bot.storage.followups import _followup
from bot.storage.learning import SqlUnmatched
from bot.storage.migrate import current_revision
from bot.storage.tables import FollowUpRow, TicketEventRow, TicketRow
from flows.learning import Unmatched
from flows.model import FollowUp, Ticket, TicketEvent, TicketEventKind, TicketId, UserId

# what ``make_engine`` returns, named for callers outside bot.storage (which import no SQLAlchemy)
Database = Engine

_KINDS = frozenset(kind.value for kind in TicketEventKind)  # a newer version's are left out


@dataclass(frozen=True)
class ReportData:
    """One period's records, as the flows' dataclasses; each tuple oldest first."""

    since: datetime
    until: datetime
    tickets: tuple[Ticket, ...]
    events: tuple[TicketEvent, ...]  # of those tickets
    followups: tuple[FollowUp, ...]  # of those tickets
    unmatched: tuple[Unmatched, ...]  # asked in the period


def read_period(engine: Engine, since: datetime, until: datetime) -> ReportData:
    """The period's records, read in one transaction that changes nothing. A database with no
    tables yet (never migrated) has none."""
    if current_revision(engine) is None:
        return ReportData(since, until, (), (), (), ())
    opened = select(TicketRow.id).where(
        col(TicketRow.created_at) >= since, col(TicketRow.created_at) < until
    )
    with Session(engine) as session:
        try:
            tickets = session.scalars(
                select(TicketRow)
                .where(col(TicketRow.created_at) >= since, col(TicketRow.created_at) < until)
                .order_by(col(TicketRow.created_at), col(TicketRow.id))
            )
            ticket_list = tuple(SqlTicketRepository._ticket(row) for row in tickets)
            events = session.scalars(
                select(TicketEventRow)
                .where(col(TicketEventRow.ticket_id).in_(opened))
                .order_by(col(TicketEventRow.at), col(TicketEventRow.id))
            )
            event_list = tuple(_event(row) for row in events if row.kind in _KINDS)
            followups = session.scalars(
                select(FollowUpRow)
                .where(col(FollowUpRow.ticket_id).in_(opened))
                .order_by(col(FollowUpRow.id))
            )
            followup_list = tuple(_followup(row) for row in followups)
            unmatched = tuple(SqlUnmatched(lambda: session).between(since, until))
        finally:
            session.rollback()
    return ReportData(since, until, ticket_list, event_list, followup_list, unmatched)


def _event(row: TicketEventRow) -> TicketEvent:
    return TicketEvent(
        ticket_id=TicketId(row.ticket_id),
        kind=TicketEventKind(row.kind),
        at=row.at,
        actor_id=UserId(row.actor_id) if row.actor_id is not None else None,
        detail=row.detail,
    )
