"""A replacement for a product that qualifies: order number, purchase date, the rule."""

from __future__ import annotations

from flows import escalation, text
from flows.model import OpenTopic, State, TicketStatus
from flows.turn import Turn
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
    today = turn.now.date()
    bought = text.purchase_date(typed, today)
    if bought is None:
        turn.say(Say.PURCHASE_DATE_INVALID)
        return
    if bought > today:
        turn.say(Say.PURCHASE_DATE_FUTURE)
        return
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
