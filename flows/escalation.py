"""Handing a conversation to a person, and talking while one is on it."""

from __future__ import annotations

from typing import Literal

from flows.model import (
    CopyToAgents,
    OpenTopic,
    State,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from flows.turn import Turn
from knowledge.responses import Html, Responses, Say

# why a ticket needs a person, as the team's card says it
Reason = Literal[
    Say.AGENT_REASON_ASKED,
    Say.AGENT_REASON_NO_MATCH,
    Say.AGENT_REASON_NOT_FIXED,
    Say.AGENT_REASON_NOT_ELIGIBLE,
    Say.AGENT_REASON_REOPENED,
    Say.AGENT_REASON_NO_ORDER_NUMBER,
]


# a ticket's summary when the customer asked for a person before describing anything: kept
# as this mark, and read in each reader's language (``summary_for``)
ASKED_FOR_PERSON = "(asked for a person)"


def summary_for(ticket: Ticket, responses: Responses) -> str:
    """What the ticket is about for the readers of ``responses``: the customer's words, or
    "(asked for a person)" in their language when nothing was described."""
    if ticket.summary == ASKED_FOR_PERSON:
        return responses.label(Say.SUMMARY_ASKED_FOR_PERSON)
    return ticket.summary


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
    if ticket.id is not None:
        turn.repos.ticket_events.add(TicketEvent(ticket.id, TicketEventKind.OPENED, turn.now))
    return ticket


def customer_label(turn: Turn) -> str:
    person = turn.person
    name = person.name or "customer"
    handle = f" @{person.username}" if person.username else ""
    return f"{name}{handle} (id {person.user_id})"


def escalate(turn: Turn, reason: Reason) -> None:
    """Mark the ticket for a person, tell the customer what happens next, tell the team.

    With ``ESCALATION=off`` nobody answers here: the ticket is recorded all the same (and
    the team's notice written), but the customer is told so, and how else to reach the
    shop, and the conversation goes back to the bot.
    """
    ticket = open_ticket(turn, summary=turn.data.get("description", ASKED_FOR_PERSON))
    ticket.status = TicketStatus.WAITING_AGENT
    turn.touch(ticket)
    if ticket.id is not None:
        why = reason.name.removeprefix("AGENT_REASON_").lower()  # "no_match", "asked" ...
        turn.repos.ticket_events.add(
            TicketEvent(ticket.id, TicketEventKind.ESCALATED, turn.now, detail=why)
        )
    if turn.escalation:
        turn.conversation.state = State.WITH_AGENT
        key = Say.ESCALATED_NO_MATCH if reason is Say.AGENT_REASON_NO_MATCH else Say.ESCALATED
        said = [turn.responses.text(key, ref=ticket.ref), *standing(turn, ticket)]
        turn.say_html(Html("\n".join(said)))
    else:
        no_live_support(turn, ticket)
    if ticket.id is not None and ticket.topic_id is None:
        about = summary_for(ticket, turn.team_responses)
        turn.effects.append(OpenTopic(ticket.id, topic_name(ticket, turn.person.name, about)))
    card(turn, ticket, reason)
    if turn.conversation.state is State.WITH_AGENT:
        turn.conversation.data = {}  # all of it is on the card now; a person takes it on


def card(turn: Turn, ticket: Ticket, reason: Reason) -> None:
    """The ticket's context card for the team: who, what, what was tried and what the
    customer answered, the order and replacement, how long they have been with us."""
    responses = turn.team_responses
    nothing = responses.text(Say.AGENT_NOTHING)
    tried = ", ".join(
        responses.text(
            Say.AGENT_TRIED_NO if t.get("answer") == "no" else Say.AGENT_TRIED_NO_ANSWER,
            entry=t["id"],
            score=f"{t['score']:.0f}",
        )
        for t in ticket.tried
    )
    bought = ticket.purchase_date.isoformat() if ticket.purchase_date else nothing
    if reason is Say.AGENT_REASON_NOT_ELIGIBLE:
        replacement = responses.text(Say.AGENT_REPLACEMENT_NOT_ELIGIBLE)
    elif "replacement_entry" in turn.data:
        replacement = responses.text(Say.AGENT_REPLACEMENT_UNFINISHED)
    else:
        replacement = nothing
    turn.card_for_agents(
        Say.AGENT_CARD,
        ref=ticket.ref,
        reason=responses.text(reason),
        customer=customer_label(turn),
        language=turn.person.language or nothing,
        summary=summary_for(ticket, responses),
        details=" / ".join(turn.data.get("details", [])) or nothing,
        tried=tried or nothing,
        order=ticket.order_number or nothing,
        purchased=bought,
        replacement=replacement,
        waited=responses.duration(turn.now - ticket.created_at),
    )


def no_live_support(turn: Turn, ticket: Ticket) -> None:
    """``ESCALATION=off``: say that nobody answers here and how else to reach the shop.

    The ticket stays the conversation's (so /human again names it, and /cancel closes it);
    what the bot was collecting is dropped, and the next message is a new description.
    """
    say_with_contact(turn, Say.NO_LIVE_SUPPORT, Say.NO_LIVE_SUPPORT_NO_CONTACT, ref=ticket.ref)
    turn.conversation.state = State.DESCRIBE
    turn.conversation.data = {}


def say_with_contact(turn: Turn, with_contact: Say, without: Say, **params: object) -> None:
    """``with_contact`` filled with ``SUPPORT_CONTACT``; ``without`` when none is set."""
    contact = turn.services.settings.support_contact
    if contact:
        turn.say(with_contact, contact=contact, **params)
    else:
        turn.say(without, **params)


def with_agent(turn: Turn, text: str, message_id: int | None = None) -> None:
    """The customer wrote while a person has the ticket: pass it on, say where it stands.

    A message from Telegram is copied as it is (a photo stays a photo, captions kept);
    without one (the terminal chat) the team gets it as a notice.
    """
    ticket = turn.ticket()
    if ticket is None:  # the ticket is gone (closed by the team): start afresh
        turn.conversation.state = State.DESCRIBE
        return
    turn.touch(ticket)
    if message_id is not None and ticket.id is not None:
        turn.effects.append(CopyToAgents(ticket.id, turn.chat_id, message_id))
    else:
        turn.notify_agents(
            Say.AGENT_CUSTOMER_MESSAGE, ref=ticket.ref, customer=customer_label(turn), text=text
        )
    turn.say(Say.WITH_AGENT_ACK, ref=ticket.ref)


WAIT_SAMPLES = 20  # the latest first replies the typical wait is taken from ...
WAIT_SAMPLES_NEEDED = 5  # ... and how many there must be before it is told at all


def standing(turn: Turn, ticket: Ticket) -> list[Html]:
    """Where the ticket stands: its place in line, when the team is back if it is away,
    and the recent first-reply wait.

    The wait is the median of the team's latest first replies, said only when there is
    such a history: no reply promises a time the bot has no ground for. Outside
    ``SUPPORT_HOURS`` it counts from the team's return, and the return is said first.
    """
    lines: list[Html] = []
    responses = turn.responses
    waiting = [
        t.id
        for t in turn.repos.tickets.waiting_for_team()
        if t.status is not TicketStatus.WITH_AGENT  # a person has those already
    ]
    if ticket.id in waiting:
        lines.append(responses.text(Say.QUEUE_PLACE, position=waiting.index(ticket.id) + 1))
    hours = turn.services.settings.hours
    away = hours is not None and not hours.is_open(turn.now)
    if hours is not None and away:  # said in the hours' zone, as the team's clocks show it
        back = hours.next_opening(turn.now)
        day, time = responses.weekday(back), responses.clock_time(back)
        lines.append(responses.text(Say.TEAM_AWAY, day=day, time=time, zone=hours.zone.key))
    times = turn.repos.ticket_events.first_response_times(WAIT_SAMPLES)
    if len(times) >= WAIT_SAMPLES_NEEDED:
        wait = responses.duration(sorted(times)[len(times) // 2])  # the median
        key = Say.QUEUE_TYPICAL_WAIT_ONCE_BACK if away else Say.QUEUE_TYPICAL_WAIT
        lines.append(responses.text(key, wait=wait))
    return lines


TOPIC_NAME_LIMIT = 128  # Telegram's limit for a forum topic's name


def topic_name(ticket: Ticket, customer: str, summary: str | None = None) -> str:
    """'T-00128 · Headphones won't pair · Anna': reference, what it is about (``summary``,
    by default the ticket's), who."""
    about = " ".join((ticket.summary if summary is None else summary).split())  # one line
    name = " ".join(customer.split()) or "customer"
    room = TOPIC_NAME_LIMIT - len(ticket.ref) - len(name) - 6
    if len(about) > room:
        about = about[: max(room - 1, 0)].rstrip() + "…"
    return f"{ticket.ref} · {about} · {name}"[:TOPIC_NAME_LIMIT]
