"""A replacement for a product that qualifies: order number, purchase date, the rule."""

from __future__ import annotations

from datetime import date

from flows import escalation, text
from flows.model import OpenTopic, State, TicketEvent, TicketEventKind, TicketStatus
from flows.turn import NO_ORDER, PICK, Turn
from knowledge.phrases import Intent
from knowledge.responses import Say
from knowledge.schema import Entry

# after this many order numbers it could not read, the bot offers the ways out again
# ("I don't have it", "Talk to a person") instead of only asking once more
ORDER_TRIES_BEFORE_HELP = 2


def offer(turn: Turn, entry: Entry, *, after_fixes: bool = True) -> None:
    """Ask for the order number: after fixes that failed, or at once (a ``kind: replacement``
    entry shown first, where "I'm sorry that didn't do it" would be about nothing)."""
    turn.data["replacement_entry"] = entry.id
    turn.conversation.state = State.ORDER_NUMBER
    key = Say.REPLACEMENT_OFFER if after_fixes else Say.REPLACEMENT_START
    turn.ask(turn.responses.text(key), _order_rows(turn))


def ask_again(turn: Turn) -> None:
    """The order number or purchase date question again (after /language), in the
    customer's language now; the buttons on screen stay valid."""
    offered = turn.data.get("date_choices")
    if turn.conversation.state is State.ORDER_NUMBER:
        turn.ask(turn.responses.text(Say.REPLACEMENT_START), _order_rows(turn), keep_older=True)
    elif isinstance(offered, list) and len(offered) == 2:
        _ask_which(turn, [date.fromisoformat(str(day)) for day in offered], keep_older=True)
    else:
        turn.ask(
            turn.responses.text(Say.PURCHASE_DATE_QUESTION), turn.human_rows(), keep_older=True
        )


def _order_rows(turn: Turn) -> list[list[tuple[str, str, int | None]]]:
    no_order = turn.responses.label(Say.NO_ORDER_NUMBER_BUTTON)
    return [[(no_order, NO_ORDER, None)], *turn.human_rows()]


def on_order_number(turn: Turn, typed: str) -> None:
    said = turn.services.phrases.intent(typed)
    if text.no_order_number(typed) or said is Intent.NO_ORDER:
        no_order_number(turn)
        return
    number = text.order_number(typed, turn.services.settings.order_number_pattern)
    if number is None:
        # counted up to the limit only: the conversation data stays small and settled
        tries = min(int(turn.data.get("order_tries", 0)) + 1, ORDER_TRIES_BEFORE_HELP)
        turn.data["order_tries"] = tries
        if tries < ORDER_TRIES_BEFORE_HELP:
            turn.say(Say.ORDER_NUMBER_INVALID)  # the buttons above stay valid
        else:
            help_key = Say.ORDER_NUMBER_HELP if turn.escalation else Say.ORDER_NUMBER_HELP_NO_LIVE
            turn.ask(turn.responses.text(help_key), _order_rows(turn))
        return
    turn.data.pop("order_tries", None)
    ticket = turn.ticket()
    if ticket is not None:
        ticket.order_number = number
        turn.touch(ticket)
    turn.data["order_number"] = number
    turn.conversation.state = State.PURCHASE_DATE
    turn.say(Say.PURCHASE_DATE_QUESTION)


def no_order_number(turn: Turn) -> None:
    """ "I don't have it" (pressed or typed): a person takes it, with all gathered so far."""
    escalation.escalate(turn, Say.AGENT_REASON_NO_ORDER_NUMBER)


def on_purchase_date(turn: Turn, typed: str) -> None:
    """A date as the customer writes it; one that reads two ways is asked about."""
    today = turn.now.date()
    readings = text.purchase_dates(
        typed,
        today=today,
        order=turn.services.settings.date_order,
        # the customer's own language first (dateparser reads many more than we ship)
        languages=tuple(code for code in (turn.language, turn.responses.language) if code),
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
    _ask_which(turn, plausible)


def _ask_which(turn: Turn, readings: list[date], *, keep_older: bool = False) -> None:
    first, second = (turn.responses.day(day) for day in readings)
    rows: list[list[tuple[str, str, int | None]]] = [
        [(turn.responses.label(Say.DATE_BUTTON, date=first), PICK, 0)],
        [(turn.responses.label(Say.DATE_BUTTON, date=second), PICK, 1)],
        *turn.human_rows(),
    ]
    text = turn.responses.text(Say.PURCHASE_DATE_WHICH, first=first, second=second)
    turn.ask(text, rows, keep_older=keep_older)


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
        turn.say(key, days=turn.responses.days(days))  # "30 days", "30 дней", "30 días"
        escalation.escalate(turn, Say.AGENT_REASON_NOT_ELIGIBLE)
        return
    ticket.status = TicketStatus.REPLACEMENT_REQUESTED
    turn.touch(ticket)
    if ticket.id is not None:
        turn.repos.ticket_events.add(
            TicketEvent(ticket.id, TicketEventKind.REPLACEMENT_REQUESTED, turn.now, detail=entry.id)
        )
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
    team = turn.team_responses  # the card is in the team's language, whatever the customer's
    turn.card_for_agents(
        Say.AGENT_REPLACEMENT_CARD,
        ref=ticket.ref,
        customer=escalation.customer_label(turn),
        title=(turn.services.knowledge.get(entry.id) or entry).title,
        order=order,
        purchased=bought.isoformat(),
        age=team.days(age),
        days=team.days(days),
    )
    if turn.conversation.state is State.WITH_AGENT:
        turn.conversation.data = {}  # all of it is on the card now
