"""What the knowledge missed, and what the customers and agents taught it.

Two records feed the admins' loop (``supportbot report``, ``supportbot kb suggestions``):

- an **unmatched** question: a description the matcher had no answer for, one whose
  "Did you mean ...?" buttons the customer refused, or one whose fixes all failed before it
  went to a person. The words are kept as the customer wrote them; the report groups them.
- a **suggestion**: a customer's own words proposed as a new symptom of the entry that
  turned out to fix their problem, when the matcher alone would not have shown it directly
  (the customer picked it after "Did you mean ...?", or an agent sent it with ``/fix``).
  Admins accept or reject it; accepted ones are written into the YAML files.

Both are written in the same transaction as the turn that learned them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flows.model import ChatId, TicketId

if TYPE_CHECKING:
    from flows.turn import Turn

# Long texts are kept whole in the transcript; here only what a symptom could be.
MAX_TEXT = 500


class UnmatchedReason(StrEnum):
    UNKNOWN = "unknown"  # the matcher had nothing close enough
    NONE_FIT = "none_fit"  # "None of these" after "Did you mean ...?"
    FIXES_FAILED = "fixes_failed"  # every fix shown failed; handed to a person


class SuggestionSource(StrEnum):
    PICKED = "picked"  # the customer chose it from "Did you mean ...?" and it worked
    AGENT = "agent"  # an agent sent it with /fix and it worked (or the agent resolved)


class SuggestionStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"  # written into the knowledge files
    REJECTED = "rejected"


@dataclass(frozen=True)
class Unmatched:
    chat_id: ChatId
    text: str
    reason: UnmatchedReason
    at: datetime
    language: str | None = None  # the customer's, as the matcher read them
    ticket_id: TicketId | None = None
    id: int | None = None


@dataclass(frozen=True)
class Suggestion:
    entry_id: str
    text: str
    source: SuggestionSource
    at: datetime
    language: str | None = None  # None or the default: a symptom of the entry itself
    ticket_id: TicketId | None = None
    status: SuggestionStatus = SuggestionStatus.PENDING
    id: int | None = None


def _words(turn: Turn) -> str:
    """The customer's latest description as they typed it (not joined with an earlier one)."""
    return str(turn.data.get("words") or turn.data.get("description") or "").strip()


def record_unmatched(turn: Turn, reason: UnmatchedReason) -> None:
    """Keep the customer's description as one the knowledge missed."""
    text = _words(turn)
    if not text:
        return
    turn.repos.unmatched.add(
        Unmatched(
            chat_id=turn.chat_id,
            text=text[:MAX_TEXT],
            reason=reason,
            at=turn.now,
            language=turn.language,
            ticket_id=turn.conversation.ticket_id,
        )
    )


def propose_symptom(turn: Turn, entry_id: str, source: SuggestionSource) -> None:
    """Propose the customer's words as a new symptom of ``entry_id``: they describe a
    problem this entry fixed, and the matcher did not see it by itself."""
    text = _words(turn)
    if not text:
        return
    turn.repos.suggestions.add(
        Suggestion(
            entry_id=entry_id,
            text=text[:MAX_TEXT],
            source=source,
            at=turn.now,
            language=turn.language,
            ticket_id=turn.conversation.ticket_id,
        )
    )
