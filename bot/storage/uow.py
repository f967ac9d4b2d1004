"""The unit of work: one short-lived session, one transaction, per update.

::

    with SqlUnitOfWork(engine) as uow:
        uow.conversations.save(conversation)
        uow.outbox.add(message, at=now)
        uow.commit()

Leaving the block without ``commit()`` (or by an exception) rolls everything back. After
``commit()`` the unit of work is closed; open a new one for the next piece of work.

The repositories implement the Protocols in ``flows.ports`` on SQL and map between the
``flows.model`` dataclasses and the tables; ``inbox`` and ``outbox`` are the bot's own.
``agents``, ``audit`` and ``ticket_events`` serve the support team's side; ``followups``
are the timers of ``bot.followups``.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bot.storage.conversations import (
    SqlConversationRepository,
    SqlCustomerRepository,
    SqlTicketEvents,
    SqlTranscriptRepository,
)
from bot.storage.errors import StorageError
from bot.storage.followups import SqlFollowUps
from bot.storage.inbox import SqlInbox
from bot.storage.learning import SqlSuggestions, SqlUnmatched
from bot.storage.outbox import SqlOutbox, SqlPace
from bot.storage.team import SqlAgentRepository, SqlAuditLog
from bot.storage.tickets import SqlTicketRepository

if TYPE_CHECKING:
    from flows.ports import Repositories


# ---- the unit of work ---------------------------------------------------------------


class SqlUnitOfWork:
    """One session and one transaction; rolled back unless ``commit()`` is called."""

    customers: SqlCustomerRepository
    conversations: SqlConversationRepository
    tickets: SqlTicketRepository
    transcript: SqlTranscriptRepository
    ticket_events: SqlTicketEvents
    agents: SqlAgentRepository
    audit: SqlAuditLog
    inbox: SqlInbox
    outbox: SqlOutbox
    pace: SqlPace
    followups: SqlFollowUps
    unmatched: SqlUnmatched
    suggestions: SqlSuggestions

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._session_: Session | None = None
        self._used = False
        source = self._session
        self.customers = SqlCustomerRepository(source)
        self.conversations = SqlConversationRepository(source)
        self.tickets = SqlTicketRepository(source)
        self.transcript = SqlTranscriptRepository(source)
        self.ticket_events = SqlTicketEvents(source)
        self.agents = SqlAgentRepository(source)
        self.audit = SqlAuditLog(source)
        self.inbox = SqlInbox(source)
        self.outbox = SqlOutbox(source)
        self.pace = SqlPace(source)
        self.followups = SqlFollowUps(source)
        self.unmatched = SqlUnmatched(source)
        self.suggestions = SqlSuggestions(source)

    def __enter__(self) -> Self:
        if self._used:
            raise StorageError("a unit of work can be used once; open a new one")
        self._used = True
        self._session_ = Session(self._engine, expire_on_commit=False, autoflush=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        """Commit everything done in this unit of work, then close it."""
        session = self._session()
        try:
            session.commit()
        finally:
            self._close()

    def repeatable_read(self) -> None:
        """On PostgreSQL, run this unit of work at REPEATABLE READ: a row another replica
        changed since this one began makes it fail with a conflict (``is_conflict``) instead
        of overwriting that change. Call it first; SQLite serialises writers already."""
        session = self._session()
        if session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})

    def ping(self) -> None:
        """A trivial query: raises when the database does not answer (``/healthz``)."""
        self._session().execute(text("SELECT 1"))

    def rollback(self) -> None:
        """Throw away everything done in this unit of work, then close it. Safe to repeat."""
        if self._session_ is not None:
            try:
                self._session_.rollback()
            finally:
                self._close()

    def _close(self) -> None:
        if self._session_ is not None:
            session, self._session_ = self._session_, None
            session.close()

    def _session(self) -> Session:
        if self._session_ is None:
            state = "closed" if self._used else "not entered (use 'with')"
            raise StorageError(f"the unit of work is {state}")
        return self._session_


if TYPE_CHECKING:

    def _implements_ports(uow: SqlUnitOfWork) -> Repositories:
        """mypy checks here that a unit of work is what the flows need."""
        return uow
