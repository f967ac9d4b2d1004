"""Values that the bot-side repositories (inbox, outbox) take and return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Outbox statuses: "pending" until sent, failed for good, or cancelled.
PENDING = "pending"
SENT = "sent"
FAILED = "failed"
CANCELLED = "cancelled"

# Outgoing message kinds.
SEND = "send"
CLEAR_BUTTONS = "clear_buttons"

# One row of an inline keyboard is a list of {"label": ..., "data": ...} buttons.
ButtonRows = list[list[dict[str, str]]]


@dataclass(frozen=True)
class InboxItem:
    """A raw Telegram update, stored before it is handled."""

    update_id: int
    payload: str  # the update as JSON text


@dataclass(frozen=True)
class OutgoingMessage:
    """Something to deliver to a chat, written to the outbox in the flow's transaction."""

    chat_id: int
    kind: str  # "send" | "clear_buttons"
    text: str = ""
    buttons: ButtonRows | None = None  # [[{"label": .., "data": ..}]]
    message_thread_id: int | None = None  # a forum topic in the agents' chat
    target_message_id: int | None = None  # for "clear_buttons"


@dataclass(frozen=True)
class OutboxItem:
    """One row of the outbox as the sender sees it."""

    id: int
    chat_id: int
    kind: str
    text: str
    buttons: ButtonRows | None
    message_thread_id: int | None
    target_message_id: int | None
    status: str  # "pending" | "sent" | "failed" | "cancelled"
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    error: str | None = None
    telegram_message_id: int | None = None
