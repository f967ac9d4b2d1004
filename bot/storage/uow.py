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
``agents``, ``audit`` and ``ticket_events`` serve the support team's side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Engine, case, exists, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased
from sqlmodel import col, select

from bot.storage.errors import NotFound, StorageError
from bot.storage.records import (
    InboxItem,
    MessageKind,
    OutboxItem,
    OutboxStatus,
    OutgoingMessage,
)
from bot.storage.tables import (
    AgentRow,
    AuditRow,
    ConversationRow,
    CustomerRow,
    InboxRow,
    MessageRow,
    OutboxRow,
    TicketEventRow,
    TicketRow,
)
from flows.model import (
    Agent,
    AuditEntry,
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

if TYPE_CHECKING:
    from flows.ports import Repositories

SessionSource = Callable[[], Session]


def _insert(session: Session, table: Any) -> Any:
    """``INSERT`` with ``ON CONFLICT`` support for the session's dialect."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise StorageError(f"unsupported database dialect: {dialect}")


# ---- the flows' repositories --------------------------------------------------------


class SqlCustomerRepository:
    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def upsert(self, person: Person, at: datetime) -> None:
        """Create the customer or refresh their name; clears a 'blocked' mark."""
        stmt = _insert(self._session(), CustomerRow).values(
            chat_id=person.chat_id,
            user_id=person.user_id,
            name=person.name[:256],
            username=person.username[:64] if person.username else person.username,
            language=person.language[:16] if person.language else person.language,
            blocked=False,
            created_at=at,
            updated_at=at,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["chat_id"],
            set_={
                "user_id": stmt.excluded.user_id,
                "name": stmt.excluded.name,
                "username": stmt.excluded.username,
                "language": stmt.excluded.language,
                "blocked": False,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        self._session().execute(stmt)

    def get(self, chat_id: ChatId) -> Person | None:
        row = self._row(chat_id)
        if row is None:
            return None
        return Person(
            chat_id=ChatId(row.chat_id),
            user_id=row.user_id,
            name=row.name,
            username=row.username,
            language=row.language,
        )

    def mark_blocked(self, chat_id: int, blocked: bool, at: datetime) -> None:
        """Record that the customer blocked the bot (403) or came back. Unknown chats: no-op."""
        row = self._row(chat_id)
        if row is not None:
            row.blocked = blocked
            row.updated_at = at

    def is_blocked(self, chat_id: int) -> bool:
        row = self._row(chat_id)
        return row is not None and row.blocked

    def _row(self, chat_id: int) -> CustomerRow | None:
        return self._session().get(CustomerRow, chat_id, populate_existing=True)


class SqlConversationRepository:
    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def get(self, chat_id: ChatId) -> Conversation | None:
        row = self._session().get(ConversationRow, chat_id, populate_existing=True)
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
        stmt = _insert(self._session(), ConversationRow).values(
            chat_id=conversation.chat_id,
            state=State(conversation.state).value,
            step=conversation.step,
            ticket_id=conversation.ticket_id,
            data=dict(conversation.data),
            updated_at=datetime.now(UTC),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["chat_id"],
            set_={
                name: getattr(stmt.excluded, name)
                for name in ("state", "step", "ticket_id", "data", "updated_at")
            },
        )
        self._session().execute(stmt)


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
        waiting = (TicketStatus.WAITING_AGENT.value, TicketStatus.REPLACEMENT_REQUESTED.value)
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
        )


class SqlTranscriptRepository:
    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def add(self, line: TranscriptLine) -> None:
        self._session().add(
            MessageRow(
                chat_id=line.chat_id,
                ticket_id=line.ticket_id,
                direction=line.direction.value,
                text=line.text,
                at=line.at,
            )
        )

    def for_chat(self, chat_id: int, limit: int = 100) -> list[TranscriptLine]:
        """The chat's latest transcript lines, oldest first."""
        stmt = (
            select(MessageRow)
            .where(col(MessageRow.chat_id) == chat_id)
            .order_by(col(MessageRow.id).desc())
            .limit(limit)
        )
        rows = list(self._session().scalars(stmt))
        return [
            TranscriptLine(
                chat_id=ChatId(row.chat_id),
                direction=Direction(row.direction),
                text=row.text,
                at=row.at,
                ticket_id=TicketId(row.ticket_id) if row.ticket_id is not None else None,
            )
            for row in reversed(rows)
        ]


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
        return [
            TicketEvent(
                ticket_id=TicketId(row.ticket_id),
                kind=TicketEventKind(row.kind),
                at=row.at,
                actor_id=UserId(row.actor_id) if row.actor_id is not None else None,
                detail=row.detail,
            )
            for row in self._session().scalars(stmt)
        ]


# ---- the support team's repositories ------------------------------------------------


class SqlAgentRepository:
    """Agents by Telegram user id. Removal is soft (``removed_at``), so that the audit rows
    naming a former agent keep their meaning; adding them again clears it."""

    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def is_agent(self, user_id: UserId) -> bool:
        return self.get(user_id) is not None

    def get(self, user_id: UserId) -> Agent | None:
        """The current agent with this id; None when removed or never added."""
        row = self._session().get(AgentRow, user_id, populate_existing=True)
        if row is None or row.removed_at is not None:
            return None
        return self._agent(row)

    def add(self, agent: Agent, at: datetime) -> None:
        """Add the agent, or update a current one's name (keeping when and by whom they were
        added). A removed agent comes back as newly added by ``agent.added_by`` at ``at``.

        One statement, so two admins adding the same person at once cannot collide.
        """
        stmt = _insert(self._session(), AgentRow).values(
            user_id=agent.user_id,
            name=agent.name[:256],
            added_by=agent.added_by,
            added_at=at,
            removed_at=None,
        )
        removed = col(AgentRow.removed_at).is_not(None)
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_id"],
            set_={
                "name": stmt.excluded.name,
                "added_by": case((removed, stmt.excluded.added_by), else_=col(AgentRow.added_by)),
                "added_at": case((removed, stmt.excluded.added_at), else_=col(AgentRow.added_at)),
                "removed_at": None,
            },
        )
        self._session().execute(stmt)

    def remove(self, user_id: UserId, at: datetime) -> bool:
        """Mark a current agent removed; False (nothing changed) if they were not one."""
        row = self._session().get(AgentRow, user_id, populate_existing=True)
        if row is None or row.removed_at is not None:
            return False
        row.removed_at = at
        self._session().flush()
        return True

    def list(self) -> list[Agent]:
        """Current agents, in the order they were added."""
        stmt = (
            select(AgentRow)
            .where(col(AgentRow.removed_at).is_(None))
            .order_by(col(AgentRow.added_at), col(AgentRow.user_id))
            .execution_options(populate_existing=True)
        )
        return [self._agent(row) for row in self._session().scalars(stmt)]

    @staticmethod
    def _agent(row: AgentRow) -> Agent:
        return Agent(
            user_id=UserId(row.user_id),
            name=row.name,
            added_by=UserId(row.added_by) if row.added_by is not None else None,
            added_at=row.added_at,
        )


class SqlAuditLog:
    """Who tried what, when, and whether it was allowed."""

    def __init__(self, session: SessionSource) -> None:
        self._session = session

    def add(self, entry: AuditEntry) -> None:
        self._session().add(
            AuditRow(
                at=entry.at,
                actor_id=entry.actor_id,
                chat_id=entry.chat_id,
                ticket_id=entry.ticket_id,
                action=entry.action[:64],
                detail=entry.detail,
                allowed=entry.allowed,
            )
        )

    def recent(self, limit: int = 100) -> list[AuditEntry]:
        """The latest entries, newest first (for people and tests reading the log)."""
        stmt = (
            select(AuditRow).order_by(col(AuditRow.at).desc(), col(AuditRow.id).desc()).limit(limit)
        )
        return [
            AuditEntry(
                at=row.at,
                action=row.action,
                allowed=row.allowed,
                actor_id=UserId(row.actor_id) if row.actor_id is not None else None,
                chat_id=ChatId(row.chat_id) if row.chat_id is not None else None,
                ticket_id=TicketId(row.ticket_id) if row.ticket_id is not None else None,
                detail=row.detail,
            )
            for row in self._session().scalars(stmt)
        ]


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
            _insert(self._session(), InboxRow)
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


def _utc(value: Any) -> datetime:
    """An aggregate's timestamp: SQLite hands back text, PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


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
        """Pending messages that may be sent at ``now``, by id.

        A message queued behind an earlier one of the same chat that waits for its retry is
        left out, so each chat's messages arrive in order.
        """
        earlier = aliased(OutboxRow)
        waiting = exists().where(
            col(earlier.chat_id) == col(OutboxRow.chat_id),
            col(earlier.status) == OutboxStatus.PENDING,
            col(earlier.id) < col(OutboxRow.id),
            col(earlier.next_attempt_at) > now,
        )
        stmt = select(OutboxRow).where(
            col(OutboxRow.status) == OutboxStatus.PENDING,
            _due(col(OutboxRow.next_attempt_at), now),
            ~waiting,
        )
        stmt = stmt.order_by(col(OutboxRow.id)).limit(limit)
        return self._items(self._session().scalars(stmt).all())

    def next_due_at(self, now: datetime) -> datetime | None:
        """When the earliest message that waits for a retry falls due (None: none waits)."""
        stmt = select(func.min(col(OutboxRow.next_attempt_at))).where(
            col(OutboxRow.status) == OutboxStatus.PENDING, col(OutboxRow.next_attempt_at) > now
        )
        return self._session().execute(stmt).scalar()

    def for_chat(self, chat_id: int, status: OutboxStatus | None = None) -> list[OutboxItem]:
        """A chat's messages by id, optionally only those with ``status``."""
        stmt = select(OutboxRow).where(col(OutboxRow.chat_id) == chat_id)
        if status is not None:
            stmt = stmt.where(col(OutboxRow.status) == status)
        return self._items(self._session().scalars(stmt.order_by(col(OutboxRow.id))).all())

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
                )
            )
        return items


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
