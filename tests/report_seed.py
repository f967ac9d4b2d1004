"""A week of support whose report is known, written into a real database.

The period is Monday 2 November 2026 00:00 UTC to Monday 9 November 00:00 (``SINCE``,
``UNTIL``). Each ticket's story is told beside it; ``tests/integration/test_report.py`` states
every figure it must give. Tickets opened just outside the period (one exactly at ``UNTIL``)
carry events that would change the figures if they were counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot.storage import SqlUnitOfWork
from flows.learning import Unmatched, UnmatchedReason
from flows.model import (
    ChatId,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketId,
    TicketStatus,
    UserId,
)

SINCE = datetime(2026, 11, 2, tzinfo=UTC)
UNTIL = datetime(2026, 11, 9, tzinfo=UTC)
AGENT = UserId(7)
PAIRING = "headphones-bluetooth-pairing"  # entries of the bundled demo knowledge
CHARGING = "headphones-wont-charge"
RETIRED = "retired-entry"  # no longer in the knowledge

K = TicketEventKind
S = TicketStatus
# (kind, when (day of November, "HH:MM:SS"), detail, by an agent?)
Step = tuple[TicketEventKind, str, str | None, bool]
# (round, status, sent?) of a "check" follow-up
Check = tuple[int, FollowUpStatus, bool]


def at(when: str) -> datetime:
    """ "2 10:05" is 2 November 2026 10:05 UTC; "2 10:05:30" with seconds."""
    day, clock = when.split(" ")
    parts = [int(p) for p in clock.split(":")] + [0]
    return datetime(2026, 11, int(day), parts[0], parts[1], parts[2], tzinfo=UTC)


def step(
    kind: TicketEventKind, when: str, detail: str | None = None, *, agent: bool = False
) -> Step:
    return (kind, when, detail, agent)


# opened at, status now, events after OPENED, follow-ups
STORIES: list[tuple[str, TicketStatus, list[Step], list[Check]]] = [
    # T1 solved by the bot: the first fix worked; the follow-up answered, rated 5
    (
        "2 10:00",
        S.RESOLVED,
        [
            step(K.FIX_SHOWN, "2 10:00", PAIRING),
            step(K.FIX_WORKED, "2 10:05", PAIRING),
            step(K.RESOLVED, "2 10:05", "customer"),
            step(K.RATED, "3 10:06", "5"),
        ],
        [(1, FollowUpStatus.ANSWERED, True)],
    ),
    # T2 solved by the bot at the second fix; the follow-up never answered: closed quietly
    # after the period (still solved by the bot)
    (
        "2 12:00",
        S.CLOSED,
        [
            step(K.FIX_SHOWN, "2 12:00", PAIRING),
            step(K.FIX_FAILED, "2 12:02", PAIRING),
            step(K.FIX_SHOWN, "2 12:02", CHARGING),
            step(K.FIX_WORKED, "2 12:04", CHARGING),
            step(K.RESOLVED, "2 12:04", "customer"),
            step(K.CLOSED, "10 12:04", "no answer to follow-up"),
        ],
        [(1, FollowUpStatus.SENT, True)],
    ),
    # T3 the fix failed, handed off; a reply after 10 minutes, resolved by the agent after
    # 61 minutes; "remind me later" on the first follow-up, the second answered; rated 4
    (
        "3 09:00",
        S.RESOLVED,
        [
            step(K.FIX_SHOWN, "3 09:00", PAIRING),
            step(K.FIX_FAILED, "3 09:01", PAIRING),
            step(K.ESCALATED, "3 09:01", "not_fixed"),
            step(K.TAKEN, "3 09:10", agent=True),
            step(K.AGENT_REPLIED, "3 09:11", agent=True),
            step(K.RESOLVED, "3 10:01", agent=True),
            step(K.RATED, "5 11:00", "4"),
        ],
        [(1, FollowUpStatus.ANSWERED, True), (2, FollowUpStatus.ANSWERED, True)],
    ),
    # T4 nothing matched; waiting for a person, nobody has answered
    ("4 15:00", S.WAITING_AGENT, [step(K.ESCALATED, "4 15:00", "no_match")], []),
    # T5 asked for a person, answered in 30 s, resolved; reopened the next day, resolved
    # again 25 h after opening; rated 2. The first follow-up was cancelled by the reopening,
    # the second fell due while the bot was down: expired
    (
        "5 08:00",
        S.RESOLVED,
        [
            step(K.ESCALATED, "5 08:00", "asked"),
            step(K.AGENT_REPLIED, "5 08:00:30", agent=True),
            step(K.RESOLVED, "5 08:30", agent=True),
            step(K.REOPENED, "6 08:00", "it is back"),
            step(K.AGENT_REPLIED, "6 08:10", agent=True),
            step(K.RESOLVED, "6 09:00", agent=True),
            step(K.RATED, "7 10:00", "2"),
        ],
        [(1, FollowUpStatus.CANCELLED, False), (2, FollowUpStatus.EXPIRED, False)],
    ),
    # T6 a replacement, approved after 30 minutes
    (
        "6 11:00",
        S.RESOLVED,
        [
            step(K.FIX_SHOWN, "6 11:00", RETIRED),
            step(K.REPLACEMENT_REQUESTED, "6 11:03", RETIRED),
            step(K.REPLACEMENT_APPROVED, "6 11:30", agent=True),
        ],
        [],
    ),
    # T7 a replacement denied, then closed by the agent unsolved
    (
        "6 13:00",
        S.CLOSED,
        [
            step(K.REPLACEMENT_REQUESTED, "6 13:02", RETIRED),
            step(K.REPLACEMENT_DENIED, "6 13:20", "too old", agent=True),
            step(K.CLOSED, "6 13:30", agent=True),
        ],
        [],
    ),
    # T8 a replacement waiting for a decision
    ("7 10:00", S.REPLACEMENT_REQUESTED, [step(K.REPLACEMENT_REQUESTED, "7 10:01", RETIRED)], []),
    # T9 cancelled by the customer after a fix was shown
    ("7 12:00", S.CANCELLED, [step(K.FIX_SHOWN, "7 12:00", CHARGING)], []),
    # T10 opened in the period's last second; the customer has not answered yet
    ("8 23:59:59", S.OPEN, [step(K.FIX_SHOWN, "8 23:59:59", CHARGING)], []),
    # T11 opened exactly at the period's start (in it): nothing matched, a reply after 1 h
    (
        "2 00:00",
        S.WITH_AGENT,
        [step(K.ESCALATED, "2 00:00", "no_match"), step(K.AGENT_REPLIED, "2 01:00", agent=True)],
        [],
    ),
]

# Opened outside the period: exactly at its end, and a second before its start.
OUTSIDE: list[tuple[str, TicketStatus, list[Step], list[Check]]] = [
    (
        "9 00:00",
        S.RESOLVED,
        [
            step(K.FIX_SHOWN, "9 00:00", PAIRING),
            step(K.FIX_FAILED, "9 00:01", PAIRING),
            step(K.ESCALATED, "9 00:01", "not_fixed"),
            step(K.RESOLVED, "9 00:02", agent=True),
            step(K.RATED, "9 00:03", "1"),
        ],
        [(1, FollowUpStatus.EXPIRED, False)],
    ),
    (
        "1 23:59:59",
        S.RESOLVED,
        [step(K.RESOLVED, "2 00:10", "customer"), step(K.REOPENED, "2 00:20")],
        [(1, FollowUpStatus.SENT, True)],
    ),
]

# a customer's words that would be markup if a page did not escape them
HOSTILE = "<img src=x onerror=f()><a href=https://e.example>x</a> & co"

# (when, reason, language, text): questions the knowledge missed
UNMATCHED: list[tuple[str, UnmatchedReason, str | None, str]] = [
    ("2 00:00", UnmatchedReason.UNKNOWN, "en", "do you ship to Canada"),  # at the start: in
    ("3 10:00", UnmatchedReason.UNKNOWN, None, "Do you ship to Canada?"),
    ("4 10:00", UnmatchedReason.NONE_FIT, "en", "do you ship to Norway"),
    ("5 10:00", UnmatchedReason.UNKNOWN, "en", "how do I use my gift card"),
    ("6 10:00", UnmatchedReason.UNKNOWN, "en", "how can I use a gift card"),
    ("7 10:00", UnmatchedReason.FIXES_FAILED, "en", "my headphones will not pair with my laptop"),
    ("8 10:00", UnmatchedReason.UNKNOWN, "en", HOSTILE),
    ("9 00:00", UnmatchedReason.UNKNOWN, "en", "outside: at the end"),
    ("1 23:59:59", UnmatchedReason.UNKNOWN, "en", "outside: before the start"),
]


def seed(engine: Engine) -> None:
    """Write the week (and what lies just outside it) into ``engine``'s database."""
    with SqlUnitOfWork(engine) as uow:
        for number, (opened, status, steps, checks) in enumerate([*STORIES, *OUTSIDE], 1):
            ticket = uow.tickets.add(
                Ticket(ChatId(100 + number), f"story {number}", status, at(opened), at(opened))
            )
            assert ticket.id is not None
            _events(uow, ticket.id, opened, steps)
            _followups(uow, ticket.id, ChatId(100 + number), steps, checks)
        for when, reason, language, text in UNMATCHED:
            uow.unmatched.add(Unmatched(ChatId(1), text, reason, at(when), language))
        uow.commit()


def _events(uow: SqlUnitOfWork, ticket_id: TicketId, opened: str, steps: Sequence[Step]) -> None:
    uow.ticket_events.add(TicketEvent(ticket_id, K.OPENED, at(opened)))
    for kind, when, detail, by_agent in steps:
        actor = AGENT if by_agent else None
        uow.ticket_events.add(TicketEvent(ticket_id, kind, at(when), actor, detail))


def _followups(
    uow: SqlUnitOfWork,
    ticket_id: TicketId,
    chat_id: ChatId,
    steps: Sequence[Step],
    checks: Sequence[Check],
) -> None:
    resolved = next((at(when) for kind, when, _, _ in steps if kind is K.RESOLVED), None)
    for round_, status, sent in checks:
        due = (resolved or at("2 00:00")) + timedelta(days=round_)
        uow.followups.add(
            FollowUp(
                ticket_id,
                chat_id,
                FollowUpKind.CHECK,
                due,
                round_,
                status,
                sent_at=due if sent else None,
            )
        )
        if status is FollowUpStatus.SENT:  # the quiet close that followed: not a check
            uow.followups.add(
                FollowUp(
                    ticket_id,
                    chat_id,
                    FollowUpKind.CLOSE,
                    due + timedelta(days=7),
                    round_,
                    FollowUpStatus.SENT,
                )
            )
