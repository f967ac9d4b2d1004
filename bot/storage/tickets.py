"""Tickets on SQL, without the ORM: each statement runs on the table and is built once.

A ticket is read and written on most customer updates (``flows.turn`` touches it), and the
ORM's load, identity map and flush cost several times the statements themselves (py-spy on
the throughput benchmark: a fifth of the worker's time went to ``Session.get`` and
``flush`` for tickets). Rows come back as plain result rows; ``ticket_of`` maps one (or an
ORM ``TicketRow``, which has the same attributes) to the flows' ``Ticket``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select

from bot.storage.errors import NotFound, StorageError
from bot.storage.session import SessionSource
from bot.storage.tables import OutboxRow, TicketRow
from flows.model import WITH_TEAM, ChatId, Ticket, TicketId, TicketStatus, UserId

_TICKET: Any = TicketRow.__table__  # type: ignore[attr-defined]
_OUTBOX: Any = OutboxRow.__table__  # type: ignore[attr-defined]
_BY_ID = _TICKET.select().where(_TICKET.c.id == bindparam("ticket"))
_ADD = insert(_TICKET)
_SAVE = _TICKET.update().where(_TICKET.c.id == bindparam("ticket"))
_WAITING = [status.value for status in WITH_TEAM]


class SqlTicketRepository:
    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def add(self, ticket: Ticket) -> Ticket:
        """Store a new ticket; sets ``ticket.id`` and returns the same object."""
        if ticket.id is not None:
            raise StorageError(f"ticket {ticket.ref} is already stored; use save()")
        result: Any = self._session().execute(_ADD, _values(ticket))
        ticket.id = TicketId(result.inserted_primary_key[0])
        return ticket

    def get(self, ticket_id: TicketId) -> Ticket | None:
        row = self._session().execute(_BY_ID, {"ticket": ticket_id}).first()
        return ticket_of(row) if row is not None else None

    def save(self, ticket: Ticket) -> None:
        if ticket.id is None or not self._change(ticket.id, **_values(ticket)):
            raise NotFound(f"ticket {ticket.ref} is not stored; use add()")

    def for_topic(self, topic_id: int) -> Ticket | None:
        return self._first(_TICKET.c.topic_id == topic_id)

    def for_team_message(self, chat_id: int, message_id: int) -> Ticket | None:
        """By its card, or by a message the bot posted in the team's chat for it."""
        found = self._first(_TICKET.c.card_message_id == message_id)
        if found is not None:
            return found
        posted = (
            select(_OUTBOX.c.ticket_id)
            .where(
                _OUTBOX.c.chat_id == chat_id,
                _OUTBOX.c.telegram_message_id == message_id,
                _OUTBOX.c.ticket_id.is_not(None),
            )
            .limit(1)
        )
        ticket_id = self._session().execute(posted).scalar()
        return self.get(TicketId(ticket_id)) if ticket_id is not None else None

    def waiting_for_team(self, limit: int = 50) -> list[Ticket]:
        stmt = (
            _TICKET.select()
            .where(_TICKET.c.status.in_(_WAITING))
            .order_by(_TICKET.c.created_at, _TICKET.c.id)
            .limit(limit)
        )
        return [ticket_of(row) for row in self._session().execute(stmt)]

    def set_topic(self, ticket_id: int, topic_id: int) -> None:
        """The ticket's forum topic in the agent chat, once Telegram has created it."""
        if not self._change(ticket_id, topic_id=topic_id):
            raise NotFound(f"no ticket {ticket_id}")

    def set_card(self, ticket_id: int, message_id: int) -> None:
        """The message id of the ticket's context card in the agent chat."""
        if not self._change(ticket_id, card_message_id=message_id):
            raise NotFound(f"no ticket {ticket_id}")

    def for_customer(self, chat_id: ChatId, limit: int = 10) -> list[Ticket]:
        """The customer's tickets, newest first."""
        stmt = (
            _TICKET.select()
            .where(_TICKET.c.chat_id == chat_id)
            .order_by(_TICKET.c.created_at.desc(), _TICKET.c.id.desc())
            .limit(limit)
        )
        return [ticket_of(row) for row in self._session().execute(stmt)]

    def _first(self, where: Any) -> Ticket | None:
        row = self._session().execute(_TICKET.select().where(where).limit(1)).first()
        return ticket_of(row) if row is not None else None

    def _change(self, ticket_id: int, **values: Any) -> bool:
        """Set ``values`` on the ticket; False when there is no such ticket."""
        result: Any = self._session().execute(_SAVE, {"ticket": ticket_id, **values})
        return bool(result.rowcount)


def _values(ticket: Ticket) -> dict[str, Any]:
    """The columns a ticket is stored in (all but its id)."""
    return {
        "chat_id": ticket.chat_id,
        "summary": ticket.summary,
        "status": TicketStatus(ticket.status).value,
        "entry_id": ticket.entry_id,
        "order_number": ticket.order_number,
        "purchase_date": ticket.purchase_date,
        "tried": [dict(item) for item in ticket.tried],
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "topic_id": ticket.topic_id,
        "card_message_id": ticket.card_message_id,
        "assignee_id": ticket.assignee_id,
        "rating": ticket.rating,
        "rating_comment": ticket.rating_comment,
    }


def ticket_of(row: Any) -> Ticket:
    """The flows' ticket from a ``ticket`` row (a result row or a ``TicketRow``)."""
    assert row.id is not None
    return Ticket(
        id=TicketId(row.id),
        chat_id=ChatId(row.chat_id),
        summary=row.summary,
        status=TicketStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        entry_id=row.entry_id,
        order_number=row.order_number,
        purchase_date=row.purchase_date,
        tried=[dict(item) for item in row.tried],
        topic_id=row.topic_id,
        card_message_id=row.card_message_id,
        assignee_id=UserId(row.assignee_id) if row.assignee_id is not None else None,
        rating=row.rating,
        rating_comment=row.rating_comment,
    )
