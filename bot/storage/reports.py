"""What ``supportbot report`` reads: one period's tickets, their history, and the questions the
knowledge missed, in one read-only transaction (so the figures agree with each other).

The tickets are those *opened* in [since, until); their events and follow-ups are all of them,
whenever they happened, so a ticket opened on the last day and resolved the next counts as
resolved. The unmatched questions are those asked in [since, until).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, inspect
from sqlmodel import col, select

from bot.storage.conversations import ticket_event
from bot.storage.factory import UnitOfWorkFactory
from bot.storage.followups import followup_from_row
from bot.storage.tables import FollowUpRow, TicketEventRow, TicketRow
from bot.storage.tickets import ticket_of
from bot.storage.uow import SqlUnitOfWork
from flows.learning import Unmatched
from flows.model import FollowUp, Ticket, TicketEvent, TicketEventKind

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


def read_period(
    database: Database | UnitOfWorkFactory, since: datetime, until: datetime
) -> ReportData:
    """The period's records, read in one unit of work that changes nothing (rolled back).

    ``database``: an engine, or what adapters hold instead (``App.new_uow``). A database with
    no tables yet (never migrated) has no records.
    """
    uow = SqlUnitOfWork(database) if isinstance(database, Engine) else database()
    with uow:
        session = uow._session()
        if not inspect(session.connection()).has_table(TicketRow.__tablename__):
            return ReportData(since, until, (), (), (), ())
        in_period = (col(TicketRow.created_at) >= since, col(TicketRow.created_at) < until)
        opened = select(TicketRow.id).where(*in_period)
        tickets = session.scalars(
            select(TicketRow)
            .where(*in_period)
            .order_by(col(TicketRow.created_at), col(TicketRow.id))
        )
        ticket_list = tuple(ticket_of(row) for row in tickets)
        events = session.scalars(
            select(TicketEventRow)
            .where(col(TicketEventRow.ticket_id).in_(opened))
            .order_by(col(TicketEventRow.at), col(TicketEventRow.id))
        )
        event_list = tuple(ticket_event(row) for row in events if row.kind in _KINDS)
        followups = session.scalars(
            select(FollowUpRow)
            .where(col(FollowUpRow.ticket_id).in_(opened))
            .order_by(col(FollowUpRow.id))
        )
        followup_list = tuple(followup_from_row(row) for row in followups)
        unmatched = tuple(uow.unmatched.between(since, until))
    return ReportData(since, until, ticket_list, event_list, followup_list, unmatched)
