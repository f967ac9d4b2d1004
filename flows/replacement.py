"""A replacement for a product that qualifies: order number, purchase date, the rule."""

from __future__ import annotations

from datetime import date

from flows import escalation, text
from flows.model import OpenTopic, State, TicketStatus
from flows.turn import PICK, Turn
from knowledge.responses import Say
from knowledge.schema import Entry


def offer(turn: Turn, entry: Entry) -> None:
    turn.data["replacement_entry"] = entry.id
    turn.conversation.state = State.ORDER_NUMBER
    turn.ask(turn.responses.text(Say.REPLACEMENT_OFFER), turn.human_rows())


def on_order_number(turn: Turn, typed: str) -> None:
    number = text.order_number(typed)
    if number is None:
        turn.say(Say.ORDER_NUMBER_INVALID)
        return
    ticket = turn.ticket()
    if ticket is not None:
        ticket.order_number = number
        turn.touch(ticket)
    turn.data["order_number"] = number
    turn.conversation.state = State.PURCHASE_DATE
    turn.say(Say.PURCHASE_DATE_QUESTION)


def on_purchase_date(turn: Turn, typed: str) -> None:
    """A date as the customer writes it; one that reads two ways is asked about."""
    today = turn.now.date()
    readings = text.purchase_dates(
        typed,
        today=today,
        order=turn.services.settings.date_order,
        languages=(turn.responses.language,),
    )
    if not readings:
        turn.say(Say.PURCHASE_DATE_INVALID)
        return
    plausible = [day for day in readings if day <= today]
    if not plausible:
        turn.say(Say.PURCHASE_DATE_FUTURE)
        return
    if len(plausible) == 1:
        _decide(turn, plausible[0])
        return
    # "11/05/2026": 11 May or 5 November, both past; the customer says which
    turn.data["date_choices"] = [day.isoformat() for day in plausible]
    first, second = (turn.responses.day(day) for day in plausible)
    rows: list[list[tuple[str, str, int | None]]] = [
        [(turn.responses.label(Say.DATE_BUTTON, date=first), PICK, 0)],
        [(turn.responses.label(Say.DATE_BUTTON, date=second), PICK, 1)],
        *turn.human_rows(),
    ]
    turn.ask(turn.responses.text(Say.PURCHASE_DATE_WHICH, first=first, second=second), rows)


def on_date_pick(turn: Turn, index: int | None) -> bool:
    """A press on one of the readings offered; False (nothing done) for anything else.

    Button data is untrusted: only an index into the dates this conversation offered
    (kept in its data) is taken, never a date from the button itself.
    """
    offered = turn.data.get("date_choices")
    if not isinstance(offered, list) or index is None or not 0 <= index < len(offered):
        return False
    try:
        bought = date.fromisoformat(str(offered[index]))
    except ValueError:
        return False
    _decide(turn, bought)
    return True


def _decide(turn: Turn, bought: date) -> None:
    """The purchase date is known: the entry's rule decides, or a person does."""
    turn.data.pop("date_choices", None)
    today = turn.now.date()
    entry = turn.entry(turn.data.get("replacement_entry", ""))
    ticket = turn.ticket()
    if entry is None or entry.replacement is None or ticket is None:
        escalation.escalate(turn, Say.AGENT_REASON_NOT_FIXED)
        return
    ticket.purchase_date = bought
    age = (today - bought).days
    days = entry.replacement.within_days
    if age > days:
        turn.touch(ticket)
        key = (
            Say.REPLACEMENT_NOT_ELIGIBLE
            if turn.escalation
            else Say.REPLACEMENT_NOT_ELIGIBLE_NO_LIVE
        )
        turn.say(key, days=days)
        escalation.escalate(turn, Say.AGENT_REASON_NOT_ELIGIBLE)
        return
    ticket.status = TicketStatus.REPLACEMENT_REQUESTED
    turn.touch(ticket)
    order = ticket.order_number or turn.data.get("order_number", "")
    if turn.escalation:
        turn.conversation.state = State.WITH_AGENT
        turn.say(Say.REPLACEMENT_RECORDED, order=order, ref=ticket.ref)
    else:  # recorded, but nobody here confirms it: the customer arranges it with the shop
        turn.conversation.state = State.DESCRIBE
        turn.conversation.data = {}
        escalation.say_with_contact(
            turn,
            Say.REPLACEMENT_NOTED,
            Say.REPLACEMENT_NOTED_NO_CONTACT,
            order=order,
            ref=ticket.ref,
        )
    if ticket.id is not None and ticket.topic_id is None:
        name = escalation.topic_name(ticket, turn.person.name)
        turn.effects.append(OpenTopic(ticket.id, name))
    turn.card_for_agents(
        Say.AGENT_REPLACEMENT_CARD,
        ref=ticket.ref,
        customer=escalation.customer_label(turn),
        title=entry.title,
        order=order,
        purchased=bought.isoformat(),
        age=age,
        days=days,
    )
