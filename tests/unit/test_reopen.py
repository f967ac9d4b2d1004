"""Back soon after a resolution: "Is this about T-… or something new?", and reopening."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flows.desk import Desk
from flows.model import (
    Agent,
    CopyToAgents,
    NotifyAgents,
    OpenTopic,
    ReopenTopic,
    State,
    TeamMessage,
    Ticket,
    TicketEventKind,
    TicketStatus,
    UserId,
)

from .fakes import Harness

PAIRING = "my headphones will not pair with my phone"
CRACKLE = "my headphones crackle now"
TABLE = {
    PAIRING: [("pairing", 88.0), ("reset", 60.0)],
    CRACKLE: [("reset", 90.0)],
}
TEAM, TOPIC, BEA = -100123, 55, UserId(777)


def solved_by_bot(**settings: object) -> Harness:
    h = Harness(TABLE, **settings)
    h.text(PAIRING)
    h.press(h.button("Yes"))
    return h


def only_ticket(h: Harness, status: TicketStatus) -> Ticket:
    [ticket] = [t for t in h.tickets() if t.status is status]
    return ticket


def events(h: Harness, ticket: Ticket) -> list[TicketEventKind]:
    assert ticket.id is not None
    return [e.kind for e in h.repos.ticket_events.for_ticket(ticket.id)]


def test_a_message_soon_after_a_resolution_asks_which_request_it_is_about() -> None:
    h = solved_by_bot()
    [ticket] = h.tickets()
    assert events(h, ticket)[-1] is TicketEventKind.RESOLVED  # the bot's "Yes" is one too
    h.clock.advance(days=2)
    h.text(CRACKLE, message_id=31)
    assert f"about your earlier request <b>{ticket.ref}</b>, or something new" in h.said()
    assert h.state is State.REOPEN_ASK
    assert len(h.tickets()) == 1  # nothing filed before the customer says where


def test_about_the_old_one_reopens_it_for_a_person_with_a_card_when_the_bot_had_solved_it() -> None:
    h = solved_by_bot()
    h.text(CRACKLE, message_id=31)
    h.press(h.button("About T-"))
    ticket = only_ticket(h, TicketStatus.REOPENED)
    assert len(h.tickets()) == 1
    assert h.state is State.WITH_AGENT and h.conversation().ticket_id == ticket.id
    assert f"reopened <b>{ticket.ref}</b>" in h.said()
    assert "number 1 in line" in h.said()
    assert events(h, ticket)[-1] is TicketEventKind.REOPENED
    # the team never saw it: a topic and a card saying why, then the customer's message
    assert any(isinstance(e, OpenTopic) and e.ticket_id == ticket.id for e in h.last)
    assert any("the problem is back" in n for n in h.notices())
    assert CopyToAgents(ticket.id, h.person.chat_id, 31) in h.last  # type: ignore[arg-type]


def test_about_the_old_one_reopens_its_topic_when_a_person_had_it() -> None:
    h = Harness(TABLE)
    h.command("human")
    [ticket] = h.tickets()
    ticket.topic_id = TOPIC
    h.repos.tickets.save(ticket)
    h.repos.agents.rows[BEA] = Agent(BEA, "Bea")
    desk = Desk(h.engine.services.responses, h.clock, conversations=h.engine)
    resolve = TeamMessage(TEAM, BEA, "Bea", 500, TOPIC, text="/resolve", command="resolve")
    desk.handle(h.repos, resolve)
    assert only_ticket(h, TicketStatus.RESOLVED)
    h.clock.advance(hours=3)
    h.text("it stopped working again", message_id=31)
    h.text("the left one is silent", message_id=32)  # more words: asked again, kept
    assert "is it about" in h.said()
    h.press(h.button("About T-"))
    reopened = only_ticket(h, TicketStatus.REOPENED)
    assert ReopenTopic(reopened.id) in h.last  # type: ignore[arg-type]
    assert not any(isinstance(e, OpenTopic) for e in h.last)  # it has its topic
    assert any("reopened" in n and reopened.ref in n for n in h.notices())
    copies = [e.message_id for e in h.last if isinstance(e, CopyToAgents)]
    assert copies == [31, 32]  # both messages, in order, as they were
    # a person answering takes it on: "with agent"
    desk.handle(h.repos, TeamMessage(TEAM, BEA, "Bea", 501, TOPIC, text="On it!"))
    assert only_ticket(h, TicketStatus.WITH_AGENT)


def test_something_new_is_a_new_request_matched_as_usual() -> None:
    h = solved_by_bot()
    h.text(CRACKLE)
    h.press(h.button("Something new"))
    assert h.state is State.CONFIRM
    assert "Reset the headphones" in h.said()
    old = only_ticket(h, TicketStatus.RESOLVED)
    new = only_ticket(h, TicketStatus.OPEN)
    assert new.summary == CRACKLE and new.id != old.id
    assert events(h, old)[-1] is TicketEventKind.RESOLVED  # untouched


def test_a_typed_yes_or_no_answers_which_request_it_is_about() -> None:
    h = solved_by_bot()
    h.text(CRACKLE)
    h.text("no")  # not about the old one: something new, matched as usual
    assert h.state is State.CONFIRM and "Reset the headphones" in h.said()
    assert only_ticket(h, TicketStatus.OPEN).summary == CRACKLE

    h = solved_by_bot()
    h.text(CRACKLE)
    h.text("yes")
    assert h.state is State.WITH_AGENT
    assert only_ticket(h, TicketStatus.REOPENED)


@pytest.mark.parametrize(
    ("later", "settings"),
    [
        (timedelta(days=7, seconds=1), {}),  # outside the default window
        (timedelta(minutes=5), {"reopen_window": timedelta(0)}),  # turned off
        (timedelta(minutes=5), {"escalation": False}),  # nobody to reopen it for
    ],
)
def test_no_question_outside_the_window_or_without_a_team(
    later: timedelta, settings: dict[str, object]
) -> None:
    h = solved_by_bot(**settings)
    h.clock.current += later
    h.text(CRACKLE)
    assert h.state is State.CONFIRM and "Reset the headphones" in h.said()
    assert "something new" not in h.said()


def test_a_short_word_or_a_stale_button_does_not_reopen_anything() -> None:
    h = solved_by_bot()
    h.text("ok")  # too few letters: not a request at all
    assert h.state is State.DESCRIBE
    h.text(CRACKLE)
    about = h.button("About T-")
    h.command("cancel")
    h.press(about)  # from before /cancel: expired
    assert h.state is State.DESCRIBE
    assert only_ticket(h, TicketStatus.RESOLVED)


def test_status_names_the_new_states() -> None:
    h = solved_by_bot()
    h.text(CRACKLE)
    h.press(h.button("About T-"))
    h.command("status")
    assert "reopened, waiting for a person" in h.said()
    ticket = only_ticket(h, TicketStatus.REOPENED)
    ticket.status = TicketStatus.WITH_AGENT
    h.repos.tickets.save(ticket)
    h.command("status")
    assert "a person from our team is on it" in h.said()
    assert "in line" not in h.said()  # a person has it: no place in the queue


def test_notices_reach_the_team_only_about_this_customer() -> None:
    h = solved_by_bot()
    h.text(CRACKLE)
    h.press(h.button("About T-"))
    ticket = only_ticket(h, TicketStatus.REOPENED)
    assert all(e.ticket_id == ticket.id for e in h.last if isinstance(e, NotifyAgents))


def test_in_the_terminal_chat_the_team_reads_the_words_themselves() -> None:
    h = solved_by_bot()
    h.text(CRACKLE)  # no Telegram message to copy
    h.press(h.button("About T-"))
    assert any(CRACKLE in n for n in h.notices())
    assert not any(isinstance(e, CopyToAgents) for e in h.last)


def test_a_new_problem_while_a_person_has_the_ticket_asks_which_it_is() -> None:
    table = {**TABLE, "and my smartwatch strap just snapped in two": [("strap", 91.0)]}
    h = Harness(table)
    h.text(PAIRING)
    h.command("human")  # pairing (headphones) is with a person
    [old] = h.tickets()
    h.text("and my smartwatch strap just snapped in two", message_id=40)
    assert f"about your request <b>{old.ref}</b> that our team has" in h.said()
    assert h.state is State.REOPEN_ASK
    h.press(h.button("Something new"))
    assert "Watch strap broke" in h.said()  # matched afresh, a ticket of its own
    assert len(h.tickets()) == 2 and only_ticket(h, TicketStatus.WAITING_AGENT).id == old.id


def test_more_about_the_same_thing_while_with_a_person_is_simply_passed_on() -> None:
    table = {**TABLE, "and my smartwatch strap just snapped in two": [("strap", 91.0)]}
    h = Harness(table)
    h.text(PAIRING)
    h.command("human")
    h.text("it still shows nothing in the bluetooth list", message_id=41)  # no answer band
    assert h.state is State.WITH_AGENT and "added this to request" in h.said()
    h.text("and my smartwatch strap just snapped in two", message_id=42)
    h.press(h.button("About T-"))  # the customer says it belongs there
    assert h.state is State.WITH_AGENT
    [ticket] = h.tickets()
    assert CopyToAgents(ticket.id, h.person.chat_id, 42) in h.last  # type: ignore[arg-type]
