"""A replacement for a product that qualifies: order number, purchase date, the rule."""

from __future__ import annotations

from flows import escalation, text
from flows.model import State, TicketStatus
from flows.turn import Turn
from knowledge.schema import Entry


def offer(turn: Turn, entry: Entry) -> None:
    turn.data["replacement_entry"] = entry.id
    turn.conversation.state = State.ORDER_NUMBER
    turn.ask(turn.responses.text("replacement_offer"), [turn.human_row()])


def on_order_number(turn: Turn, typed: str) -> None:
    number = text.order_number(typed)
    if number is None:
        turn.say("order_number_invalid")
        return
    ticket = turn.ticket()
    if ticket is not None:
        ticket.order_number = number
        turn.touch(ticket)
    turn.data["order_number"] = number
    turn.conversation.state = State.PURCHASE_DATE
    turn.say("purchase_date_question")


def on_purchase_date(turn: Turn, typed: str) -> None:
    today = turn.now.date()
    bought = text.purchase_date(typed, today)
    if bought is None:
        turn.say("purchase_date_invalid")
        return
    if bought > today:
        turn.say("purchase_date_future")
        return
    entry = turn.entry(turn.data.get("replacement_entry", ""))
    ticket = turn.ticket()
    if entry is None or entry.replacement is None or ticket is None:
        escalation.escalate(turn, "not_fixed")
        return
    ticket.purchase_date = bought
    age = (today - bought).days
    days = entry.replacement.within_days
    if age > days:
        turn.touch(ticket)
        turn.say("replacement_not_eligible", days=days)
        escalation.escalate(turn, "not_eligible")
        return
    ticket.status = TicketStatus.REPLACEMENT_REQUESTED
    turn.touch(ticket)
    turn.conversation.state = State.WITH_AGENT
    order = ticket.order_number or turn.data.get("order_number", "")
    turn.say("replacement_recorded", order=order, ref=ticket.ref)
    turn.notify_agents(
        "agent_replacement_card",
        ref=ticket.ref,
        customer=escalation.customer_label(turn),
        title=entry.title,
        order=order,
        purchased=bought.isoformat(),
        age=age,
        days=days,
    )
