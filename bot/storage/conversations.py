"""The flows' repositories on SQL: customers, conversations, tickets, transcript, ticket events.

They implement the Protocols in ``flows.ports`` and map between the ``flows.model``
dataclasses and the tables.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func
from sqlalchemy import insert as insert_into
from sqlmodel import col, select

from bot.storage.session import SessionSource, built, dialect_insert
from bot.storage.tables import (
    ConversationRow,
    CustomerRow,
    MessageRow,
    TicketEventRow,
)
from flows.model import (
    ChatId,
    Conversation,
    Direction,
    Person,
    State,
    TicketEvent,
    TicketEventKind,
    TicketId,
    TranscriptLine,
    UserId,
)

# ---- the flows' repositories --------------------------------------------------------


_CUSTOMER: Any = CustomerRow.__table__  # type: ignore[attr-defined]
_CONVERSATION: Any = ConversationRow.__table__  # type: ignore[attr-defined]
_MESSAGE: Any = MessageRow.__table__  # type: ignore[attr-defined]
RECENT_HAND_OVERS = 500  # the typical wait is taken from the tickets of this many latest
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
    ).returning(*_CUSTOMER.c)


def _conversation_upsert(dialect: str) -> Any:
    stmt = dialect_insert(dialect, _CONVERSATION)
    kept = ("state", "step", "ticket_id", "data", "updated_at")
    return stmt.on_conflict_do_update(
        index_elements=["chat_id"], set_={name: stmt.excluded[name] for name in kept}
    )


def _person(row: Any) -> Person:
    """The customer of a ``customer`` row, in the language they chose, else Telegram's."""
    return Person(
        chat_id=ChatId(row.chat_id),
        user_id=row.user_id,
        name=row.name,
        username=row.username,
        language=row.chosen_language or row.language,
    )


class SqlCustomerRepository:
    """Customers, read and written without the ORM: one statement each, on every update."""

    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def upsert(self, person: Person, at: datetime) -> Person:
        """Create the customer or refresh their name; clears a 'blocked' mark. Returns the
        stored customer (with the language they chose), read in the same statement."""
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
        return _person(session.execute(built(session, _customer_upsert), values).one())

    def get(self, chat_id: ChatId) -> Person | None:
        row = self._row(chat_id)
        return _person(row) if row is not None else None

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
        """From hand-over to the team's first reply, latest tickets first.

        Among the tickets of the latest ``RECENT_HAND_OVERS`` hand-overs (by the (kind, at)
        index): asked at every hand-over, it read every ticket's history before (SQLite,
        50,000 tickets: 74 ms, in the transaction that holds the database for writing)."""
        latest = (
            select(col(TicketEventRow.ticket_id))
            .where(col(TicketEventRow.kind) == TicketEventKind.ESCALATED.value)
            .order_by(col(TicketEventRow.at).desc())
            .limit(RECENT_HAND_OVERS)
            .scalar_subquery()
        )

        def first(kind: TicketEventKind) -> Any:
            return func.min(case((col(TicketEventRow.kind) == kind.value, col(TicketEventRow.at))))

        # one pass over those tickets' events, found by ticket (no condition on the kind,
        # which would have the database read every hand-over by the kind's index)
        pairs = (
            select(
                first(TicketEventKind.ESCALATED).label("handed"),
                first(TicketEventKind.AGENT_REPLIED).label("answered"),
            )
            .where(col(TicketEventRow.ticket_id).in_(latest))
            .group_by(col(TicketEventRow.ticket_id))
            .subquery()
        )
        stmt = (
            select(pairs.c.handed, pairs.c.answered)
            .where(pairs.c.answered >= pairs.c.handed)
            .order_by(pairs.c.handed.desc())
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
