"""The tables, as SQLModel classes: one module for the whole schema.

Telegram ids (chat, user, message) are ``BIGINT``: chat ids do not fit in 32 bits.
Every timestamp is stored in UTC and comes back timezone-aware UTC, on SQLite too.
Schema changes go through Alembic (``bot/storage/migrations``); a test compares this module
with the migrated database so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# Constraint names that Alembic can find again (SQLite batch migrations need names).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Surrogate keys: BIGINT on PostgreSQL; INTEGER on SQLite, where only "INTEGER PRIMARY KEY"
# autoincrements.
SurrogateKey = BigInteger().with_variant(Integer(), "sqlite")

# Primary keys that are Telegram's ids, never generated here.
NOT_GENERATED = {"autoincrement": False}


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back timezone-aware UTC.

    SQLite keeps no time zone, so UTC is attached again on the way out. Naive datetimes are
    refused on the way in: the clock hands out aware ones, and a naive one is a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class CustomerRow(SQLModel, table=True):
    __tablename__ = "customer"

    chat_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs=NOT_GENERATED)
    user_id: int = Field(sa_type=BigInteger)
    name: str = Field(default="", sa_type=String(256))
    username: str | None = Field(default=None, sa_type=String(64))
    language: str | None = Field(default=None, sa_type=String(16))  # Telegram's, every update
    chosen_language: str | None = Field(default=None, sa_type=String(16))  # /language; wins
    blocked: bool = False
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class ConversationRow(SQLModel, table=True):
    __tablename__ = "conversation"

    chat_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs=NOT_GENERATED)
    state: str = Field(sa_type=String(32))
    step: int = 0
    ticket_id: int | None = Field(default=None, sa_type=BigInteger)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class TicketRow(SQLModel, table=True):
    __tablename__ = "ticket"

    id: int | None = Field(default=None, sa_type=SurrogateKey, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    summary: str = Field(sa_type=Text)
    status: str = Field(sa_type=String(32), index=True)
    entry_id: str | None = Field(default=None, sa_type=String(128))
    order_number: str | None = Field(default=None, sa_type=Text)
    purchase_date: date | None = Field(default=None, sa_type=Date)
    tried: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    # In the agent chat: the ticket's forum topic and its context card. Indexed because an
    # agent's message there is routed to its ticket by one of them.
    topic_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    card_message_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    assignee_id: int | None = Field(default=None, sa_type=BigInteger)  # the agent who took it
    rating: int | None = Field(default=None, sa_type=SmallInteger)  # 1-5, from the follow-up
    rating_comment: str | None = Field(default=None, sa_type=Text)


class MessageRow(SQLModel, table=True):
    """One line of the transcript."""

    __tablename__ = "message"

    id: int | None = Field(default=None, sa_type=SurrogateKey, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    ticket_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    direction: str = Field(sa_type=String(16))
    text: str = Field(sa_type=Text)
    at: datetime = Field(sa_type=UtcDateTime)


_UNHANDLED = text("processed_at IS NULL")


class InboxRow(SQLModel, table=True):
    """Raw Telegram updates, stored before they are handled; the key drops duplicates."""

    __tablename__ = "inbox"

    update_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs=NOT_GENERATED)
    chat_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    payload: str = Field(sa_type=Text)
    received_at: datetime = Field(sa_type=UtcDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    attempts: int = 0  # tries that failed with a bug; passing database failures do not count
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    error: str | None = Field(default=None, sa_type=Text)

    __table_args__ = (
        Index("ix_inbox_chat_id_processed_at", "chat_id", "processed_at"),
        # the updates still to handle, without reading past every update ever handled
        Index(
            "ix_inbox_pending", "update_id", sqlite_where=_UNHANDLED, postgresql_where=_UNHANDLED
        ),
    )


class OutboxRow(SQLModel, table=True):
    """Messages to deliver, written in the same transaction as the state that caused them.

    A row being sent is ``sending`` until ``lease_until``: one sender (of several replicas)
    holds it, and a row whose sender died is taken up again after its lease.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_chat_id_status", "chat_id", "status"),)

    id: int | None = Field(default=None, sa_type=SurrogateKey, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    kind: str = Field(sa_type=String(32))  # MessageKind
    text: str = Field(default="", sa_type=Text)
    buttons: list[list[dict[str, str]]] | None = Field(default=None, sa_type=JSON)
    message_thread_id: int | None = Field(default=None, sa_type=BigInteger)
    target_message_id: int | None = Field(default=None, sa_type=BigInteger)
    status: str = Field(default="pending", sa_type=String(16), index=True)  # OutboxStatus
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger)
    error: str | None = Field(default=None, sa_type=Text)
    ticket_id: int | None = Field(default=None, sa_type=BigInteger)  # the topic it goes into
    from_chat_id: int | None = Field(default=None, sa_type=BigInteger)  # copyMessage source
    source_message_id: int | None = Field(default=None, sa_type=BigInteger)
    priority: int = Field(default=0, sa_type=SmallInteger)  # records.LIVE / FOLLOW_UP
    update_id: int | None = Field(default=None, sa_type=BigInteger)  # what caused it
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SendPaceRow(SQLModel, table=True):
    """When the next message may go: key 0 is the bot's overall budget, shared by every
    replica; a group's chat id its own pace. ``tat`` ("theoretical arrival time", seconds
    since the epoch) is the end of the last slot taken (GCRA)."""

    __tablename__ = "send_pace"

    key: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs=NOT_GENERATED)
    tat: float


class TicketEventRow(SQLModel, table=True):
    """A ticket's history: one row per change, never updated (``TicketEventKind``)."""

    __tablename__ = "ticket_event"
    # the latest hand-overs, for the typical wait (``first_response_times``)
    __table_args__ = (Index("ix_ticket_event_kind_at", "kind", "at"),)

    id: int | None = Field(default=None, sa_type=SurrogateKey, primary_key=True)
    # No foreign key, as for message.ticket_id and conversation.ticket_id.
    ticket_id: int = Field(sa_type=BigInteger, index=True)
    at: datetime = Field(sa_type=UtcDateTime)
    kind: str = Field(sa_type=String(32))
    actor_id: int | None = Field(default=None, sa_type=BigInteger)  # None: the bot
    detail: str | None = Field(default=None, sa_type=Text)


class AgentRow(SQLModel, table=True):
    """People who may use agent commands, by Telegram user id (a username can change hands).

    Removal only sets ``removed_at``: audit rows that name a former agent keep their meaning.
    """

    __tablename__ = "agent"

    user_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs=NOT_GENERATED)
    name: str = Field(default="", sa_type=String(256))
    added_by: int | None = Field(default=None, sa_type=BigInteger)  # None: the command line
    added_at: datetime = Field(sa_type=UtcDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AuditRow(SQLModel, table=True):
    """Who tried what, when, and whether it was allowed; refusals included."""

    __tablename__ = "audit"

    id: int | None = Field(default=None, sa_type=SurrogateKey, primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    actor_id: int | None = Field(default=None, sa_type=BigInteger)  # None: the command line
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    ticket_id: int | None = Field(default=None, sa_type=BigInteger)
    action: str = Field(sa_type=String(64))
    detail: str = Field(default="", sa_type=Text)
    allowed: bool


class FollowUpRow(SQLModel, table=True):
    """A timer: the dispatcher acts on it once ``due_at`` has come (``FollowUpStatus``).

    Claimed rows are ``sending`` until ``lease_until``; a claim that died with its process
    is taken again after that. The (status, due_at) index serves the dispatcher's claim.
    """

    __tablename__ = "followup"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", "round"),
        Index("ix_followup_status_due_at", "status", "due_at"),
    )

    id: int | None = Field(default=None, sa_type=SurrogateKey, primary_key=True)
    ticket_id: int = Field(sa_type=BigInteger, foreign_key="ticket.id")
    chat_id: int = Field(sa_type=BigInteger, index=True)  # a blocked customer's are cancelled
    kind: str = Field(sa_type=String(16))  # FollowUpKind
    round: int = 1
    due_at: datetime = Field(sa_type=UtcDateTime)
    status: str = Field(default="pending", sa_type=String(16))  # FollowUpStatus
    attempts: int = 0  # claims so far
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class UnmatchedRow(SQLModel, table=True):
    """A question the knowledge missed (``flows.learning.Unmatched``); rows are only added."""

    __tablename__ = "unmatched"

    id: int | None = Field(default=None, sa_type=SurrogateKey, primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    chat_id: int = Field(sa_type=BigInteger)
    ticket_id: int | None = Field(default=None, sa_type=BigInteger)
    reason: str = Field(sa_type=String(16))  # UnmatchedReason
    language: str | None = Field(default=None, sa_type=String(16))
    text: str = Field(sa_type=Text)


class SuggestionRow(SQLModel, table=True):
    """Customer words proposed as a new symptom of an entry (``flows.learning.Suggestion``).

    ``text_key`` is the text folded (case, spaces): the same words for the same entry and
    language are proposed once, whatever became of the first proposal.
    """

    __tablename__ = "suggestion"
    __table_args__ = (UniqueConstraint("entry_id", "language", "text_key"),)

    id: int | None = Field(default=None, sa_type=SurrogateKey, primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime)
    entry_id: str = Field(sa_type=String(128))
    language: str = Field(default="", sa_type=String(16))  # "": the knowledge's own
    text: str = Field(sa_type=Text)
    text_key: str = Field(sa_type=String(500))
    source: str = Field(sa_type=String(16))  # SuggestionSource
    ticket_id: int | None = Field(default=None, sa_type=BigInteger)
    status: str = Field(default="pending", sa_type=String(16), index=True)  # SuggestionStatus
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
