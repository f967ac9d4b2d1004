"""Handing a conversation to a person, and talking while one is on it."""

from __future__ import annotations

from flows.model import State, Ticket, TicketStatus
from flows.turn import Turn


def open_ticket(turn: Turn, summary: str) -> Ticket:
    """The conversation's open ticket, or a new one about ``summary``."""
    ticket = turn.ticket()
    if ticket is not None and ticket.status is TicketStatus.OPEN:
        return ticket
    ticket = turn.repos.tickets.add(
        Ticket(
            chat_id=turn.chat_id,
            summary=summary,
            status=TicketStatus.OPEN,
            created_at=turn.now,
            updated_at=turn.now,
        )
    )
    turn.conversation.ticket_id = ticket.id
    return ticket


def customer_label(turn: Turn) -> str:
    person = turn.person
    name = person.name or "customer"
    handle = f" @{person.username}" if person.username else ""
    return f"{name}{handle} (id {person.user_id})"


def escalate(turn: Turn, reason: str) -> None:
    """Mark the ticket for a person, tell the customer what happens next, tell the team."""
    ticket = open_ticket(turn, summary=turn.data.get("description", "(asked for a person)"))
    ticket.status = TicketStatus.WAITING_AGENT
    turn.touch(ticket)
    turn.conversation.state = State.WITH_AGENT
    key = "escalated_no_match" if reason == "no_match" else "escalated"
    turn.say(key, ref=ticket.ref)
    tried = ", ".join(f"{t['id']} ({t['score']:.0f})" for t in ticket.tried)
    turn.notify_agents(
        "agent_card",
        ref=ticket.ref,
        reason=turn.responses.text(f"agent_reason_{reason}"),
        customer=customer_label(turn),
        summary=ticket.summary,
        tried=tried or turn.responses.text("agent_nothing"),
        order=ticket.order_number or turn.responses.text("agent_nothing"),
    )


def with_agent(turn: Turn, text: str) -> None:
    """The customer wrote while a person has the ticket: pass it on, say where it stands."""
    ticket = turn.ticket()
    if ticket is None:  # the ticket is gone (closed by the team): start afresh
        turn.conversation.state = State.DESCRIBE
        return
    turn.touch(ticket)
    turn.notify_agents(
        "agent_customer_message", ref=ticket.ref, customer=customer_label(turn), text=text
    )
    turn.say("with_agent_ack", ref=ticket.ref)
