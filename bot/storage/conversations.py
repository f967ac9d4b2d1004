"""The flows' repositories on SQL: customers, conversations, tickets, transcript, ticket events.

They implement the Protocols in ``flows.ports`` and map between the ``flows.model``
dataclasses and the tables.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy import insert as insert_into
from sqlmodel import col, select

from bot.storage.errors import NotFound, StorageError
from bot.storage.session import SessionSource, built, dialect_insert
from bot.storage.tables import (
    ConversationRow,
    CustomerRow,
    MessageRow,
    OutboxRow,
    TicketEventRow,
    TicketRow,
)
from flows.model import (
    WITH_TEAM,
    ChatId,
    Conversation,
    Direction,
    Person,
    State,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketId,
    TicketStatus,
    TranscriptLine,
    UserId,
)

# ---- the flows' repositories --------------------------------------------------------


_CUSTOMER: Any = CustomerRow.__table__  # type: ignore[attr-defined]
_CONVERSATION: Any = ConversationRow.__table__  # type: ignore[attr-defined]
_MESSAGE: Any = MessageRow.__table__  # type: ignore[attr-defined]
# the hot statements, built once (each runs on every update; see ``session.built``)
_CUSTOMER_BY_CHAT = _CUSTOMER.select().where(_CUSTOMER.c.chat_id == bindparam("chat"))
_CONVERSATION_BY_CHAT = _CONVERSATION.select().where(_CONVERSATION.c.chat_id == bindparam("chat"))
_CHANGE_CUSTOMER = _CUSTOMER.update().where(_CUSTOMER.c.chat_id == bindparam("chat"))
_ADD_LINE = insert_into(_MESSAGE)


def _customer_upsert(dialect: str) -> Any:
    stmt = dialect_insert(dialect, _CUSTOMER)
    kept = ("user_id", "name", "username", "language", "blocked", "updated_at")
    return stmt.on_conflict_do_update(
        index_elements=["chat_id"], set_={name: stmt.excluded[name] for name in kept}
    )


def _conversation_upsert(dialect: str) -> Any:
    stmt = dialect_insert(dialect, _CONVERSATION)
    kept = ("state", "step", "ticket_id", "data", "updated_at")
    return stmt.on_conflict_do_update(
        index_elements=["chat_id"], set_={name: stmt.excluded[name] for name in kept}
    )


class SqlCustomerRepository:
    """Customers, read and written without the ORM: one statement each, on every update."""

    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def upsert(self, person: Person, at: datetime) -> None:
        """Create the customer or refresh their name; clears a 'blocked' mark."""
        session = self._session()
        values = {
            "chat_id": person.chat_id,
            "user_id": person.user_id,
            "name": person.name[:256],
            "username": person.username[:64] if person.username else person.username,
            "language": person.language[:16] if person.language else person.language,
            "blocked": False,
            "created_at": at,
            "updated_at": at,
        }
        session.execute(built(session, _customer_upsert), values)

    def get(self, chat_id: ChatId) -> Person | None:
        row = self._row(chat_id)
        if row is None:
            return None
        return Person(
            chat_id=ChatId(row.chat_id),
            user_id=row.user_id,
            name=row.name,
            username=row.username,
            language=row.chosen_language or row.language,
        )

    def choose_language(self, chat_id: ChatId, language: str, at: datetime) -> None:
        """The customer chose the language they read (``/language``); kept over Telegram's."""
        self._change(chat_id, chosen_language=language[:16], updated_at=at)

    def mark_blocked(self, chat_id: int, blocked: bool, at: datetime) -> None:
        """Record that the customer blocked the bot (403) or came back. Unknown chats: no-op."""
        self._change(chat_id, blocked=blocked, updated_at=at)

    def is_blocked(self, chat_id: int) -> bool:
        row = self._row(chat_id)
        return row is not None and bool(row.blocked)

    def _row(self, chat_id: int) -> Any:
        return self._session().execute(_CUSTOMER_BY_CHAT, {"chat": chat_id}).first()

    def _change(self, chat_id: int, **values: Any) -> None:
        self._session().execute(_CHANGE_CUSTOMER.values(**values), {"chat": chat_id})


class SqlConversationRepository:
    """Conversations, read and written without the ORM (one statement each, every update)."""

    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def get(self, chat_id: ChatId) -> Conversation | None:
        row = self._session().execute(_CONVERSATION_BY_CHAT, {"chat": chat_id}).first()
        if row is None:
            return None
        return Conversation(
            chat_id=ChatId(row.chat_id),
            state=State(row.state),
            step=row.step,
            ticket_id=TicketId(row.ticket_id) if row.ticket_id is not None else None,
            data=dict(row.data),
        )

    def save(self, conversation: Conversation) -> None:
        """Insert or replace the conversation; ``updated_at`` is the wall clock (bookkeeping)."""
        session = self._session()
        values = {
            "chat_id": conversation.chat_id,
            "state": State(conversation.state).value,
            "step": conversation.step,
            "ticket_id": conversation.ticket_id,
            "data": dict(conversation.data),
            "updated_at": datetime.now(UTC),
        }
        session.execute(built(session, _conversation_upsert), values)


class SqlTicketRepository:
    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def add(self, ticket: Ticket) -> Ticket:
        """Store a new ticket; sets ``ticket.id`` and returns the same object."""
        if ticket.id is not None:
            raise StorageError(f"ticket {ticket.ref} is already stored; use save()")
        row = TicketRow(
            chat_id=ticket.chat_id,
            summary=ticket.summary,
            status=TicketStatus(ticket.status).value,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
        )
        self._copy(ticket, row)
        session = self._session()
        session.add(row)
        session.flush()
        assert row.id is not None
        ticket.id = TicketId(row.id)
        return ticket

    def get(self, ticket_id: TicketId) -> Ticket | None:
        row = self._session().get(TicketRow, ticket_id)
        return self._ticket(row) if row is not None else None

    def save(self, ticket: Ticket) -> None:
        row = self._session().get(TicketRow, ticket.id) if ticket.id is not None else None
        if row is None:
            raise NotFound(f"ticket {ticket.ref} is not stored; use add()")
        self._copy(ticket, row)
        self._session().flush()

    def for_topic(self, topic_id: int) -> Ticket | None:
        stmt = select(TicketRow).where(col(TicketRow.topic_id) == topic_id).limit(1)
        row = self._session().scalars(stmt).first()
        return self._ticket(row) if row is not None else None

    def for_team_message(self, chat_id: int, message_id: int) -> Ticket | None:
        """By its card, or by a message the bot posted in the team's chat for it."""
        stmt = select(TicketRow).where(col(TicketRow.card_message_id) == message_id).limit(1)
        row = self._session().scalars(stmt).first()
        if row is None:
            posted = (
                select(OutboxRow.ticket_id)
                .where(
                    col(OutboxRow.chat_id) == chat_id,
                    col(OutboxRow.telegram_message_id) == message_id,
                    col(OutboxRow.ticket_id).is_not(None),
                )
                .limit(1)
            )
            ticket_id = self._session().execute(posted).scalar()
            row = self._session().get(TicketRow, ticket_id) if ticket_id is not None else None
        return self._ticket(row) if row is not None else None

    def waiting_for_team(self, limit: int = 50) -> list[Ticket]:
        waiting = [status.value for status in WITH_TEAM]
        stmt = (
            select(TicketRow)
            .where(col(TicketRow.status).in_(waiting))
            .order_by(col(TicketRow.created_at), col(TicketRow.id))
            .limit(limit)
        )
        return [self._ticket(row) for row in self._session().scalars(stmt)]

    def set_topic(self, ticket_id: int, topic_id: int) -> None:
        """The ticket's forum topic in the agent chat, once Telegram has created it."""
        row = self._session().get(TicketRow, ticket_id)
        if row is None:
            raise NotFound(f"no ticket {ticket_id}")
        row.topic_id = topic_id
        self._session().flush()

    def set_card(self, ticket_id: int, message_id: int) -> None:
        """The message id of the ticket's context card in the agent chat."""
        row = self._session().get(TicketRow, ticket_id)
        if row is None:
            raise NotFound(f"no ticket {ticket_id}")
        row.card_message_id = message_id
        self._session().flush()

    def for_customer(self, chat_id: ChatId, limit: int = 10) -> list[Ticket]:
        """The customer's tickets, newest first."""
        stmt = (
            select(TicketRow)
            .where(col(TicketRow.chat_id) == chat_id)
            .order_by(col(TicketRow.created_at).desc(), col(TicketRow.id).desc())
            .limit(limit)
        )
        return [self._ticket(row) for row in self._session().scalars(stmt)]

    @staticmethod
    def _copy(ticket: Ticket, row: TicketRow) -> None:
        row.chat_id = ticket.chat_id
        row.summary = ticket.summary
        row.status = TicketStatus(ticket.status).value
        row.entry_id = ticket.entry_id
        row.order_number = ticket.order_number
        row.purchase_date = ticket.purchase_date
        row.tried = [dict(item) for item in ticket.tried]
        row.created_at = ticket.created_at
        row.updated_at = ticket.updated_at
        row.topic_id = ticket.topic_id
        row.card_message_id = ticket.card_message_id
        row.assignee_id = ticket.assignee_id
        row.rating = ticket.rating
        row.rating_comment = ticket.rating_comment

    @staticmethod
    def _ticket(row: TicketRow) -> Ticket:
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


class SqlTranscriptRepository:
    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def add(self, line: TranscriptLine) -> None:
        values = {
            "chat_id": line.chat_id,
            "ticket_id": line.ticket_id,
            "direction": line.direction.value,
            "text": line.text,
            "at": line.at,
        }
        self._session().execute(_ADD_LINE, values)

    def for_chat(self, chat_id: int, limit: int = 100) -> list[TranscriptLine]:
        """The chat's latest transcript lines, oldest first."""
        stmt = (
            select(MessageRow)
            .where(col(MessageRow.chat_id) == chat_id)
            .order_by(col(MessageRow.id).desc())
            .limit(limit)
        )
        rows = list(self._session().scalars(stmt))
        return [transcript_line(row) for row in reversed(rows)]


class SqlTicketEvents:
    """A ticket's history; rows are only ever added."""

    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def add(self, event: TicketEvent) -> None:
        self._session().add(
            TicketEventRow(
                ticket_id=event.ticket_id,
                at=event.at,
                kind=TicketEventKind(event.kind).value,
                actor_id=event.actor_id,
                detail=event.detail,
            )
        )

    def first_response_times(self, limit: int = 20) -> list[timedelta]:
        """From hand-over to the team's first reply, latest tickets first."""
        escalated = (
            select(
                col(TicketEventRow.ticket_id).label("ticket_id"),
                func.min(col(TicketEventRow.at)).label("at"),
            )
            .where(col(TicketEventRow.kind) == TicketEventKind.ESCALATED.value)
            .group_by(col(TicketEventRow.ticket_id))
            .subquery()
        )
        replied = (
            select(
                col(TicketEventRow.ticket_id).label("ticket_id"),
                func.min(col(TicketEventRow.at)).label("at"),
            )
            .where(col(TicketEventRow.kind) == TicketEventKind.AGENT_REPLIED.value)
            .group_by(col(TicketEventRow.ticket_id))
            .subquery()
        )
        stmt = (
            select(escalated.c.at, replied.c.at)
            .join(replied, replied.c.ticket_id == escalated.c.ticket_id)
            .where(replied.c.at >= escalated.c.at)
            .order_by(escalated.c.at.desc())
            .limit(limit)
        )
        times = []
        for handed, answered in self._session().execute(stmt):
            times.append(_utc(answered) - _utc(handed))
        return times

    def for_ticket(self, ticket_id: TicketId) -> list[TicketEvent]:
        """The ticket's events, oldest first (ties: in the order they were added)."""
        stmt = (
            select(TicketEventRow)
            .where(col(TicketEventRow.ticket_id) == ticket_id)
            .order_by(col(TicketEventRow.at), col(TicketEventRow.id))
        )
        return [ticket_event(row) for row in self._session().scalars(stmt)]


def transcript_line(row: MessageRow) -> TranscriptLine:
    return TranscriptLine(
        chat_id=ChatId(row.chat_id),
        direction=Direction(row.direction),
        text=row.text,
        at=row.at,
        ticket_id=TicketId(row.ticket_id) if row.ticket_id is not None else None,
    )


def ticket_event(row: TicketEventRow) -> TicketEvent:
    return TicketEvent(
        ticket_id=TicketId(row.ticket_id),
        kind=TicketEventKind(row.kind),
        at=row.at,
        actor_id=UserId(row.actor_id) if row.actor_id is not None else None,
        detail=row.detail,
    )


def _utc(value: Any) -> datetime:
    """An aggregate's timestamp: SQLite hands back text, PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
