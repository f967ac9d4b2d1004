"""Events in, effects out: the vocabulary between the channels and the flows.

A channel (Telegram, terminal) turns what a person did into one ``Inbound``; the flow
engine answers with a list of ``Effect`` values. The flows decide; the channels do.
All message text in effects is Telegram-style HTML: customer words are escaped by the
responses catalogue before they get here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NewType

ChatId = NewType("ChatId", int)
TicketId = NewType("TicketId", int)
UserId = NewType("UserId", int)  # a Telegram user's numeric id: stable, unlike a @username


# ---- who is talking ---------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """The customer behind a private chat."""

    chat_id: ChatId
    user_id: int
    name: str = ""
    username: str | None = None
    language: str | None = None


# ---- events in ----------------------------------------------------------------------


@dataclass(frozen=True)
class TextMessage:
    person: Person
    text: str
    message_id: int | None = None


@dataclass(frozen=True)
class ButtonPress:
    """A press on an inline button. ``data`` is untrusted: anyone can forge it."""

    person: Person
    data: str
    message_id: int | None = None


@dataclass(frozen=True)
class Command:
    person: Person
    name: str  # lower case, without the slash or @botname
    args: str = ""


class MediaKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"
    STICKER = "sticker"
    VOICE = "voice"
    VIDEO = "video"
    OTHER = "other"


@dataclass(frozen=True)
class Media:
    person: Person
    kind: MediaKind
    caption: str = ""
    file_id: str | None = None
    message_id: int | None = None  # in the customer's chat; None in the terminal


Inbound = TextMessage | ButtonPress | Command | Media


@dataclass(frozen=True)
class TeamMessage:
    """Something written in the team's chat (``AGENT_CHAT_ID``), by whoever wrote it.

    ``thread_id`` is the topic it was written in (None: the general topic, or a chat
    without topics, where ``reply_to`` tells which ticket it answers).
    """

    chat_id: int  # the team's chat
    user_id: int
    name: str
    message_id: int
    thread_id: int | None = None
    reply_to: int | None = None
    text: str = ""  # the text or the caption
    command: str | None = None  # "take" for "/take@bot ...", lower case
    args: str = ""
    media: bool = False  # a photo, file, voice, sticker ...: copied as it is


# ---- effects out --------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # at most 64 bytes (Telegram's callback_data limit)


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Reply:
    """A message to the customer."""

    chat_id: ChatId
    text: str
    buttons: Keyboard = ()


@dataclass(frozen=True)
class ClearButtons:
    """Remove the keyboard from a message the customer has answered."""

    chat_id: ChatId
    message_id: int


@dataclass(frozen=True)
class NotifyAgents:
    """A notice for the support team's chat (``AGENT_CHAT_ID``), when one is set.

    With a ticket it goes into that ticket's topic; ``card`` marks the ticket's context card,
    which later messages of a chat without topics answer, so they stay with their ticket.
    """

    text: str
    ticket_id: TicketId | None = None
    card: bool = False


@dataclass(frozen=True)
class OpenTopic:
    """Give the ticket its own topic in the team's chat (when that chat has topics)."""

    ticket_id: TicketId
    name: str  # at most 128 characters, as Telegram allows


@dataclass(frozen=True)
class CopyToAgents:
    """Copy what the customer sent (text, photo, file, voice ...) into the ticket's topic."""

    ticket_id: TicketId
    from_chat_id: ChatId
    message_id: int


@dataclass(frozen=True)
class CopyToCustomer:
    """Copy what an agent posted in the team's chat (a photo, a file ...) to the customer."""

    chat_id: ChatId
    message_id: int  # in the team's chat


@dataclass(frozen=True)
class CloseTopic:
    """Close the ticket's topic in the team's chat (it stays readable)."""

    ticket_id: TicketId


@dataclass(frozen=True)
class ReopenTopic:
    """Reopen the ticket's closed topic in the team's chat: the customer is back."""

    ticket_id: TicketId


Effect = (
    Reply
    | ClearButtons
    | NotifyAgents
    | OpenTopic
    | CopyToAgents
    | CopyToCustomer
    | CloseTopic
    | ReopenTopic
)


# ---- records the flows keep ---------------------------------------------------------


class State(StrEnum):
    DESCRIBE = "describe"  # waiting for the customer to say what is wrong
    CHOOSE = "choose"  # "Did you mean ...?" shown
    CONFIRM = "confirm"  # a fix shown, "Did this fix it?" asked
    ORDER_NUMBER = "order_number"  # replacement: waiting for the order number
    PURCHASE_DATE = "purchase_date"  # replacement: waiting for the purchase date
    WITH_AGENT = "with_agent"  # handed to a person
    REOPEN_ASK = "reopen_ask"  # "Is this about T-00128 or something new?" asked
    RATING_COMMENT = "rating_comment"  # rated after a follow-up; "Anything to add?" asked


class TicketStatus(StrEnum):
    OPEN = "open"  # the bot is working on it with the customer
    WAITING_AGENT = "waiting_agent"  # with the team, nobody has answered yet
    WITH_AGENT = "with_agent"  # a person took it or answered
    REOPENED = "reopened"  # resolved, and the customer says the problem is back
    REPLACEMENT_REQUESTED = "replacement_requested"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"
    CLOSED = "closed"  # closed by the team without asking the customer again


# with the team: waiting for a person, with one, back again, or a replacement to decide
WITH_TEAM = (
    TicketStatus.WAITING_AGENT,
    TicketStatus.WITH_AGENT,
    TicketStatus.REOPENED,
    TicketStatus.REPLACEMENT_REQUESTED,
)


@dataclass
class Conversation:
    """One row per customer chat: where the conversation stands."""

    chat_id: ChatId
    state: State = State.DESCRIBE
    step: int = 0  # bumped on every message with buttons; older buttons have expired
    ticket_id: TicketId | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Ticket:
    chat_id: ChatId
    summary: str
    status: TicketStatus
    created_at: datetime
    updated_at: datetime
    id: TicketId | None = None
    entry_id: str | None = None  # the knowledge entry the customer confirmed or tried last
    order_number: str | None = None
    purchase_date: date | None = None
    tried: list[dict[str, Any]] = field(default_factory=list)  # [{"id":..., "score":...}]
    topic_id: int | None = None  # its forum topic (message_thread_id) in the agent chat
    card_message_id: int | None = None  # the context card's message id in the agent chat
    assignee_id: UserId | None = None  # the agent who took it
    rating: int | None = None  # 1-5, from the follow-up after a resolution; one per ticket
    rating_comment: str | None = None

    @property
    def ref(self) -> str:
        """The reference the customer sees."""
        return f"T-{self.id or 0:05d}"


class Direction(StrEnum):
    IN = "in"  # from the customer
    OUT = "out"  # from the bot
    AGENT = "agent"  # from a person on the support team
    NOTE = "note"  # internal note, never shown to the customer


@dataclass(frozen=True)
class TranscriptLine:
    chat_id: ChatId
    direction: Direction
    text: str
    at: datetime
    ticket_id: TicketId | None = None


class TicketEventKind(StrEnum):
    """What happened to a ticket. First-response and resolution times are read from these."""

    OPENED = "opened"
    ESCALATED = "escalated"  # handed to the team: waiting for an agent (detail: why)
    TAKEN = "taken"  # an agent assigned it to themselves
    AGENT_REPLIED = "agent_replied"  # a message from an agent reached the customer
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    RATED = "rated"  # the customer rated the help (detail: 1-5)
    REPLACEMENT_REQUESTED = "replacement_requested"  # (detail: the entry)
    REPLACEMENT_APPROVED = "replacement_approved"
    REPLACEMENT_DENIED = "replacement_denied"
    # a knowledge entry's fix shown to the customer, and their answer (detail: the entry)
    FIX_SHOWN = "fix_shown"
    FIX_WORKED = "fix_worked"
    FIX_FAILED = "fix_failed"


@dataclass(frozen=True)
class TicketEvent:
    """One timestamped change in a ticket's life, kept for good."""

    ticket_id: TicketId
    kind: TicketEventKind
    at: datetime
    actor_id: UserId | None = None  # the agent (or customer) who did it; None: the bot
    detail: str | None = None


# ---- follow-ups: the bot comes back to make sure --------------------------------------


class FollowUpKind(StrEnum):
    CHECK = "check"  # "Is everything working now?" with Yes / No / Remind me later
    CLOSE = "close"  # no answer to a check: the ticket closes quietly (nothing is sent)


class FollowUpStatus(StrEnum):
    PENDING = "pending"  # waiting for due_at
    SENDING = "sending"  # claimed by a dispatcher until lease_until; retried after it
    SENT = "sent"  # the question is in the outbox (a CLOSE row: done)
    ANSWERED = "answered"  # the customer pressed Yes, No or Later
    CANCELLED = "cancelled"  # no longer needed: reopened, closed, customer blocked the bot
    EXPIRED = "expired"  # fell due while the bot was down, too long ago to send (logged)


@dataclass
class FollowUp:
    """A timer in the database: the dispatcher acts on it once it is due.

    Unique per (ticket, kind, round): "Remind me later" is the next round of the check.
    """

    ticket_id: TicketId
    chat_id: ChatId
    kind: FollowUpKind
    due_at: datetime
    round: int = 1
    status: FollowUpStatus = FollowUpStatus.PENDING
    id: int | None = None
    attempts: int = 0  # claims so far
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None


# ---- the support team ---------------------------------------------------------------


@dataclass(frozen=True)
class Agent:
    """A person allowed to use the agent commands, known by numeric user id.

    Admins (``ADMIN_IDS``) are agents too without being stored: see ``flows.agents.may_act``.
    """

    user_id: UserId
    name: str = ""
    added_by: UserId | None = None  # None: added from the command line
    added_at: datetime | None = None  # set when read back; ``add`` takes the time itself


@dataclass(frozen=True)
class AuditEntry:
    """Who tried to do what, when, and whether they were allowed: one row per attempt."""

    at: datetime
    action: str  # short and dotted, e.g. "agents.add", "take", "resolve"
    allowed: bool
    actor_id: UserId | None = None  # None: the command line
    chat_id: ChatId | None = None
    ticket_id: TicketId | None = None
    detail: str = ""
