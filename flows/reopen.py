"""A customer comes back soon after a ticket was resolved: the same problem, or a new one?

Within ``REOPEN_WINDOW`` of the resolution the bot asks "Is this about T-00128 or something
new?" with two buttons. "About T-00128" reopens that ticket with its history and hands it
to a person: its topic in the team's chat opens again (or gets one, if the bot had solved
it alone) with what the customer just wrote. "Something new" takes the message as a new
description. Later than the window, a message is simply a new description.
"""

from __future__ import annotations

from datetime import datetime

from flows import escalation, intake
from flows import text as words
from flows.model import (
    WITH_TEAM,
    CopyToAgents,
    OpenTopic,
    ReopenTopic,
    State,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from flows.turn import REOPEN, SOMETHING_NEW, Turn
from knowledge.responses import Html, Say
from knowledge.schema import Band

# tickets a customer may come back to: solved, or closed after being solved
_DONE = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


def recent_resolved(turn: Turn) -> Ticket | None:
    """The customer's latest ticket, when it was resolved within ``REOPEN_WINDOW``."""
    window = turn.services.settings.reopen_window
    if not window or not turn.escalation:  # nobody to reopen it for
        return None
    latest = turn.repos.tickets.for_customer(turn.chat_id, limit=1)
    if not latest or latest[0].status not in _DONE or latest[0].id is None:
        return None
    ticket = latest[0]
    resolved = resolved_at(turn, ticket)
    if resolved is None or turn.now - resolved > window:
        return None
    return ticket


def resolved_at(turn: Turn, ticket: Ticket) -> datetime | None:
    assert ticket.id is not None
    times = [
        e.at
        for e in turn.repos.ticket_events.for_ticket(ticket.id)
        if e.kind in (TicketEventKind.RESOLVED, TicketEventKind.REPLACEMENT_APPROVED)
    ]
    return max(times) if times else None


def maybe_ask(turn: Turn, typed: str, message_id: int | None) -> bool:
    """Ask "this one or something new?" when a resolved ticket is recent; True if asked."""
    if turn.conversation.ticket_id is not None or turn.data:
        return False  # in the middle of something: not a fresh start
    if words.letters_in(typed) < turn.services.settings.min_letters:
        return False  # "ok", "👍": nothing to file anywhere
    ticket = recent_resolved(turn)
    if ticket is None:
        return False
    turn.data["reopen"] = {"ticket": ticket.id, "text": typed[:4000], "message_id": message_id}
    turn.conversation.state = State.REOPEN_ASK
    _ask(turn, ticket, Say.REOPEN_QUESTION)
    return True


def maybe_ask_while_open(turn: Turn, ticket: Ticket, typed: str, message_id: int | None) -> bool:
    """While a person has ``ticket``: a message that plainly describes another known
    problem (the answer band, another product's entry) asks "about T-… or something new?"
    instead of being filed into the old ticket. True if asked."""
    if ticket.id is None or words.letters_in(typed) < 12:
        return False  # short words ("ok", "any news?") are about the ticket
    result = turn.matcher.match(typed[: turn.services.settings.max_match_chars])
    best = turn.entry(result.best.entry_id) if result.best is not None else None
    if result.band is not Band.ANSWER or best is None:
        return False
    entry = turn.entry(ticket.entry_id) if ticket.entry_id else None
    if entry is not None and (best.id == entry.id or best.product == entry.product):
        return False  # the same thing, or the same product: more about it
    turn.data["reopen"] = {
        "ticket": ticket.id,
        "text": typed[:4000],
        "message_id": message_id,
    }
    turn.conversation.state = State.REOPEN_ASK
    _ask(turn, ticket, Say.OPEN_TICKET_QUESTION)
    return True


def typed(turn: Turn, typed: str, message_id: int | None) -> None:
    """Text instead of a button: more words about it, then the same question again."""
    pending = turn.data.get("reopen")
    ticket = _pending_ticket(turn)
    if pending is None or ticket is None:
        _forget(turn)
        intake.describe(turn, typed)
        return
    pending["text"] = f"{pending['text']}\n{typed}"[:4000]
    if message_id is not None:
        pending["more"] = [*pending.get("more", []), message_id]
    _ask(turn, ticket, Say.REOPEN_QUESTION_AGAIN)


def answer(turn: Turn, about_old: bool) -> None:
    """A press on "About T-…" or "Something new"."""
    pending = turn.data.get("reopen") or {}
    ticket = _pending_ticket(turn)
    _forget(turn)
    text = str(pending.get("text", ""))
    messages = [m for m in [pending.get("message_id"), *(pending.get("more") or [])] if m]
    if ticket is not None and ticket.status in WITH_TEAM:  # asked while a person has it
        if about_old:  # more for the person: passed on as any message would be
            turn.conversation.state = State.WITH_AGENT
            pass_on(turn, ticket, text, messages)
            turn.say(Say.WITH_AGENT_ACK, ref=ticket.ref)
            return
        turn.conversation.ticket_id = None  # the team keeps it; this one starts afresh
    if about_old and ticket is not None and ticket.status in _DONE:
        reopen(turn, ticket, text, messages)
    elif text:
        intake.describe(turn, text)
    else:
        turn.say(Say.DESCRIBE_PROMPT)


def reopen(
    turn: Turn,
    ticket: Ticket,
    text: str,
    message_ids: list[int],
    team_line: Say = Say.AGENT_TICKET_REOPENED,
) -> None:
    """The problem of ``ticket`` is back: reopen it and hand it to a person.

    The ticket keeps its history (events, transcript, topic); the team reads what the
    customer wrote now, and the customer where they stand.
    """
    assert ticket.id is not None
    ticket.status = TicketStatus.REOPENED
    ticket.assignee_id = None
    turn.touch(ticket)
    turn.repos.followups.cancel_pending(ticket.id, turn.now)  # nothing to check any more
    turn.repos.ticket_events.add(
        TicketEvent(ticket.id, TicketEventKind.REOPENED, turn.now, detail=text[:1000] or None)
    )
    turn.conversation.ticket_id = ticket.id
    turn.conversation.state = State.WITH_AGENT
    turn.conversation.data = {}
    said = [turn.responses.text(Say.REOPENED, ref=ticket.ref), *escalation.standing(turn, ticket)]
    turn.say_html(Html("\n".join(said)))
    if ticket.topic_id is None:  # the bot solved it alone: the team has never seen it
        turn.effects.append(OpenTopic(ticket.id, escalation.topic_name(ticket, turn.person.name)))
        escalation.card(turn, ticket, Say.AGENT_REASON_REOPENED)
    else:
        turn.effects.append(ReopenTopic(ticket.id))
    turn.notify_agents(team_line, ref=ticket.ref, customer=escalation.customer_label(turn))
    pass_on(turn, ticket, text, message_ids)


def pass_on(turn: Turn, ticket: Ticket, text: str, message_ids: list[int]) -> None:
    """What the customer wrote, into the ticket's topic: copied as it is (a photo stays a
    photo) or, in the terminal chat, the words themselves."""
    assert ticket.id is not None
    if message_ids:
        for message_id in message_ids:
            turn.effects.append(CopyToAgents(ticket.id, turn.chat_id, message_id))
    elif text:
        turn.notify_agents(
            Say.AGENT_CUSTOMER_MESSAGE,
            ref=ticket.ref,
            customer=escalation.customer_label(turn),
            text=text,
        )


def ask_again(turn: Turn) -> None:
    """The question again (after /language), the buttons on screen still valid."""
    ticket = _pending_ticket(turn)
    if ticket is not None:
        _ask(turn, ticket, Say.REOPEN_QUESTION_AGAIN, keep_older=True)


def _ask(turn: Turn, ticket: Ticket, question: Say, *, keep_older: bool = False) -> None:
    responses = turn.responses
    turn.ask(
        responses.text(question, ref=ticket.ref),
        [
            [(responses.label(Say.REOPEN_ABOUT_BUTTON, ref=ticket.ref), REOPEN, None)],
            [(responses.label(Say.REOPEN_NEW_BUTTON), SOMETHING_NEW, None)],
        ],
        keep_older=keep_older,
    )


def _pending_ticket(turn: Turn) -> Ticket | None:
    pending = turn.data.get("reopen")
    if not isinstance(pending, dict) or not isinstance(pending.get("ticket"), int):
        return None
    ticket = turn.repos.tickets.get(pending["ticket"])
    if ticket is None or ticket.chat_id != turn.chat_id:  # never another customer's
        return None
    return ticket


def _forget(turn: Turn) -> None:
    turn.conversation.state = State.DESCRIBE
    turn.conversation.data = {}
