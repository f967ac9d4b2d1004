"""Values that the bot-side repositories (inbox, outbox) take and return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

RETRY_AFTER = "429 retry after"  # how a row's error begins while it waits out a 429 pause


class OutboxStatus(StrEnum):
    """Where an outbox row stands: waiting, being sent, sent, given up, or cancelled."""

    PENDING = "pending"
    SENDING = "sending"  # a sender holds it (``lease_until``): being sent now
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class MessageKind(StrEnum):
    """What an outbox row asks the Bot API to do."""

    SEND = "send"  # sendMessage
    CLEAR_BUTTONS = "clear_buttons"  # remove the inline keyboard of an earlier message
    CARD = "card"  # sendMessage of a ticket's context card; its id is kept on the ticket
    CREATE_TOPIC = "create_topic"  # createForumTopic for a ticket; its id is kept on the ticket
    COPY = "copy"  # copyMessage: a customer's message into its topic, or an agent's out
    CLOSE_TOPIC = "close_topic"  # closeForumTopic of a ticket's topic
    REOPEN_TOPIC = "reopen_topic"  # reopenForumTopic: the customer is back about it


# An outbox row's priority: the sender takes LIVE rows first; FOLLOW_UP rows (sent at most
# FOLLOWUP_RATE a second) only when no live row is waiting before them.
LIVE = 0
FOLLOW_UP = 1


# One row of an inline keyboard is a list of {"label": ..., "data": ...} buttons.
ButtonRows = list[list[dict[str, str]]]


@dataclass(frozen=True)
class InboxItem:
    """A raw Telegram update, stored before it is handled."""

    update_id: int
    payload: str  # the update as JSON text
    chat_id: int | None = None  # the chat it came from, when it has one
    attempts: int = 0  # tries that failed with a bug (temporary failures are not counted)


@dataclass(frozen=True)
class OutgoingMessage:
    """Something to deliver to a chat, written to the outbox in the flow's transaction."""

    chat_id: int
    kind: MessageKind
    text: str = ""
    buttons: ButtonRows | None = None  # [[{"label": .., "data": ..}]]
    message_thread_id: int | None = None  # post into this thread (topic) of a group
    target_message_id: int | None = None  # for CLEAR_BUTTONS
    ticket_id: int | None = None  # in the agent chat: goes into this ticket's topic
    from_chat_id: int | None = None  # for COPY: the customer's chat ...
    source_message_id: int | None = None  # ... and the message in it
    priority: int = LIVE  # FOLLOW_UP: the follow-up dispatcher's
    # the update that caused it: across chats, rows go out in the order customers wrote
    update_id: int | None = None


@dataclass(frozen=True)
class OutboxItem:
    """One row of the outbox as the sender sees it."""

    id: int
    chat_id: int
    kind: MessageKind
    text: str
    buttons: ButtonRows | None
    message_thread_id: int | None
    target_message_id: int | None
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    error: str | None = None
    telegram_message_id: int | None = None
    ticket_id: int | None = None
    from_chat_id: int | None = None
    source_message_id: int | None = None
    priority: int = LIVE
    update_id: int | None = None  # the update that caused it
