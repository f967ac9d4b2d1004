"""The flow engine: one inbound event in, the new state stored and effects out.

``Conversations.handle`` is the whole conversation for the channels. It reads and writes
through the ``Repositories`` it is given and never commits: the caller stores the
effects (the outbox) in the same transaction and commits once.
"""

from __future__ import annotations

from dataclasses import replace

from flows import (
    escalation,
    followup,
    intake,
    language,
    reopen,
    replacement,
    resolve,
    status,
)
from flows import text as words
from flows.model import (
    WITH_TEAM,
    ButtonPress,
    ClearButtons,
    Command,
    Conversation,
    Direction,
    Effect,
    Inbound,
    Media,
    Reply,
    State,
    TextMessage,
    TicketStatus,
    TranscriptLine,
)
from flows.ports import Clock, Repositories
from flows.transitions import TRANSITIONS
from flows.turn import (
    CANCEL,
    HUMAN,
    KEEP,
    LANGUAGE,
    NO,
    NO_ORDER,
    NONE,
    PICK,
    REOPEN,
    SOMETHING_NEW,
    YES,
    Services,
    Turn,
    parse_press,
)
from knowledge.phrases import Intent
from knowledge.responses import Say

# questions whose own guidance answers a typed "help" (where the order number is, how to
# write the date), rather than /help's
_OWN_HELP = (State.ORDER_NUMBER, State.PURCHASE_DATE)
RECORDED = WITH_TEAM  # with the team (or, with ESCALATION=off, recorded for the shop)
ACTIVE = (TicketStatus.OPEN, *RECORDED)


class Conversations:
    """Runs the customer conversation over the ports; pure apart from them."""

    def __init__(self, *, services: Services, clock: Clock):
        self.services = services
        self.clock = clock

    def handle(self, repos: Repositories, event: Inbound) -> list[Effect]:
        now = self.clock.now()
        person = event.person
        stored = repos.customers.upsert(person, now)
        if stored.language != person.language:
            person = replace(person, language=stored.language)  # chosen with /language
        conversation = repos.conversations.get(person.chat_id) or Conversation(person.chat_id)
        before = conversation.state
        if before is State.WITH_AGENT and not self.services.settings.escalation:
            # handed over while ESCALATION was on, and nobody answers now: the bot takes the
            # conversation back (the ticket stays recorded, and /human names it)
            conversation.state = State.DESCRIBE
            conversation.data = {}
        turn = Turn(self.services, repos, conversation, person, now)
        ticket_before = conversation.ticket_id
        self._dispatch(turn, event)
        # the customer's line belongs to the ticket it was about: the one open before it, or
        # the one it opened (a first description has no ticket until it is matched)
        about = ticket_before if ticket_before is not None else turn.conversation.ticket_id
        line = TranscriptLine(
            turn.chat_id, Direction.IN, words.printable(_as_text(event)), now, about
        )
        repos.transcript.add(line)
        after = turn.conversation.state
        assert after in TRANSITIONS[before], (
            f"{before} -> {after} is not in flows.transitions (after {_as_text(event)!r}); "
            "declare it there and draw it in flows/conversation.mmd"
        )
        repos.conversations.save(turn.conversation)
        replies_about = turn.conversation.ticket_id if turn.conversation.ticket_id else about
        for effect in turn.effects:
            if isinstance(effect, Reply):
                reply = TranscriptLine(turn.chat_id, Direction.OUT, effect.text, now, replies_about)
                repos.transcript.add(reply)
        return turn.effects

    def _dispatch(self, turn: Turn, event: Inbound) -> None:
        if isinstance(event, TextMessage):
            event = replace(event, text=words.printable(event.text))
        elif isinstance(event, Media):
            event = replace(event, caption=words.printable(event.caption))
        if isinstance(event, Command):
            self._command(turn, event)
        elif isinstance(event, ButtonPress):
            self._press(turn, event)
        elif isinstance(event, Media):
            typed = intake.media(turn, event)
            if typed is not None:
                self._text(turn, typed, event.message_id)
        elif isinstance(event, TextMessage):
            self._text(turn, event.text, event.message_id)

    # ---- typed text --------------------------------------------------------------
    def _text(self, turn: Turn, typed: str, message_id: int | None = None) -> None:
        state = turn.conversation.state
        intent = turn.services.phrases.intent(typed)
        if state is not State.WITH_AGENT and self._plain_request(turn, intent):
            return
        if state is State.WITH_AGENT:
            ticket = turn.ticket()
            if ticket is not None and reopen.maybe_ask_while_open(turn, ticket, typed, message_id):
                return
            escalation.with_agent(turn, typed, message_id)
            if turn.conversation.state is State.WITH_AGENT:
                return
            state = turn.conversation.state
        if state is State.CONFIRM:
            if intent in (Intent.YES, Intent.THANKS):
                resolve.confirm(turn, True)
            elif intent is Intent.NO:
                resolve.confirm(turn, False)
            else:  # what they see now: kept for the team, should it come to that
                details = turn.data.setdefault("details", [])
                if len(details) < 5:
                    details.append(typed[:500])
                resolve.ask_again(turn)
        elif state is State.ORDER_NUMBER:
            replacement.on_order_number(turn, typed)
        elif state is State.PURCHASE_DATE:
            replacement.on_purchase_date(turn, typed)
        elif state is State.REOPEN_ASK and intent in (Intent.YES, Intent.NO):
            reopen.answer(turn, about_old=intent is Intent.YES)  # "yes": that one; "no": new
        elif state is State.REOPEN_ASK:
            reopen.typed(turn, typed, message_id)
        elif state is State.RATING_COMMENT:
            followup.comment(turn, typed)
        elif state is State.DESCRIBE and reopen.maybe_ask(turn, typed, message_id):
            return
        else:  # DESCRIBE, or CHOOSE where typing means describing it anew
            intake.describe(turn, typed)

    def _plain_request(self, turn: Turn, intent: Intent | None) -> bool:
        """What the customer said to the conversation itself, in their own words: asking
        for a person, starting over, thanks, goodbye, "none of these". True if handled."""
        state = turn.conversation.state
        if intent is Intent.PERSON:
            _ask_for_person(turn)
        elif intent is Intent.HELP and state not in _OWN_HELP:  # words, not commands
            intake.show_help(turn)
        elif intent is Intent.RESTART:
            ticket = turn.ticket()
            if ticket is not None and ticket.status is TicketStatus.OPEN:
                ticket.status = TicketStatus.CANCELLED
                turn.touch(ticket)
            if ticket is not None and ticket.status in RECORDED:
                turn.conversation.ticket_id = None  # the team keeps it; a new start here
            _reset(turn)
            turn.ask(turn.responses.text(Say.START_OVER), turn.human_rows())
        elif intent in (Intent.THANKS, Intent.BYE) and state is State.DESCRIBE:
            ticket = turn.ticket()  # "thanks" while rephrasing: nothing more to do
            if ticket is not None and ticket.status is TicketStatus.OPEN:
                ticket.status = TicketStatus.CANCELLED
                turn.touch(ticket)
            _reset(turn)
            turn.say(Say.YOURE_WELCOME if intent is Intent.THANKS else Say.GOODBYE)
        elif intent in (Intent.NONE, Intent.NO) and state is State.CHOOSE:
            resolve.choose(turn, NONE, None)
        else:
            return False
        return True

    # ---- buttons -----------------------------------------------------------------
    def _press(self, turn: Turn, event: ButtonPress) -> None:
        if event.message_id is not None:
            turn.effects.append(ClearButtons(turn.chat_id, event.message_id))
        answered = followup.parse(event.data)
        if answered is not None:  # a follow-up's buttons work whatever is going on
            followup.press(turn, answered)
            return
        press = parse_press(event.data)
        state = turn.conversation.state
        if press is not None and press.action == HUMAN:
            _ask_for_person(turn)
            return
        if press is not None and press.action == LANGUAGE:  # valid whatever the step
            language.choose(turn, press.arg)
            return
        if press is None or press.step != turn.conversation.step:
            resolve.expired(turn)
        elif state is State.CHOOSE:
            resolve.choose(turn, press.action, press.arg)
        elif press.action == CANCEL:
            self._cancel(turn, confirmed=True)
        elif press.action == KEEP:
            ticket = turn.ticket()
            if ticket is not None and ticket.status in RECORDED:
                turn.say(Say.CANCEL_KEPT, ref=ticket.ref)
            else:
                resolve.expired(turn)
        elif state is State.CONFIRM and press.action in (YES, NO):
            resolve.confirm(turn, press.action == YES)
        elif state is State.REOPEN_ASK and press.action in (REOPEN, SOMETHING_NEW):
            reopen.answer(turn, press.action == REOPEN)
        elif state is State.ORDER_NUMBER and press.action == NO_ORDER:
            replacement.no_order_number(turn)
        elif state is State.PURCHASE_DATE and press.action == PICK:
            if not replacement.on_date_pick(turn, press.arg):
                resolve.expired(turn)
        else:
            resolve.expired(turn)

    # ---- commands ----------------------------------------------------------------
    def _command(self, turn: Turn, event: Command) -> None:
        name = event.name
        if name == "start":
            self._start(turn)
        elif name == "help":
            intake.show_help(turn)
        elif name == "cancel":
            self._cancel(turn)
        elif name == "status":
            status.status(turn)
        elif name in ("human", "agent", "person"):
            _ask_for_person(turn)
        elif name in ("language", "lang"):
            language.offer(turn, event.args)
        else:
            turn.say(Say.UNKNOWN_COMMAND)

    def _start(self, turn: Turn) -> None:
        name = turn.person.name
        ticket = turn.ticket()
        if turn.conversation.state is State.WITH_AGENT and ticket is not None:
            if name:
                turn.say(Say.WELCOME_BACK_WAITING, name=name, ref=ticket.ref)
            else:
                turn.say(Say.WELCOME_BACK_WAITING_NAMELESS, ref=ticket.ref)
            return
        if ticket is not None and ticket.status is TicketStatus.OPEN:
            ticket.status = TicketStatus.CANCELLED
            turn.touch(ticket)
        _reset(turn)
        welcome = turn.responses.text(Say.WELCOME, name=name) if name else None
        turn.ask(welcome or turn.responses.text(Say.WELCOME_NAMELESS), turn.human_rows())

    def _cancel(self, turn: Turn, confirmed: bool = False) -> None:
        ticket = turn.ticket()
        if ticket is not None and ticket.status in RECORDED and not confirmed:
            # a person or a replacement is pending: dropping it takes a second tap
            responses = turn.responses
            turn.ask(
                responses.text(Say.CANCEL_CONFIRM, ref=ticket.ref),
                [
                    [(responses.label(Say.CANCEL_YES_BUTTON), CANCEL, None)],
                    [(responses.label(Say.CANCEL_NO_BUTTON), KEEP, None)],
                ],
            )
        elif ticket is not None and ticket.status in ACTIVE:
            was_with_team = ticket.status is not TicketStatus.OPEN
            ticket.status = TicketStatus.CANCELLED
            turn.touch(ticket)
            if was_with_team:
                turn.notify_agents(Say.AGENT_CUSTOMER_CANCELLED, ref=ticket.ref)
                turn.say(Say.CANCELLED_REQUEST, ref=ticket.ref)
            else:
                turn.say(Say.CANCELLED)
            _reset(turn)
        elif turn.conversation.state is not State.DESCRIBE or turn.data:
            _reset(turn)
            turn.say(Say.CANCELLED)
        else:
            turn.say(Say.NOTHING_TO_CANCEL)


def _ask_for_person(turn: Turn) -> None:
    """'Talk to a person' (button or /human): escalate, or say it is with the team already.

    With ``ESCALATION=off`` a request recorded already is named again, not recorded twice.
    """
    ticket = turn.ticket()
    if turn.conversation.state is State.WITH_AGENT and ticket is not None:
        turn.say(Say.ALREADY_WITH_AGENT, ref=ticket.ref)
    elif not turn.escalation and ticket is not None and ticket.status in RECORDED:
        escalation.no_live_support(turn, ticket)
    else:
        escalation.escalate(turn, Say.AGENT_REASON_ASKED)


def _reset(turn: Turn) -> None:
    turn.conversation.state = State.DESCRIBE
    turn.conversation.ticket_id = None
    turn.conversation.data = {}


def _as_text(event: Inbound) -> str:
    if isinstance(event, TextMessage):
        return event.text
    if isinstance(event, Command):
        return f"/{event.name} {event.args}".strip()
    if isinstance(event, ButtonPress):
        return f"[button {event.data}]"
    return f"[{event.kind.value}] {event.caption}".strip()
