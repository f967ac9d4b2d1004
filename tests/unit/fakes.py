"""Hand-written fakes of the flows' ports (no mocks)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from flows.engine import Conversations
from flows.followup import FollowUps
from flows.learning import Suggestion, Unmatched
from flows.model import (
    WITH_TEAM,
    Agent,
    AuditEntry,
    ButtonPress,
    ChatId,
    Command,
    Conversation,
    CopyToAgents,
    Effect,
    FollowUp,
    FollowUpStatus,
    Media,
    MediaKind,
    NotifyAgents,
    Person,
    Reply,
    State,
    TextMessage,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketId,
    TranscriptLine,
    UserId,
)
from flows.turn import FlowSettings, Services
from knowledge.catalogue import Catalogue
from knowledge.responses import Responses
from knowledge.schema import (
    Band,
    Candidate,
    Entry,
    EntryId,
    EntryKind,
    KnowledgeBase,
    MatchResult,
    ReplacementRule,
    Thresholds,
)


class FixedClock:
    def __init__(self, now: datetime | None = None):
        self.current = now or datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


class ScriptedMatcher:
    """Answers each query from a table: query -> list of (entry id, score)."""

    def __init__(self, table: dict[str, list[tuple[str, float]]], thresholds: Thresholds):
        self.table = table
        self.thresholds = thresholds
        self.queries: list[str] = []

    def match(self, text: str, limit: int = 3) -> MatchResult:
        self.queries.append(text)
        scored = self.table.get(text, [])[:limit]
        candidates = tuple(Candidate(EntryId(i), s) for i, s in scored)
        best = candidates[0].score if candidates else 0.0
        band = (
            Band.ANSWER
            if best >= self.thresholds.answer
            else Band.SUGGEST
            if best >= self.thresholds.suggest
            else Band.UNKNOWN
        )
        return MatchResult(band, candidates)


@dataclass
class FakeCustomers:
    people: dict[int, Person] = field(default_factory=dict)

    blocked: set[int] = field(default_factory=set)
    chosen: dict[int, str] = field(default_factory=dict)

    def upsert(self, person: Person, at: datetime) -> Person:
        self.people[person.chat_id] = person
        self.blocked.discard(person.chat_id)
        stored = self.get(person.chat_id)
        assert stored is not None
        return stored

    def get(self, chat_id: ChatId) -> Person | None:
        person = self.people.get(chat_id)
        if person is not None and chat_id in self.chosen:
            return replace(person, language=self.chosen[chat_id])
        return person

    def choose_language(self, chat_id: ChatId, language: str, at: datetime) -> None:
        if chat_id in self.people:
            self.chosen[chat_id] = language

    def is_blocked(self, chat_id: int) -> bool:
        return chat_id in self.blocked


@dataclass
class FakeConversations:
    rows: dict[int, Conversation] = field(default_factory=dict)

    def get(self, chat_id: ChatId) -> Conversation | None:
        row = self.rows.get(chat_id)
        return copy.deepcopy(row) if row else None

    def save(self, conversation: Conversation) -> None:
        self.rows[conversation.chat_id] = copy.deepcopy(conversation)


@dataclass
class FakeTickets:
    rows: dict[int, Ticket] = field(default_factory=dict)

    def add(self, ticket: Ticket) -> Ticket:
        stored = replace(ticket, id=TicketId(len(self.rows) + 1))
        assert stored.id is not None
        self.rows[stored.id] = copy.deepcopy(stored)
        return stored

    def get(self, ticket_id: TicketId) -> Ticket | None:
        row = self.rows.get(ticket_id)
        return copy.deepcopy(row) if row else None

    def save(self, ticket: Ticket) -> None:
        assert ticket.id in self.rows
        self.rows[ticket.id] = copy.deepcopy(ticket)

    def for_customer(self, chat_id: ChatId, limit: int = 10) -> list[Ticket]:
        mine = [t for t in self.rows.values() if t.chat_id == chat_id]
        return sorted(mine, key=lambda t: t.id or 0, reverse=True)[:limit]

    def for_topic(self, topic_id: int) -> Ticket | None:
        found = [t for t in self.rows.values() if t.topic_id == topic_id]
        return copy.deepcopy(found[0]) if found else None

    def for_team_message(self, chat_id: int, message_id: int) -> Ticket | None:
        found = [t for t in self.rows.values() if t.card_message_id == message_id]
        return copy.deepcopy(found[0]) if found else None

    def waiting_for_team(self, limit: int = 50) -> list[Ticket]:
        found = [t for t in self.rows.values() if t.status in WITH_TEAM]
        return [copy.deepcopy(t) for t in sorted(found, key=lambda t: (t.created_at, t.id or 0))]


@dataclass
class FakeTranscript:
    lines: list[TranscriptLine] = field(default_factory=list)

    def add(self, line: TranscriptLine) -> None:
        self.lines.append(line)


LONG_AGO = datetime.min.replace(tzinfo=UTC)


@dataclass
class FakeAgents:
    """Current agents by id; ``removed`` keeps the ones removed, as the soft delete does."""

    rows: dict[int, Agent] = field(default_factory=dict)
    removed: dict[int, Agent] = field(default_factory=dict)
    reads: int = 0  # is_agent/get calls: how often the database would have been asked

    def is_agent(self, user_id: UserId) -> bool:
        return self.get(user_id) is not None

    def get(self, user_id: UserId) -> Agent | None:
        self.reads += 1
        return self.rows.get(user_id)

    def add(self, agent: Agent, at: datetime) -> None:
        current = self.rows.get(agent.user_id)
        if current is not None:
            self.rows[agent.user_id] = replace(current, name=agent.name)
        else:
            self.removed.pop(agent.user_id, None)
            self.rows[agent.user_id] = replace(agent, added_at=at)

    def remove(self, user_id: UserId, at: datetime) -> bool:
        agent = self.rows.pop(user_id, None)
        if agent is None:
            return False
        self.removed[user_id] = agent
        return True

    def list(self) -> list[Agent]:
        return sorted(self.rows.values(), key=lambda a: (a.added_at or LONG_AGO, a.user_id))


@dataclass
class FakeAuditLog:
    entries: list[AuditEntry] = field(default_factory=list)

    def add(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


@dataclass
class FakeTicketEvents:
    events: list[TicketEvent] = field(default_factory=list)

    def add(self, event: TicketEvent) -> None:
        self.events.append(event)

    def for_ticket(self, ticket_id: TicketId) -> list[TicketEvent]:
        mine = [e for e in self.events if e.ticket_id == ticket_id]
        return sorted(mine, key=lambda e: e.at)  # stable: ties stay in the order added

    def first_response_times(self, limit: int = 20) -> list[timedelta]:
        first: dict[TicketId, dict[TicketEventKind, datetime]] = {}
        for e in self.events:
            first.setdefault(e.ticket_id, {}).setdefault(e.kind, e.at)
        pairs = [
            (kinds[TicketEventKind.ESCALATED], kinds[TicketEventKind.AGENT_REPLIED])
            for kinds in first.values()
            if TicketEventKind.ESCALATED in kinds and TicketEventKind.AGENT_REPLIED in kinds
        ]
        pairs.sort(reverse=True)
        return [answered - handed for handed, answered in pairs[:limit]]


@dataclass
class FakeFollowUps:
    rows: dict[int, FollowUp] = field(default_factory=dict)

    def add(self, followup: FollowUp) -> FollowUp | None:
        key = (followup.ticket_id, followup.kind, followup.round)
        if any((f.ticket_id, f.kind, f.round) == key for f in self.rows.values()):
            return None
        stored = copy.deepcopy(followup)
        stored.id = len(self.rows) + 1
        self.rows[stored.id] = stored
        return copy.deepcopy(stored)

    def get(self, followup_id: int) -> FollowUp | None:
        found = self.rows.get(followup_id)
        return copy.deepcopy(found) if found else None

    def save(self, followup: FollowUp) -> None:
        assert followup.id in self.rows
        self.rows[followup.id] = copy.deepcopy(followup)

    def for_ticket(self, ticket_id: TicketId) -> list[FollowUp]:
        mine = [f for f in self.rows.values() if f.ticket_id == ticket_id]
        return [copy.deepcopy(f) for f in sorted(mine, key=lambda f: f.id or 0)]

    def cancel_pending(self, ticket_id: TicketId, at: datetime) -> int:
        waiting = (FollowUpStatus.PENDING, FollowUpStatus.SENDING)
        hit = [f for f in self.rows.values() if f.ticket_id == ticket_id and f.status in waiting]
        for f in hit:
            f.status = FollowUpStatus.CANCELLED
        return len(hit)


@dataclass
class FakeUnmatched:
    records: list[Unmatched] = field(default_factory=list)

    def add(self, record: Unmatched) -> None:
        self.records.append(record)


@dataclass
class FakeSuggestions:
    rows: list[Suggestion] = field(default_factory=list)

    def add(self, suggestion: Suggestion) -> bool:
        key = (suggestion.entry_id, suggestion.language, " ".join(suggestion.text.lower().split()))
        if any(
            (s.entry_id, s.language, " ".join(s.text.lower().split())) == key for s in self.rows
        ):
            return False
        self.rows.append(suggestion)
        return True


@dataclass
class FakeRepositories:
    customers: FakeCustomers = field(default_factory=FakeCustomers)
    conversations: FakeConversations = field(default_factory=FakeConversations)
    tickets: FakeTickets = field(default_factory=FakeTickets)
    transcript: FakeTranscript = field(default_factory=FakeTranscript)
    agents: FakeAgents = field(default_factory=FakeAgents)
    audit: FakeAuditLog = field(default_factory=FakeAuditLog)
    ticket_events: FakeTicketEvents = field(default_factory=FakeTicketEvents)
    followups: FakeFollowUps = field(default_factory=FakeFollowUps)
    unmatched: FakeUnmatched = field(default_factory=FakeUnmatched)
    suggestions: FakeSuggestions = field(default_factory=FakeSuggestions)


CATALOGUE = Catalogue.load()  # every shipped language, read once for all tests

FIX_STEPS = "1. Hold the power button for 7 seconds.\n2. Pair again."

ENTRIES = (
    Entry(
        EntryId("pairing"),
        "Headphones do not pair",
        "Headphones",
        ("headphones won't pair",),
        FIX_STEPS,
        replacement=ReplacementRule(30),
    ),
    Entry(EntryId("reset"), "Reset the headphones", "Headphones", ("reset",), "Reset them."),
    Entry(EntryId("charging"), "Case does not charge", "Headphones", ("no charge",), "Use USB-C."),
    Entry(EntryId("delivery"), "Where is my order", "Orders", ("where is it",), "Track it."),
    Entry(
        EntryId("tracking"),
        "Tracking your parcel",
        "Orders",
        ("track parcel",),
        "Open the link in your shipping email.",
        kind=EntryKind.INFO,
    ),
    Entry(
        EntryId("cracked"),
        "Watch arrived cracked",
        "Watch",
        ("cracked on arrival",),
        "We're sorry: let's get you a new one.",
        replacement=ReplacementRule(14),
        kind=EntryKind.REPLACEMENT,
    ),
    Entry(EntryId("strap"), "Watch strap broke", "Watch", ("strap",), "Fit the spare strap."),
)


class Harness:
    """A conversation with one customer over the fakes."""

    def __init__(self, table: dict[str, list[tuple[str, float]]] | None = None, **settings: Any):
        """``settings``: ``FlowSettings`` fields, e.g. ``max_attempts=1``, ``escalation=False``."""
        self.thresholds = Thresholds(answer=70, suggest=45)
        self.clock = FixedClock()
        self.matcher = ScriptedMatcher(table or {}, self.thresholds)
        services = Services(
            knowledge=KnowledgeBase(ENTRIES),
            matcher=self.matcher,
            responses=Responses.load(),
            thresholds=self.thresholds,
            settings=FlowSettings(**settings),
            catalogue=CATALOGUE,
        )
        self.engine = Conversations(services=services, clock=self.clock)
        self.repos = FakeRepositories()
        self.person = Person(ChatId(42), 42, name="Ann <b>", username="ann")
        self.last: list[Effect] = []

    def _run(self, event: TextMessage | ButtonPress | Command | Media) -> list[Effect]:
        self.last = self.engine.handle(self.repos, event)
        return self.last

    def send(self, event: TextMessage | ButtonPress | Command | Media) -> list[Effect]:
        return self._run(event)

    def text(self, text: str, message_id: int | None = None) -> list[Effect]:
        return self._run(TextMessage(self.person, text, message_id))

    def command(self, name: str) -> list[Effect]:
        return self._run(Command(self.person, name))

    def press(self, data: str, message_id: int | None = 1) -> list[Effect]:
        return self._run(ButtonPress(self.person, data, message_id))

    def media(
        self, kind: MediaKind, caption: str = "", message_id: int | None = None
    ) -> list[Effect]:
        return self._run(Media(self.person, kind, caption, None, message_id))

    def button(self, label_part: str) -> str:
        """The data of the button in the last replies whose label contains ``label_part``."""
        for effect in self.last:
            if isinstance(effect, Reply):
                for row in effect.buttons:
                    for b in row:
                        if label_part.lower() in b.label.lower():
                            return b.data
        raise AssertionError(f"no button with {label_part!r} in {self.replies()}")

    def replies(self) -> list[str]:
        return [e.text for e in self.last if isinstance(e, Reply)]

    def said(self) -> str:
        return "\n".join(self.replies())

    def notices(self) -> list[str]:
        return [e.text for e in self.last if isinstance(e, NotifyAgents)]

    def copies(self) -> list[CopyToAgents]:
        return [e for e in self.last if isinstance(e, CopyToAgents)]

    def conversation(self) -> Conversation:
        """A method, not a property: mypy would keep what an earlier ``assert`` narrowed."""
        return self.repos.conversations.rows[42]

    @property
    def state(self) -> State:
        """The conversation's state, also before the customer's first message."""
        row = self.repos.conversations.rows.get(self.person.chat_id)
        return (row or Conversation(self.person.chat_id)).state

    def run_followups(self, *, early: bool = False) -> list[Effect]:
        """What the dispatcher does: every pending follow-up that is due (``early``: all)."""
        flows = FollowUps(services=self.engine.services, clock=self.clock)
        effects: list[Effect] = []
        for row in sorted(self.repos.followups.rows.values(), key=lambda f: f.id or 0):
            if row.status is FollowUpStatus.PENDING and (early or row.due_at <= self.clock.now()):
                effects += flows.due(self.repos, copy.deepcopy(row))
        self.last = effects
        return effects

    def fork(self) -> Harness:
        """A copy that carries on independently: same engine, copied repositories."""
        twin = copy.copy(self)
        twin.repos = copy.deepcopy(self.repos)
        twin.last = list(self.last)
        return twin

    def tickets(self) -> list[Ticket]:
        return list(self.repos.tickets.rows.values())
