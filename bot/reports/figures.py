"""The report's figures, computed from one period's records (``ReportData``); no I/O.

Every figure is about the tickets *opened* in the period, followed to now (their events
after the period count too), except the unmatched questions, which are those *asked* in it.
A figure with nothing to count is 0, or None where a share, an average or a time would need
a division by zero.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.storage.reports import ReportData
from flows.model import (
    WITH_TEAM,
    FollowUpKind,
    FollowUpStatus,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from knowledge.schema import KnowledgeBase

K = TicketEventKind

# a person took part: whatever followed was not the bot alone
_PERSON = (K.ESCALATED, K.REOPENED, K.REPLACEMENT_REQUESTED)
# what ends a ticket well: solved (by the customer's "yes" or an agent), or a replacement
_RESOLVING = (K.RESOLVED, K.REPLACEMENT_APPROVED)


class Outcome(StrEnum):
    """Where a ticket stands now, for the tickets-per-day chart."""

    BOT_RESOLVED = "bot_resolved"
    AGENT_RESOLVED = "agent_resolved"
    REPLACED = "replaced"
    OPEN = "open"  # with the bot, or waiting for (or with) a person
    CLOSED = "closed"  # cancelled by the customer, or closed by the team unsolved


@dataclass(frozen=True)
class Durations:
    """Seconds: how many were measured, their median and 90th percentile (None: none)."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class EntryOutcomes:
    """One knowledge entry's fixes: shown to customers, and what they answered."""

    entry_id: str
    title: str | None  # None: no such entry in the knowledge now
    offered: int
    fixed: int
    failed: int


@dataclass(frozen=True)
class DayOutcomes:
    day: date
    counts: Mapping[Outcome, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Figures:
    """Everything but the unmatched groups (``bot.reports.unmatched``)."""

    tickets: int
    by_status: Mapping[TicketStatus, int]
    bot_resolved: int
    handed_off: int
    handoff_reasons: Mapping[str, int]  # each handed-off ticket's first reason
    first_response: Durations
    resolution: Durations
    ratings: Mapping[int, int]  # stars (1-5) -> how many
    resolved: int  # tickets resolved at least once (RESOLVED or REPLACEMENT_APPROVED)
    reopened: int
    replacements: Mapping[str, int]  # requested, approved, denied, pending
    followups: Mapping[str, int]  # sent, answered, expired, unanswered
    entries: tuple[EntryOutcomes, ...]  # most failures first
    days: tuple[DayOutcomes, ...]


def compute(data: ReportData, *, knowledge: KnowledgeBase, timezone: str = "UTC") -> Figures:
    """The figures of ``data``; days are counted in ``timezone`` (an IANA name)."""
    history: dict[int, list[TicketEvent]] = defaultdict(list)
    for event in data.events:
        history[event.ticket_id].append(event)
    kinds = {ticket.id: {e.kind for e in history[_id(ticket)]} for ticket in data.tickets}
    tickets = data.tickets
    handed = [t for t in tickets if K.ESCALATED in kinds[t.id]]
    return Figures(
        tickets=len(tickets),
        by_status={s: sum(t.status is s for t in tickets) for s in TicketStatus},
        bot_resolved=sum(_bot_resolved(history[_id(t)]) for t in tickets),
        handed_off=len(handed),
        handoff_reasons=Counter(_first_reason(history[_id(t)]) for t in handed),
        first_response=_durations(_first_response(history[_id(t)]) for t in handed),
        resolution=_durations(_resolution(t, history[_id(t)]) for t in tickets),
        ratings=_ratings(data.events),
        resolved=sum(bool(kinds[t.id] & set(_RESOLVING)) for t in tickets),
        reopened=sum(K.REOPENED in kinds[t.id] for t in tickets),
        replacements={
            "requested": sum(K.REPLACEMENT_REQUESTED in kinds[t.id] for t in tickets),
            "approved": sum(K.REPLACEMENT_APPROVED in kinds[t.id] for t in tickets),
            "denied": sum(K.REPLACEMENT_DENIED in kinds[t.id] for t in tickets),
            "pending": sum(t.status is TicketStatus.REPLACEMENT_REQUESTED for t in tickets),
        },
        followups=_followups(data),
        entries=_entries(data.events, knowledge),
        days=_days(data, history, ZoneInfo(timezone)),
    )


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) with linear interpolation between the closest ranks (as
    numpy's default); the median is ``q=0.5``. None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def outcome(ticket: Ticket, events: Sequence[TicketEvent]) -> Outcome:
    """Where ``ticket`` stands now, given its events (oldest first)."""
    kinds = {event.kind for event in events}
    if ticket.status is TicketStatus.OPEN or ticket.status in WITH_TEAM:
        return Outcome.OPEN
    if ticket.status is TicketStatus.CANCELLED:
        return Outcome.CLOSED
    if K.REPLACEMENT_APPROVED in kinds:
        return Outcome.REPLACED
    closes = [event for event in events if event.kind is K.CLOSED]
    # closed quietly after a resolution the customer never answered the follow-up of (no
    # actor), or closed by an agent (an actor) without solving it
    solved = ticket.status is TicketStatus.RESOLVED or (
        bool(closes) and closes[-1].actor_id is None and K.RESOLVED in kinds
    )
    if not solved:
        return Outcome.CLOSED
    return Outcome.BOT_RESOLVED if _bot_resolved(events) else Outcome.AGENT_RESOLVED


def _id(ticket: Ticket) -> int:
    assert ticket.id is not None
    return ticket.id


def _bot_resolved(events: Sequence[TicketEvent]) -> bool:
    """Solved with no person: resolved by the customer's "yes" (no actor), with no hand-off,
    reopening, replacement or anything an agent did (events with an actor) on the way."""
    return any(e.kind is K.RESOLVED for e in events) and not any(
        e.kind in _PERSON or e.actor_id is not None for e in events
    )


def _first_reason(events: Sequence[TicketEvent]) -> str:
    first = next(e for e in events if e.kind is K.ESCALATED)
    return first.detail or "unknown"


def _first_response(events: Sequence[TicketEvent]) -> float | None:
    """From the first hand-off to the first agent reply at or after it, in seconds."""
    handed = next((e.at for e in events if e.kind is K.ESCALATED), None)
    replied = next(
        (e.at for e in events if e.kind is K.AGENT_REPLIED and handed and e.at >= handed), None
    )
    return _seconds(replied - handed) if handed and replied else None


def _resolution(ticket: Ticket, events: Sequence[TicketEvent]) -> float | None:
    """From the ticket's opening to its last resolution, in seconds."""
    resolved = [e.at for e in events if e.kind in _RESOLVING]
    return _seconds(resolved[-1] - ticket.created_at) if resolved else None


def _seconds(delta: timedelta) -> float:
    return delta.total_seconds()


def _durations(measured: Iterable[float | None]) -> Durations:
    values = [value for value in measured if value is not None]
    return Durations(len(values), percentile(values, 0.5), percentile(values, 0.9))


def _ratings(events: Iterable[TicketEvent]) -> dict[int, int]:
    stars = dict.fromkeys(range(1, 6), 0)
    for event in events:
        if event.kind is K.RATED and event.detail in {"1", "2", "3", "4", "5"}:
            stars[int(event.detail)] += 1
    return stars


def _followups(data: ReportData) -> dict[str, int]:
    checks = [f for f in data.followups if f.kind is FollowUpKind.CHECK]
    sent = [f for f in checks if f.sent_at is not None]
    return {
        "sent": len(sent),
        "answered": sum(f.status is FollowUpStatus.ANSWERED for f in checks),
        "expired": sum(f.status is FollowUpStatus.EXPIRED for f in checks),
        "unanswered": sum(f.status is not FollowUpStatus.ANSWERED for f in sent),
    }


def _entries(events: Iterable[TicketEvent], knowledge: KnowledgeBase) -> tuple[EntryOutcomes, ...]:
    counted: dict[str, Counter[TicketEventKind]] = defaultdict(Counter)
    for event in events:
        if event.kind in (K.FIX_SHOWN, K.FIX_WORKED, K.FIX_FAILED) and event.detail:
            counted[event.detail][event.kind] += 1
    found = []
    for entry_id, counts in counted.items():
        entry = knowledge.get(entry_id)
        found.append(
            EntryOutcomes(
                entry_id=entry_id,
                title=entry.title if entry is not None else None,
                offered=counts[K.FIX_SHOWN],
                fixed=counts[K.FIX_WORKED],
                failed=counts[K.FIX_FAILED],
            )
        )
    found.sort(key=lambda e: (-e.failed, -e.offered, e.entry_id))
    return tuple(found)


def _days(
    data: ReportData, history: Mapping[int, Sequence[TicketEvent]], zone: ZoneInfo
) -> tuple[DayOutcomes, ...]:
    """Every day of the period (in ``zone``), with the outcomes of the tickets opened on it."""
    counts: dict[date, Counter[Outcome]] = defaultdict(Counter)
    for ticket in data.tickets:
        counts[_local_day(ticket.created_at, zone)][outcome(ticket, history[_id(ticket)])] += 1
    first = _local_day(data.since, zone)
    last = _local_day(data.until - timedelta(microseconds=1), zone)
    days = []
    day = first
    while day <= last:
        days.append(DayOutcomes(day, {o: counts[day][o] for o in Outcome}))
        day += timedelta(days=1)
    return tuple(days)


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()
