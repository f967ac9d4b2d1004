"""The team's side: what agents write in a ticket's topic reaches its customer, and commands.

A message in the team's chat belongs to the ticket whose topic it was written in, or, in a
chat without topics, to the ticket whose card (or relayed message) it answers. Only agents
(``flows.agents.may_act``) reach customers or change tickets; anyone else is refused with a
short reply, nothing changes, and the attempt is audited. Every agent action is audited.

In a topic: ``/take``, ``/note text`` (stays in the team's chat), ``/resolve``, ``/close``,
``/approve`` and ``/deny reason`` (a pending replacement), ``/fix ENTRY_ID`` (send that
knowledge entry's fix and ask "Did this fix it?"). Anywhere: ``/queue``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flows import followup, resolve
from flows.agents import may_act
from flows.engine import Conversations
from flows.escalation import ASKED_FOR_PERSON
from flows.learning import MAX_TEXT, Suggestion, SuggestionSource
from flows.model import (
    WITH_TEAM,
    AuditEntry,
    ChatId,
    CloseTopic,
    Conversation,
    CopyToCustomer,
    Direction,
    Effect,
    NotifyAgents,
    Person,
    Reply,
    State,
    TeamMessage,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketId,
    TicketStatus,
    TranscriptLine,
    UserId,
)
from flows.ports import Clock, Repositories
from flows.status import status_label
from flows.turn import Turn
from knowledge.catalogue import Catalogue
from knowledge.responses import Responses, Say

# a person acting on a ticket in these takes it on: it is "with agent" from then on
_WAITING = (TicketStatus.WAITING_AGENT, TicketStatus.REOPENED)
COMMANDS = ("take", "note", "resolve", "close", "approve", "deny", "fix")


@dataclass
class Desk:
    """Handles one message from the team's chat; returns what to send."""

    responses: Responses
    clock: Clock
    admins: Collection[int] = ()
    agent_names: bool = True  # False: customers read "Our team", not the agent's name
    # the customer's flows (for /fix): their knowledge is the one in use, reloads included
    conversations: Conversations | None = None
    followup_delay: timedelta = timedelta(hours=24)  # after /resolve: "Is it working now?"

    def handle(self, repos: Repositories, event: TeamMessage) -> list[Effect]:
        # customers read the team's words in their own language (the flows' catalogue)
        catalogue = self.conversations.services.catalogue if self.conversations else None
        act = _Act(repos, event, self.responses, self.clock.now(), catalogue)
        ticket = self._ticket(repos, event)
        allowed = may_act(event.user_id, admins=self.admins, agents=repos.agents)
        if event.command is not None:
            self._command(act, ticket, allowed)
        elif ticket is not None:
            self._relay(act, ticket, allowed)
        return act.effects

    @staticmethod
    def _ticket(repos: Repositories, event: TeamMessage) -> Ticket | None:
        if event.thread_id is not None:
            found = repos.tickets.for_topic(event.thread_id)
            if found is not None:
                return found
        if event.reply_to is not None:
            return repos.tickets.for_team_message(event.chat_id, event.reply_to)
        return None

    # ---- what an agent writes ------------------------------------------------------
    def _relay(self, act: _Act, ticket: Ticket, allowed: bool) -> None:
        if not allowed:  # a member of the chat who is not an agent: nothing reaches anyone
            act.audit("reply", False, ticket)
            act.answer(Say.DESK_NOT_ALLOWED, ticket)
            return
        if ticket.status not in WITH_TEAM:
            act.answer(Say.DESK_TICKET_DONE, ticket, ref=ticket.ref, state=_state(act, ticket))
            return
        event = act.event
        if event.media:
            act.effects.append(CopyToCustomer(ticket.chat_id, event.message_id))
        if event.text.strip() and not event.media:
            if self.agent_names:
                act.to_customer(ticket, Say.TEAM_SAYS, name=event.name, text=event.text)
            else:
                act.to_customer(ticket, Say.TEAM_SAYS_ANONYMOUS, text=event.text)
        if ticket.status in _WAITING:
            ticket.status = TicketStatus.WITH_AGENT
            act.save(ticket)
        act.event_for(ticket, TicketEventKind.AGENT_REPLIED)
        act.audit("reply", True, ticket)

    # ---- commands ------------------------------------------------------------------
    def _command(self, act: _Act, ticket: Ticket | None, allowed: bool) -> None:
        name = act.event.command or ""
        known = name in COMMANDS or name == "queue"
        if not allowed:
            act.audit(name, False, ticket)
            if known:  # a stranger's /start or /help in the group is not ours to answer
                act.answer(Say.DESK_NOT_ALLOWED, ticket)
            return
        if name == "queue":
            act.audit(name, True, None)
            self._queue(act)
            return
        if not known:
            act.answer(Say.DESK_UNKNOWN_COMMAND, ticket)
            return
        if ticket is None:
            act.answer(Say.DESK_USE_IN_TOPIC, None, command=name)
            return
        act.audit(name, True, ticket, act.event.args)
        handler: Callable[[_Act, Ticket], None] = getattr(self, f"_{name}")
        handler(act, ticket)

    def _take(self, act: _Act, ticket: Ticket) -> None:
        ticket.assignee_id = UserId(act.event.user_id)
        if ticket.status in _WAITING:
            ticket.status = TicketStatus.WITH_AGENT
        act.save(ticket)
        act.event_for(ticket, TicketEventKind.TAKEN)
        act.answer(Say.DESK_TOOK, ticket, ref=ticket.ref, name=act.event.name)
        if ticket.status in WITH_TEAM:
            if self.agent_names:
                act.to_customer(ticket, Say.TEAM_TOOK, name=act.event.name, ref=ticket.ref)
            else:
                act.to_customer(ticket, Say.TEAM_TOOK_ANONYMOUS, ref=ticket.ref)

    def _note(self, act: _Act, ticket: Ticket) -> None:
        """Internal: audited with its text, never relayed."""

    def _resolve(self, act: _Act, ticket: Ticket) -> None:
        self._finish(act, ticket, TicketStatus.RESOLVED, Say.TEAM_RESOLVED, Say.DESK_RESOLVED)

    def _close(self, act: _Act, ticket: Ticket) -> None:
        self._finish(act, ticket, TicketStatus.CLOSED, Say.TEAM_CLOSED, Say.DESK_CLOSED)

    def _finish(
        self, act: _Act, ticket: Ticket, status: TicketStatus, customer: Say, team: Say
    ) -> None:
        if ticket.status not in (*WITH_TEAM, TicketStatus.OPEN):
            act.answer(Say.DESK_TICKET_DONE, ticket, ref=ticket.ref, state=_state(act, ticket))
            return
        ticket.status = status
        act.save(ticket)
        kind = (
            TicketEventKind.RESOLVED if status is TicketStatus.RESOLVED else TicketEventKind.CLOSED
        )
        act.event_for(ticket, kind)
        if status is TicketStatus.RESOLVED:
            self._learn(act, ticket)
        if status is TicketStatus.RESOLVED:  # /close asks nothing again
            followup.schedule_check(act.repos, ticket, act.now + self.followup_delay)
        act.to_customer(ticket, customer, ref=ticket.ref)
        act.release(ticket)
        act.answer(team, ticket, ref=ticket.ref, name=act.event.name)
        if ticket.id is not None:
            act.effects.append(CloseTopic(ticket.id))

    @staticmethod
    def _learn(act: _Act, ticket: Ticket) -> None:
        """An agent resolved a ticket they sent a fix for with /fix, before the customer
        answered "Did this fix it?": the customer's words become a proposed symptom."""
        conversation = act.repos.conversations.get(ticket.chat_id)
        if conversation is None or conversation.ticket_id != ticket.id or not ticket.entry_id:
            return
        words = str(conversation.data.get("words", "")).strip()
        if conversation.data.get("via") != SuggestionSource.AGENT.value or not words:
            return
        customer = act.repos.customers.get(ticket.chat_id)
        act.repos.suggestions.add(
            Suggestion(
                entry_id=ticket.entry_id,
                text=words[:MAX_TEXT],
                source=SuggestionSource.AGENT,
                at=act.now,
                language=customer.language if customer else None,
                ticket_id=TicketId(ticket.id) if ticket.id else None,
            )
        )

    def _approve(self, act: _Act, ticket: Ticket) -> None:
        if ticket.status is not TicketStatus.REPLACEMENT_REQUESTED:
            act.answer(Say.DESK_NO_REPLACEMENT, ticket, ref=ticket.ref)
            return
        ticket.status = TicketStatus.RESOLVED
        act.save(ticket)
        act.event_for(ticket, TicketEventKind.REPLACEMENT_APPROVED)
        act.to_customer(ticket, Say.TEAM_REPLACEMENT_APPROVED, ref=ticket.ref)
        act.release(ticket)
        act.answer(Say.DESK_APPROVED, ticket, ref=ticket.ref, name=act.event.name)

    def _deny(self, act: _Act, ticket: Ticket) -> None:
        if ticket.status is not TicketStatus.REPLACEMENT_REQUESTED:
            act.answer(Say.DESK_NO_REPLACEMENT, ticket, ref=ticket.ref)
            return
        reason = act.event.args.strip()
        if not reason:
            act.answer(Say.DESK_DENY_NEEDS_REASON, ticket)
            return
        ticket.status = TicketStatus.WITH_AGENT  # still with a person, who can help on
        act.save(ticket)
        act.event_for(ticket, TicketEventKind.REPLACEMENT_DENIED, reason)
        act.to_customer(ticket, Say.TEAM_REPLACEMENT_DENIED, ref=ticket.ref, reason=reason)
        act.answer(Say.DESK_DENIED, ticket, ref=ticket.ref, name=act.event.name)

    def _fix(self, act: _Act, ticket: Ticket) -> None:
        """Send a knowledge entry's fix and ask the customer "Did this fix it?".

        The ticket goes back to the bot's flow: "Yes" solves it, "No" brings it back here.
        """
        entry_id = act.event.args.strip()
        engine = self.conversations
        entry = engine.services.knowledge.get(entry_id) if engine and entry_id else None
        if engine is None or entry is None:
            act.answer(Say.DESK_UNKNOWN_ENTRY, ticket, entry=entry_id or "?")
            return
        if ticket.status not in (*WITH_TEAM, TicketStatus.OPEN):
            act.answer(Say.DESK_TICKET_DONE, ticket, ref=ticket.ref, state=_state(act, ticket))
            return
        conversation = act.repos.conversations.get(ticket.chat_id)
        if conversation is None:
            conversation = Conversation(ticket.chat_id)
        ticket.status = TicketStatus.OPEN  # with the bot again, until the customer answers
        act.save(ticket)
        conversation.ticket_id = ticket.id
        conversation.data = {"candidates": [{"id": entry.id, "score": 100.0}], "tried": []}
        if ticket.summary != ASKED_FOR_PERSON:  # the customer's words, if this fixes it
            conversation.data |= {"via": SuggestionSource.AGENT.value, "words": ticket.summary}
        customer = act.repos.customers.get(ticket.chat_id) or Person(ticket.chat_id, ticket.chat_id)
        turn = Turn(engine.services, act.repos, conversation, customer, act.now)
        resolve.show_fix(turn, 0)
        act.repos.conversations.save(conversation)
        act.effects.extend(turn.effects)
        act.event_for(ticket, TicketEventKind.AGENT_REPLIED, f"fix {entry.id}")
        act.answer(
            Say.DESK_FIX_SENT, ticket, ref=ticket.ref, title=entry.title, name=act.event.name
        )

    def _queue(self, act: _Act) -> None:
        waiting = act.repos.tickets.waiting_for_team()
        if not waiting:
            act.answer(Say.DESK_QUEUE_EMPTY, None)
            return
        lines = [act.text(Say.DESK_QUEUE_HEADER, count=len(waiting))]
        for ticket in waiting:
            holder = (
                _holder_name(act, ticket.assignee_id)
                if ticket.assignee_id is not None
                else act.text(Say.DESK_NOBODY)
            )
            lines.append(
                act.text(
                    Say.DESK_QUEUE_LINE,
                    ref=ticket.ref,
                    waited=act.responses.elapsed(act.now - ticket.created_at),
                    holder=holder,
                    summary=" ".join(ticket.summary.split())[:80],
                )
            )
        act.effects.append(NotifyAgents("\n".join(lines)))


@dataclass
class _Act:
    """One team message being handled: the effects it collects, and the bookkeeping."""

    repos: Repositories
    event: TeamMessage
    responses: Responses  # the team's language
    now: datetime
    catalogue: Catalogue | None = None  # the customers' languages; None: ``responses``
    effects: list[Effect] = field(default_factory=list)

    def text(self, key: Say, **params: object) -> str:
        return self.responses.text(key, **params)

    def answer(self, key: Say, ticket: Ticket | None, **params: object) -> None:
        """A line in the team's chat: in the ticket's topic, or where the message came from."""
        ticket_id = ticket.id if ticket is not None else None
        self.effects.append(NotifyAgents(self.responses.text(key, **params), ticket_id))

    def to_customer(self, ticket: Ticket, key: Say, **params: object) -> None:
        """A message to the ticket's customer, in the customer's language."""
        text = self.customer_responses(ticket).text(key, **params)
        self.effects.append(Reply(ticket.chat_id, text))
        line = TranscriptLine(ticket.chat_id, Direction.OUT, text, self.now, ticket.id)
        self.repos.transcript.add(line)

    def customer_responses(self, ticket: Ticket) -> Responses:
        if self.catalogue is None:
            return self.responses
        customer = self.repos.customers.get(ticket.chat_id)
        return self.catalogue.for_language(customer.language if customer else None)

    def save(self, ticket: Ticket) -> None:
        ticket.updated_at = self.now
        self.repos.tickets.save(ticket)

    def release(self, ticket: Ticket) -> None:
        """The customer's conversation no longer waits for this ticket."""
        conversation = self.repos.conversations.get(ticket.chat_id)
        if conversation is not None and conversation.ticket_id == ticket.id:
            conversation.state = State.DESCRIBE
            conversation.ticket_id = None
            conversation.data = {}
            self.repos.conversations.save(conversation)

    def event_for(self, ticket: Ticket, kind: TicketEventKind, detail: str | None = None) -> None:
        if ticket.id is not None:
            actor = UserId(self.event.user_id)
            self.repos.ticket_events.add(TicketEvent(ticket.id, kind, self.now, actor, detail))

    def audit(self, action: str, allowed: bool, ticket: Ticket | None, detail: str = "") -> None:
        self.repos.audit.add(
            AuditEntry(
                at=self.now,
                action=action,
                allowed=allowed,
                actor_id=UserId(self.event.user_id),
                chat_id=ChatId(self.event.chat_id),
                ticket_id=TicketId(ticket.id) if ticket is not None and ticket.id else None,
                detail=detail[:1000],
            )
        )


def _state(act: _Act, ticket: Ticket) -> str:
    return act.text(status_label(ticket.status, True))  # the customer's words for it


def _holder_name(act: _Act, user_id: UserId) -> str:
    agent = act.repos.agents.get(user_id)
    return agent.name if agent is not None and agent.name else f"id {user_id}"
