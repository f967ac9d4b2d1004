"""What the flows need from the outside world, as Protocols.

Adapters in ``bot/`` implement these on real storage; tests implement them as small fakes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from flows.learning import Suggestion, Unmatched
from flows.model import (
    Agent,
    AuditEntry,
    ChatId,
    Conversation,
    FollowUp,
    Person,
    Ticket,
    TicketEvent,
    TicketId,
    TranscriptLine,
    UserId,
)
from knowledge.schema import MatchResult


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class Matcher(Protocol):
    def match(self, text: str, limit: int = 3) -> MatchResult: ...


class CustomerRepository(Protocol):
    def upsert(self, person: Person, at: datetime) -> Person:
        """Create the customer or refresh their name; clears a 'blocked' mark. Returns the
        stored customer, as ``get`` would (the language they chose, else Telegram's)."""
        ...

    def get(self, chat_id: ChatId) -> Person | None:
        """The stored customer; ``language`` is the one they chose, else Telegram's."""
        ...

    def choose_language(self, chat_id: ChatId, language: str, at: datetime) -> None:
        """Keep the customer's choice (``/language``) over what Telegram says."""
        ...

    def is_blocked(self, chat_id: int) -> bool:
        """True when the customer blocked the bot (a 403, or 'kicked') and has not come back."""
        ...


class ConversationRepository(Protocol):
    def get(self, chat_id: ChatId) -> Conversation | None: ...

    def save(self, conversation: Conversation) -> None: ...


class TicketRepository(Protocol):
    def add(self, ticket: Ticket) -> Ticket:
        """Store a new ticket; returns it with ``id`` set."""
        ...

    def get(self, ticket_id: TicketId) -> Ticket | None: ...

    def save(self, ticket: Ticket) -> None: ...

    def for_customer(self, chat_id: ChatId, limit: int = 10) -> list[Ticket]:
        """The customer's tickets, newest first."""
        ...

    def for_topic(self, topic_id: int) -> Ticket | None:
        """The ticket whose topic in the team's chat this is."""
        ...

    def for_team_message(self, chat_id: int, message_id: int) -> Ticket | None:
        """The ticket a message in the team's chat belongs to: its card, or one the bot
        posted there for it (a customer's copied message, a notice)."""
        ...

    def waiting_for_team(self, limit: int = 50) -> list[Ticket]:
        """Tickets with the team (waiting for a person, or a replacement), oldest first."""
        ...


class TranscriptRepository(Protocol):
    def add(self, line: TranscriptLine) -> None: ...


class AgentRepository(Protocol):
    """The people who may use agent commands. Removing one keeps their row (``removed_at``)
    so that audit rows naming them keep their meaning; adding them again clears it.

    Admins (``ADMIN_IDS``) are agents too but are not stored here: whoever checks asks
    ``user_id in admin_ids or agents.is_agent(user_id)`` (``flows.agents.may_act``).
    """

    def is_agent(self, user_id: UserId) -> bool:
        """True for a current agent; False for a removed or unknown one."""
        ...

    def get(self, user_id: UserId) -> Agent | None:
        """The current agent with this id; None when removed or never added."""
        ...

    def add(self, agent: Agent, at: datetime) -> None:
        """Add the agent, or update a current one's name (keeping when and by whom they
        were added). A removed agent is added afresh: ``added_at``/``added_by`` are renewed."""
        ...

    def remove(self, user_id: UserId, at: datetime) -> bool:
        """Remove a current agent; False (nothing changed) if they were not one."""
        ...

    def list(self) -> list[Agent]:
        """Current agents, in the order they were added."""
        ...


class AuditLog(Protocol):
    def add(self, entry: AuditEntry) -> None:
        """Record an attempt, allowed or refused, in the caller's transaction."""
        ...


class TicketEvents(Protocol):
    def add(self, event: TicketEvent) -> None: ...

    def for_ticket(self, ticket_id: TicketId) -> list[TicketEvent]:
        """The ticket's events, oldest first (ties: in the order they were added)."""
        ...

    def first_response_times(self, limit: int = 20) -> list[timedelta]:
        """From hand-over to the team's first reply, for the latest ``limit`` tickets that
        had one, newest first."""
        ...


class FollowUpRepository(Protocol):
    """The follow-up timers, written in the same transaction as what causes them."""

    def add(self, followup: FollowUp) -> FollowUp | None:
        """Store a new follow-up; None (nothing stored) when its (ticket, kind, round) exists."""
        ...

    def get(self, followup_id: int) -> FollowUp | None: ...

    def save(self, followup: FollowUp) -> None:
        """Store status, due_at, sent_at, lease and last_error of an existing row."""
        ...

    def for_ticket(self, ticket_id: TicketId) -> list[FollowUp]:
        """The ticket's follow-ups, oldest first."""
        ...

    def cancel_pending(self, ticket_id: TicketId, at: datetime) -> int:
        """Cancel the ticket's pending (and sending) follow-ups; returns how many."""
        ...


class UnmatchedLog(Protocol):
    def add(self, record: Unmatched) -> None:
        """Keep a question the knowledge missed, in the caller's transaction."""
        ...


class SuggestionRepository(Protocol):
    def add(self, suggestion: Suggestion) -> bool:
        """Propose a symptom; False (nothing stored) when the same words are already
        proposed for that entry and language, whatever became of them."""
        ...


class Repositories(Protocol):
    """What one unit of work offers the flows. The caller commits; flows never do."""

    @property
    def customers(self) -> CustomerRepository: ...

    @property
    def conversations(self) -> ConversationRepository: ...

    @property
    def tickets(self) -> TicketRepository: ...

    @property
    def transcript(self) -> TranscriptRepository: ...

    @property
    def agents(self) -> AgentRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def ticket_events(self) -> TicketEvents: ...

    @property
    def followups(self) -> FollowUpRepository: ...

    @property
    def unmatched(self) -> UnmatchedLog: ...

    @property
    def suggestions(self) -> SuggestionRepository: ...
