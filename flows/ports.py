"""What the flows need from the outside world, as Protocols.

Adapters in ``bot/`` implement these on real storage; tests implement them as small fakes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from flows.model import ChatId, Conversation, Person, Ticket, TicketId, TranscriptLine
from knowledge.schema import MatchResult


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class Matcher(Protocol):
    def match(self, text: str, limit: int = 3) -> MatchResult: ...


class CustomerRepository(Protocol):
    def upsert(self, person: Person, at: datetime) -> None:
        """Create the customer or refresh their name; clears a 'blocked' mark."""
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


class TranscriptRepository(Protocol):
    def add(self, line: TranscriptLine) -> None: ...


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
