"""The team's side on fakes: relay, commands, who may, and what is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flows.desk import Desk
from flows.model import (
    Agent,
    ChatId,
    CloseTopic,
    CopyToCustomer,
    NotifyAgents,
    Reply,
    State,
    TeamMessage,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketId,
    TicketStatus,
    UserId,
)
from knowledge.responses import Say

from .fakes import Harness

TEAM = -100123
BEA, STRANGER, ADMIN = UserId(777), UserId(888), UserId(999)
TOPIC = 55


@pytest.fixture
def h() -> Harness:
    """Ann's ticket is with the team, in topic 55; Bea is an agent."""
    harness = Harness()
    harness.command("human")
    [ticket] = harness.tickets()
    ticket.topic_id = TOPIC
    harness.repos.tickets.save(ticket)
    harness.repos.agents.rows[BEA] = Agent(BEA, "Bea")
    return harness


def desk(h: Harness) -> Desk:
    services = h.engine.services
    return Desk(services.responses, h.clock, admins={ADMIN}, conversations=h.engine)


def team(
    h: Harness, text: str, *, user: int = BEA, thread: int | None = TOPIC, media: bool = False
) -> list[object]:
    command, _, args = text[1:].partition(" ") if text.startswith("/") else (None, "", "")
    event = TeamMessage(
        chat_id=TEAM,
        user_id=user,
        name="Bea" if user == BEA else "Someone",
        message_id=500,
        thread_id=thread,
        text=text,
        command=command,
        args=args,
        media=media,
    )
    return list(desk(h).handle(h.repos, event))


def ticket_of(h: Harness) -> Ticket:
    [ticket] = h.tickets()
    return ticket


def to_ann(effects: list[object]) -> list[str]:
    return [e.text for e in effects if isinstance(e, Reply) and e.chat_id == ChatId(42)]


def to_team(effects: list[object]) -> list[str]:
    return [e.text for e in effects if isinstance(e, NotifyAgents)]


def test_an_agents_words_reach_the_customer_with_their_name_escaped(h: Harness) -> None:
    effects = team(h, "try holding it <10 s> & again")
    assert to_ann(effects) == ["<b>Bea</b> from our team: try holding it &lt;10 s&gt; &amp; again"]
    event = h.repos.ticket_events.events[-1]
    assert (event.kind, event.actor_id) == (TicketEventKind.AGENT_REPLIED, BEA)


def test_an_agents_photo_is_copied_to_the_customer(h: Harness) -> None:
    effects = team(h, "see the button", media=True)
    assert effects == [CopyToCustomer(ChatId(42), 500)]


def test_a_stranger_is_refused_changes_nothing_and_is_audited(h: Harness) -> None:
    before = ticket_of(h)
    for text in ("/resolve", "hello customer"):
        effects = team(h, text, user=STRANGER)
        assert to_ann(effects) == []
        assert to_team(effects) == [h.engine.services.responses.text(Say.DESK_NOT_ALLOWED)]
    assert ticket_of(h) == before
    audits = [(a.actor_id, a.action, a.allowed) for a in h.repos.audit.entries]
    assert audits == [(STRANGER, "resolve", False), (STRANGER, "reply", False)]
    kinds = [e.kind for e in h.repos.ticket_events.events]
    assert kinds == [TicketEventKind.OPENED, TicketEventKind.ESCALATED]


def test_an_admin_is_an_agent_without_a_row(h: Harness) -> None:
    assert to_ann(team(h, "/take", user=ADMIN))


def test_take_resolve_and_the_customer_is_free_again(h: Harness) -> None:
    ref = ticket_of(h).ref
    effects = team(h, "/take")
    assert ticket_of(h).assignee_id == BEA
    assert ticket_of(h).status is TicketStatus.WITH_AGENT
    assert to_ann(effects) == [f"Bea from our team is looking at your request <b>{ref}</b> now."]
    assert team(h, "/note customer sounds upset; be gentle") == []  # stays internal
    effects = team(h, "/resolve")
    assert ticket_of(h).status is TicketStatus.RESOLVED
    assert "marked your request" in to_ann(effects)[0]
    assert CloseTopic(ticket_of(h).id) in effects  # type: ignore[arg-type]
    assert h.conversation().state is State.DESCRIBE and h.conversation().ticket_id is None
    kinds = [e.kind for e in h.repos.ticket_events.events]
    assert kinds == [
        TicketEventKind.OPENED,
        TicketEventKind.ESCALATED,
        TicketEventKind.TAKEN,
        TicketEventKind.RESOLVED,
    ]
    actions = [(a.action, a.detail) for a in h.repos.audit.entries]
    assert actions == [
        ("take", ""),
        ("note", "customer sounds upset; be gentle"),
        ("resolve", ""),
    ]
    # after that, words in the topic no longer reach her
    assert to_ann(team(h, "anything else?")) == []


def test_approve_and_deny_need_a_pending_replacement(h: Harness) -> None:
    assert "no replacement waiting" in to_team(team(h, "/approve"))[0]
    ticket = ticket_of(h)
    ticket.status = TicketStatus.REPLACEMENT_REQUESTED
    h.repos.tickets.save(ticket)
    assert "add a reason" in to_team(team(h, "/deny"))[0]
    effects = team(h, "/deny the seal is broken by a drop")
    assert "can't approve it this time" in to_ann(effects)[0]
    assert "the seal is broken by a drop" in to_ann(effects)[0]
    assert ticket_of(h).status is TicketStatus.WITH_AGENT  # a person decided: they have it
    ticket = ticket_of(h)
    ticket.status = TicketStatus.REPLACEMENT_REQUESTED
    h.repos.tickets.save(ticket)
    effects = team(h, "/approve")
    assert f"<b>{ticket.ref}</b> is approved" in to_ann(effects)[0]
    assert ticket_of(h).status is TicketStatus.RESOLVED


def test_commands_outside_a_topic_and_the_queue(h: Harness) -> None:
    assert "works inside a request's topic" in to_team(team(h, "/resolve", thread=None))[0]
    [queue] = to_team(team(h, "/queue", thread=None))
    ref = ticket_of(h).ref
    assert queue.startswith("Waiting for the team: 1") and ref in queue and "nobody yet" in queue
    team(h, "/take")
    [queue] = to_team(team(h, "/queue", thread=None))
    assert "Bea" in queue


def test_the_customer_is_told_their_place_and_a_wait_only_with_history() -> None:
    h = Harness()
    earlier = h.repos.tickets.add(
        Ticket(
            ChatId(7), "someone else's", TicketStatus.WAITING_AGENT, h.clock.now(), h.clock.now()
        )
    )
    assert earlier.id is not None
    h.command("human")
    said = h.said()
    assert "You're number 2 in line." in said
    assert "Lately" not in said  # no history: no time is promised
    for n, minutes in enumerate((10, 50, 20, 40, 30), start=100):
        handed = h.clock.now() - timedelta(hours=n)
        events = h.repos.ticket_events
        events.add(TicketEvent(TicketId(n), TicketEventKind.ESCALATED, handed))
        later = handed + timedelta(minutes=minutes)
        events.add(TicketEvent(TicketId(n), TicketEventKind.AGENT_REPLIED, later, BEA))
    h.command("status")
    assert "You're number 2 in line." in h.said()
    assert "Lately, the first reply has come within about 30 minutes." in h.said()


def test_agents_can_stay_anonymous(h: Harness) -> None:
    anonymous = Desk(responses=h.engine.services.responses, clock=h.clock, agent_names=False)
    take = TeamMessage(TEAM, BEA, "Bea", 501, TOPIC, text="/take", command="take")
    ref = ticket_of(h).ref
    took = to_ann(list(anonymous.handle(h.repos, take)))
    assert took == [f"Someone from our team is looking at your request <b>{ref}</b> now."]
    hello = TeamMessage(TEAM, BEA, "Bea", 502, TOPIC, text="hi")
    assert to_ann(list(anonymous.handle(h.repos, hello))) == ["<b>Our team</b>: hi"]


def test_fix_sends_an_entrys_fix_and_the_customers_yes_solves_the_ticket(h: Harness) -> None:
    assert "no knowledge entry “nope”" in to_team(team(h, "/fix nope"))[0]
    effects = team(h, "/fix pairing")
    said = to_ann(effects)
    assert "Headphones do not pair" in said[0] and "Hold the power button" in said[0]
    assert said[1] == "Did this fix it?"
    assert "sent the fix “Headphones do not pair”" in to_team(effects)[0]
    assert h.conversation().state is State.CONFIRM
    assert ticket_of(h).status is TicketStatus.OPEN  # with the bot until she answers
    question = [e for e in effects if isinstance(e, Reply) and e.buttons][-1]
    h.press(question.buttons[0][0].data)  # "Yes, it's fixed"
    assert ticket_of(h).status is TicketStatus.RESOLVED
    assert ticket_of(h).entry_id == "pairing"
