"""/status: the customer's latest requests and where each stands, in their language."""

from __future__ import annotations

from flows import escalation
from flows.model import WITH_TEAM, TicketStatus
from flows.turn import Turn
from knowledge.responses import Html, Say


def status(turn: Turn) -> None:
    """One line a request; with the team, where it stands in line. With ``ESCALATION=off``
    nobody here confirms or answers: a request kept for the shop says how to reach it."""
    tickets = turn.repos.tickets.for_customer(turn.chat_id, limit=5)
    if not tickets:
        turn.say(Say.STATUS_NONE)
        return
    responses = turn.responses
    lines = [responses.text(Say.STATUS_HEADER)]
    for ticket in tickets:
        summary = " ".join(escalation.summary_for(ticket, responses).split())  # one line
        summary = summary if len(summary) <= 60 else summary[:57].rstrip() + "…"
        state = responses.text(status_label(ticket.status, turn.escalation))
        if ticket.rating is not None:
            state = responses.text(Say.STATUS_RATED, state=state, stars="⭐" * ticket.rating)
        lines.append(responses.text(Say.STATUS_LINE, ref=ticket.ref, summary=summary, state=state))
    current = turn.ticket()
    if turn.escalation and current is not None and current.status in WITH_TEAM:
        lines += escalation.standing(turn, current)
    elif not turn.escalation and any(t.status in WITH_TEAM for t in tickets):
        contact = turn.services.settings.support_contact
        if contact:
            lines.append(responses.text(Say.STATUS_NO_LIVE, contact=contact))
        else:
            lines.append(responses.text(Say.STATUS_NO_LIVE_NO_CONTACT))
    turn.say_html(Html("\n".join(lines)))


def status_label(status: TicketStatus, escalation: bool) -> Say:
    """How /status names a ticket's status (mypy checks that every status has one).

    With ``ESCALATION=off`` nothing promises a person or a confirmation: a request with the
    team is one kept for the shop, which the customer contacts themselves.
    """
    match status:
        case TicketStatus.OPEN:
            return Say.STATE_OPEN
        case TicketStatus.WAITING_AGENT | TicketStatus.WITH_AGENT | TicketStatus.REOPENED if (
            not escalation
        ):
            return Say.STATE_NOTED
        case TicketStatus.WAITING_AGENT:
            return Say.STATE_WAITING_AGENT
        case TicketStatus.WITH_AGENT:
            return Say.STATE_WITH_AGENT
        case TicketStatus.REOPENED:
            return Say.STATE_REOPENED
        case TicketStatus.REPLACEMENT_REQUESTED:
            return Say.STATE_REPLACEMENT_REQUESTED if escalation else Say.STATE_REPLACEMENT_NOTED
        case TicketStatus.RESOLVED:
            return Say.STATE_RESOLVED
        case TicketStatus.CANCELLED | TicketStatus.CLOSED:
            return Say.STATE_CANCELLED
