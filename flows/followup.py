"""The bot comes back to make sure: "Is everything working now?", a rating, a reopen.

A resolution (the customer's "Yes, fixed", an agent's ``/resolve``) writes a CHECK
follow-up due ``FOLLOWUP_DELAY`` later, in the same transaction. When it is due the
dispatcher (``bot.followups``) calls ``FollowUps.due``, which re-checks the ticket and
asks, with Yes / No / Remind me later; sending it also writes a CLOSE row: no answer
within ``AUTO_CLOSE_AFTER`` and the ticket closes quietly.

- **Yes**: "How would you rate the help you got?" 1-5, then an optional comment.
- **No**: the ticket reopens with its history and goes to a person (``flows.reopen``).
- **Later**: tomorrow, in 3 days or next week: the next round of the check.

Button data is ``"<kind>|<id>|<arg>"`` (``f`` a check's answer, ``l`` when to ask again,
``r`` a rating): untrusted, so every press is checked against the customer's own rows,
and a press on an answered question is refused politely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flows import escalation, reopen
from flows.model import (
    Button,
    Conversation,
    Direction,
    Effect,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    Person,
    Reply,
    State,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketId,
    TicketStatus,
    TranscriptLine,
)
from flows.ports import Clock, Repositories
from flows.turn import Services, Turn
from knowledge.responses import Say

ANSWER, LATER, RATE = "f", "l", "r"
YES, NO, REMIND = "y", "n", "l"
LATER_DAYS = (1, 3, 7)  # tomorrow, in 3 days, next week
SKIP = 0  # the rating's "Skip" for the comment


@dataclass(frozen=True)
class FollowUpPress:
    kind: str  # ANSWER, LATER or RATE
    id: int  # a follow-up's id (ANSWER, LATER) or a ticket's (RATE)
    arg: str


def parse(data: str) -> FollowUpPress | None:
    """Button data of a follow-up, or None when it is not one (or malformed)."""
    parts = data.split("|")
    if len(parts) != 3 or parts[0] not in (ANSWER, LATER, RATE) or not parts[1].isdigit():
        return None
    kind, arg = parts[0], parts[2]
    valid = {
        ANSWER: (YES, NO, REMIND),
        LATER: tuple(str(d) for d in LATER_DAYS),
        RATE: tuple(str(n) for n in range(6)),
    }[kind]
    if arg not in valid:
        return None
    return FollowUpPress(kind, int(parts[1]), arg)


def schedule_check(repos: Repositories, ticket: Ticket, due_at: datetime) -> FollowUp | None:
    """The next round of "Is everything working now?" for ``ticket``, due at ``due_at``."""
    assert ticket.id is not None
    rounds = [
        f.round for f in repos.followups.for_ticket(ticket.id) if f.kind is FollowUpKind.CHECK
    ]
    return repos.followups.add(
        FollowUp(
            ticket_id=ticket.id,
            chat_id=ticket.chat_id,
            kind=FollowUpKind.CHECK,
            due_at=due_at,
            round=max(rounds, default=0) + 1,
        )
    )


def after_resolution(turn: Turn, ticket: Ticket) -> None:
    """A ticket was just resolved: come back after ``FOLLOWUP_DELAY`` to make sure."""
    schedule_check(turn.repos, ticket, turn.now + turn.services.settings.followup_delay)


class FollowUps:
    """What happens when a follow-up falls due; the dispatcher calls ``due`` per row."""

    def __init__(self, *, services: Services, clock: Clock):
        self.services = services
        self.clock = clock

    def due(self, repos: Repositories, followup: FollowUp) -> list[Effect]:
        """Act on one claimed row: send, defer (quiet hours), cancel, expire or close.

        Sets the row's status through ``repos.followups.save``; the caller stores the
        effects in the same transaction and commits.
        """
        if followup.status not in (FollowUpStatus.PENDING, FollowUpStatus.SENDING):
            return []  # someone dealt with it already
        now = self.clock.now()
        settings = self.services.settings
        ticket = repos.tickets.get(followup.ticket_id)
        if followup.kind is FollowUpKind.CLOSE:
            self._close_quietly(repos, followup, ticket, now)
            return []
        if (
            ticket is None
            or ticket.status is not TicketStatus.RESOLVED
            or repos.customers.is_blocked(followup.chat_id)
        ):  # reopened, closed, cancelled, or the customer left: nothing to ask
            return self._finish(repos, followup, FollowUpStatus.CANCELLED, now)
        late = now - followup.due_at
        if settings.followup_stale_after and late > settings.followup_stale_after:
            followup.last_error = f"fell due {late} ago, more than FOLLOWUP_STALE_AFTER"
            return self._finish(repos, followup, FollowUpStatus.EXPIRED, now)
        morning = quiet_until(now, settings.quiet_hours, settings.timezone)
        if morning is not None:  # nobody wants a bot at 3 a.m.: wait for the morning
            followup.due_at = morning
            return self._finish(repos, followup, FollowUpStatus.PENDING, now)
        turn = self._turn(repos, ticket, now)
        _ask_if_working(turn, ticket, followup)
        followup.sent_at = now
        self._finish(repos, followup, FollowUpStatus.SENT, now)
        repos.followups.add(
            FollowUp(
                ticket_id=followup.ticket_id,
                chat_id=followup.chat_id,
                kind=FollowUpKind.CLOSE,
                due_at=now + settings.auto_close_after,
                round=followup.round,
            )
        )
        repos.conversations.save(turn.conversation)
        for effect in turn.effects:
            if isinstance(effect, Reply):
                line = TranscriptLine(ticket.chat_id, Direction.OUT, effect.text, now, ticket.id)
                repos.transcript.add(line)
        return turn.effects

    def _close_quietly(
        self, repos: Repositories, row: FollowUp, ticket: Ticket | None, now: datetime
    ) -> None:
        """No answer to the check of the same round: the ticket closes, nothing is sent."""
        checks = [
            f
            for f in repos.followups.for_ticket(row.ticket_id)
            if f.kind is FollowUpKind.CHECK and f.round == row.round
        ]
        unanswered = bool(checks) and checks[0].status is FollowUpStatus.SENT
        if ticket is None or ticket.status is not TicketStatus.RESOLVED or not unanswered:
            self._finish(repos, row, FollowUpStatus.CANCELLED, now)
            return
        ticket.status = TicketStatus.CLOSED
        ticket.updated_at = now
        repos.tickets.save(ticket)
        repos.ticket_events.add(
            TicketEvent(row.ticket_id, TicketEventKind.CLOSED, now, detail="no answer to follow-up")
        )
        self._finish(repos, row, FollowUpStatus.SENT, now)

    @staticmethod
    def _finish(
        repos: Repositories, row: FollowUp, status: FollowUpStatus, now: datetime
    ) -> list[Effect]:
        row.status = status
        row.lease_until = None
        repos.followups.save(row)
        return []

    def _turn(self, repos: Repositories, ticket: Ticket, now: datetime) -> Turn:
        chat = ticket.chat_id
        conversation = repos.conversations.get(chat) or Conversation(chat)
        person = repos.customers.get(chat) or Person(chat, chat)
        return Turn(self.services, repos, conversation, person, now)


def quiet_until(now: datetime, quiet: tuple[int, int] | None, zone: str) -> datetime | None:
    """When the quiet hours around ``now`` end (UTC), or None when it is not quiet now.

    ``quiet`` is (from hour, to hour) in local time of ``zone``, e.g. (21, 9); it may wrap
    past midnight. The end is found in local wall time, so a DST change is respected.
    """
    if quiet is None:
        return None
    start, end = quiet
    local = now.astimezone(ZoneInfo(zone))
    hour = local.hour
    inside = start <= hour < end if start < end else hour >= start or hour < end
    if not inside:
        return None
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    wake = datetime(day.year, day.month, day.day, end, tzinfo=ZoneInfo(zone))
    return wake.astimezone(now.tzinfo)


def _ask_if_working(turn: Turn, ticket: Ticket, row: FollowUp) -> None:
    responses = turn.responses
    data = f"{ANSWER}|{row.id}|"
    summary = _short(escalation.summary_for(ticket, responses))
    turn.say_html(
        responses.text(Say.FOLLOWUP_QUESTION, ref=ticket.ref, summary=summary),
        (
            (
                Button(responses.label(Say.FOLLOWUP_YES_BUTTON), data + YES),
                Button(responses.label(Say.FOLLOWUP_NO_BUTTON), data + NO),
            ),
            (Button(responses.label(Say.FOLLOWUP_LATER_BUTTON), data + REMIND),),
        ),
    )


def _short(summary: str) -> str:
    line = " ".join(summary.split())
    return line if len(line) <= 80 else line[:79].rstrip() + "…"


# ---- the customer answers ---------------------------------------------------------------


def press(turn: Turn, pressed: FollowUpPress) -> None:
    """A press on a follow-up's, a reminder's or a rating's button."""
    if pressed.kind == RATE:
        _rate(turn, pressed)
        return
    row = turn.repos.followups.get(pressed.id)
    ticket = turn.repos.tickets.get(row.ticket_id) if row is not None else None
    if (
        row is None
        or ticket is None
        or row.chat_id != turn.chat_id  # never another customer's
        or ticket.chat_id != turn.chat_id
        or row.kind is not FollowUpKind.CHECK
    ):
        turn.say(Say.FOLLOWUP_EXPIRED)
        return
    if pressed.kind == LATER:
        _remind_later(turn, row, ticket, int(pressed.arg))
        return
    if row.status is not FollowUpStatus.SENT or ticket.status is not TicketStatus.RESOLVED:
        turn.say(Say.FOLLOWUP_ALREADY_ANSWERED, ref=ticket.ref)
        return
    row.status = FollowUpStatus.ANSWERED
    turn.repos.followups.save(row)
    assert ticket.id is not None
    turn.repos.followups.cancel_pending(ticket.id, turn.now)  # the quiet close, too
    if pressed.arg == YES:
        _ask_rating(turn, ticket)
    elif pressed.arg == NO:
        _not_fixed(turn, ticket)
    else:
        responses = turn.responses
        rows = [
            (responses.label(key), f"{LATER}|{row.id}|{days}")
            for key, days in zip(
                (Say.LATER_TOMORROW_BUTTON, Say.LATER_3_DAYS_BUTTON, Say.LATER_WEEK_BUTTON),
                LATER_DAYS,
                strict=True,
            )
        ]
        turn.say_html(
            responses.text(Say.FOLLOWUP_WHEN),
            tuple((Button(label, data),) for label, data in rows),
        )


def _not_fixed(turn: Turn, ticket: Ticket) -> None:
    """ "No": the ticket reopens with its history and goes to a person."""
    if not turn.escalation:  # nobody answers here: say so honestly, keep it recorded
        ticket.status = TicketStatus.REOPENED
        turn.touch(ticket)
        assert ticket.id is not None
        turn.repos.ticket_events.add(
            TicketEvent(ticket.id, TicketEventKind.REOPENED, turn.now, detail="follow-up: no")
        )
        turn.conversation.ticket_id = ticket.id
        escalation.no_live_support(turn, ticket)
        return
    reopen.reopen(turn, ticket, "", [], team_line=Say.AGENT_FOLLOWUP_NOT_FIXED)


def _remind_later(turn: Turn, row: FollowUp, ticket: Ticket, days: int) -> None:
    later = [
        f
        for f in turn.repos.followups.for_ticket(row.ticket_id)
        if f.kind is FollowUpKind.CHECK and f.round > row.round
    ]
    if (
        row.status is not FollowUpStatus.ANSWERED
        or later
        or ticket.status is not (TicketStatus.RESOLVED)
    ):
        turn.say(Say.FOLLOWUP_ALREADY_ANSWERED, ref=ticket.ref)
        return
    schedule_check(turn.repos, ticket, turn.now + timedelta(days=days))
    turn.say(Say.FOLLOWUP_LATER_SET, wait=turn.responses.duration(timedelta(days=days)))


def _ask_rating(turn: Turn, ticket: Ticket) -> None:
    responses = turn.responses
    turn.say_html(
        responses.text(Say.RATING_QUESTION, ref=ticket.ref),
        (tuple(Button(_stars(n), f"{RATE}|{ticket.id}|{n}") for n in range(1, 6)),),
    )


def _rate(turn: Turn, pressed: FollowUpPress) -> None:
    ticket = turn.repos.tickets.get(TicketId(pressed.id))
    if ticket is None or ticket.chat_id != turn.chat_id:
        turn.say(Say.FOLLOWUP_EXPIRED)
        return
    stars = int(pressed.arg)
    if stars == SKIP:  # "Skip" under "Anything you'd like to add?"
        if turn.data.get("comment_for") == ticket.id:
            _idle(turn)
        turn.say(Say.RATING_THANKS)
        return
    if ticket.rating is not None:  # one rating per ticket: the first one stands
        turn.say(Say.RATING_ALREADY, ref=ticket.ref)
        return
    ticket.rating = stars
    turn.touch(ticket)
    assert ticket.id is not None
    turn.repos.ticket_events.add(
        TicketEvent(ticket.id, TicketEventKind.RATED, turn.now, detail=str(stars))
    )
    if turn.conversation.state is State.DESCRIBE and not turn.data:
        # idle: the next message is the comment (or "Skip")
        turn.conversation.state = State.RATING_COMMENT
        turn.conversation.data = {"comment_for": ticket.id}
        ask_comment(turn)
    else:  # in the middle of something else: do not get in its way
        turn.say(Say.RATING_THANKS)


def ask_comment(turn: Turn) -> None:
    """ "Anything you'd like to tell us?" after a rating (again after /language)."""
    ticket_id = turn.data.get("comment_for")
    skip = Button(turn.responses.label(Say.SKIP_BUTTON), f"{RATE}|{ticket_id}|{SKIP}")
    turn.say_html(turn.responses.text(Say.RATING_COMMENT_QUESTION), ((skip,),))


def comment(turn: Turn, typed: str) -> None:
    """Typed text after a rating: the optional comment."""
    ticket_id = turn.data.get("comment_for")
    ticket = turn.repos.tickets.get(TicketId(ticket_id)) if isinstance(ticket_id, int) else None
    _idle(turn)
    if ticket is not None and ticket.chat_id == turn.chat_id and ticket.rating_comment is None:
        ticket.rating_comment = typed.strip()[:2000]
        turn.touch(ticket)
    turn.say(Say.RATING_THANKS)


def _idle(turn: Turn) -> None:
    turn.conversation.state = State.DESCRIBE
    turn.conversation.data = {}


def _stars(n: int) -> str:
    return "⭐" * n
