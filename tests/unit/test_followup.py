"""The bot comes back after a resolution, on fakes and a hand-moved clock: no sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.desk import Desk
from flows.followup import quiet_until
from flows.model import (
    Agent,
    ButtonPress,
    ChatId,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    OpenTopic,
    Person,
    ReopenTopic,
    Reply,
    State,
    TeamMessage,
    Ticket,
    TicketEventKind,
    TicketStatus,
    UserId,
)

from .fakes import Harness

CRACKLE = "my headphones crackle"
TABLE = {CRACKLE: [("reset", 90.0)]}
TEAM, TOPIC, BEA = -100123, 55, UserId(777)


def solved(**settings: object) -> Harness:
    h = Harness(TABLE, quiet_hours=None, **settings)
    h.text(CRACKLE)
    h.press(h.button("Yes"))
    return h


def rows(h: Harness, kind: FollowUpKind | None = None) -> list[FollowUp]:
    found = sorted(h.repos.followups.rows.values(), key=lambda f: f.id or 0)
    return [f for f in found if kind is None or f.kind is kind]


def the_ticket(h: Harness) -> Ticket:
    [ticket] = h.tickets()
    return ticket


def team(thread: int, command: str) -> TeamMessage:
    return TeamMessage(TEAM, BEA, "Bea", 500, thread_id=thread, text=f"/{command}", command=command)


def asked(h: Harness) -> Harness:
    """Solved, a day passes, and the bot asks."""
    h.clock.advance(hours=24)
    h.run_followups()
    assert "Is everything working now?" in h.said()
    return h


def test_a_resolution_schedules_one_check_that_is_sent_once_when_due() -> None:
    h = solved()
    [check] = rows(h)
    assert check.kind is FollowUpKind.CHECK and check.status is FollowUpStatus.PENDING
    assert check.due_at == h.clock.now() + timedelta(hours=24)  # FOLLOWUP_DELAY
    h.clock.advance(hours=23, minutes=59)
    assert h.run_followups() == []  # not yet
    h.clock.advance(minutes=1)
    [question] = [e for e in h.run_followups() if isinstance(e, Reply)]
    ref = the_ticket(h).ref
    assert f"about <b>{ref}</b> ({CRACKLE})" in question.text
    labels = [b.label for row in question.buttons for b in row]
    assert labels == ["✅ Yes, all good", "❌ No, still a problem", "⏰ Remind me later"]
    assert rows(h, FollowUpKind.CHECK)[0].status is FollowUpStatus.SENT
    [close] = rows(h, FollowUpKind.CLOSE)
    assert close.due_at == h.clock.now() + timedelta(days=7)  # AUTO_CLOSE_AFTER
    assert h.run_followups() == []  # never twice


def test_yes_asks_for_a_rating_then_a_comment_and_keeps_both() -> None:
    h = asked(solved())
    h.press(h.button("Yes, all good"))
    assert "How would you rate the help" in h.said()
    assert [b.label for e in h.last if isinstance(e, Reply) for r in e.buttons for b in r] == [
        "⭐" * n for n in range(1, 6)
    ]
    four = h.button("⭐⭐⭐⭐")
    h.press(four)
    assert h.state is State.RATING_COMMENT and "tap Skip" in h.said()
    h.text("Quick and kind, thank you <3")
    assert h.conversation().state is State.DESCRIBE and "Thank you for letting us know" in h.said()
    ticket = the_ticket(h)
    assert (ticket.rating, ticket.rating_comment) == (4, "Quick and kind, thank you <3")
    assert ticket.status is TicketStatus.RESOLVED
    assert all(f.status is not FollowUpStatus.PENDING for f in rows(h))  # no quiet close
    h.press(four.replace("|4", "|1"))  # a second rating is not stored
    assert "already rated" in h.said() and the_ticket(h).rating == 4
    h.command("status")
    assert "solved · rated ⭐⭐⭐⭐" in h.said()


def test_skip_leaves_no_comment() -> None:
    h = asked(solved())
    h.press(h.button("Yes, all good"))
    h.press(h.button("⭐⭐⭐⭐⭐"))
    h.press(h.button("Skip"))
    assert h.state is State.DESCRIBE
    assert (the_ticket(h).rating, the_ticket(h).rating_comment) == (5, None)


def test_no_reopens_the_ticket_for_a_person_with_its_history() -> None:
    h = asked(solved())
    h.press(h.button("No, still a problem"))
    ticket = the_ticket(h)
    assert ticket.status is TicketStatus.REOPENED and h.state is State.WITH_AGENT
    assert f"reopened <b>{ticket.ref}</b>" in h.said()
    assert any("says it is not fixed" in n for n in h.notices())
    assert any(isinstance(e, OpenTopic) for e in h.last)  # the bot had solved it alone
    assert ticket.id is not None
    kinds = [e.kind for e in h.repos.ticket_events.for_ticket(ticket.id)]
    assert kinds[-2:] == [TicketEventKind.RESOLVED, TicketEventKind.REOPENED]
    assert [f.status for f in rows(h)] == [FollowUpStatus.ANSWERED, FollowUpStatus.CANCELLED]


def test_no_after_an_agent_resolved_reopens_its_topic() -> None:
    h = Harness(TABLE, quiet_hours=None)
    h.command("human")
    ticket = the_ticket(h)
    ticket.topic_id = TOPIC
    h.repos.tickets.save(ticket)
    h.repos.agents.rows[BEA] = Agent(BEA, "Bea")
    desk = Desk(h.engine.services.responses, h.clock, conversations=h.engine)
    desk.handle(h.repos, team(TOPIC, "resolve"))
    [check] = rows(h)  # /resolve schedules it too
    assert check.due_at == h.clock.now() + timedelta(hours=24)
    asked(h)
    h.press(h.button("No, still a problem"))
    assert ReopenTopic(the_ticket(h).id) in h.last  # type: ignore[arg-type]


def test_close_asks_nothing_again() -> None:
    h = Harness(TABLE, quiet_hours=None)
    h.command("human")
    h.repos.agents.rows[BEA] = Agent(BEA, "Bea")
    ticket = the_ticket(h)
    ticket.topic_id = TOPIC
    h.repos.tickets.save(ticket)
    desk = Desk(h.engine.services.responses, h.clock, conversations=h.engine)
    desk.handle(h.repos, team(TOPIC, "close"))
    assert rows(h) == []


def test_later_asks_when_and_comes_back_then_once() -> None:
    h = asked(solved())
    h.press(h.button("Remind me later"))
    assert "When shall I check in again?" in h.said()
    in_3_days = h.button("In 3 days")
    h.press(in_3_days)
    assert "again in 3 days" in h.said()
    h.press(in_3_days)  # pressed twice: one reminder
    assert "already answered" in h.said()
    checks = rows(h, FollowUpKind.CHECK)
    assert [(f.round, f.status) for f in checks] == [
        (1, FollowUpStatus.ANSWERED),
        (2, FollowUpStatus.PENDING),
    ]
    assert checks[1].due_at == h.clock.now() + timedelta(days=3)
    assert rows(h, FollowUpKind.CLOSE)[0].status is FollowUpStatus.CANCELLED
    h.clock.advance(days=3)
    h.run_followups()
    assert "Is everything working now?" in h.said()
    h.press(h.button("Yes, all good"))
    assert "How would you rate" in h.said()


def test_no_answer_closes_the_ticket_quietly_after_auto_close_after() -> None:
    h = asked(solved())
    yes = h.button("Yes, all good")
    h.clock.advance(days=7)
    assert h.run_followups() == []  # nothing is sent
    ticket = the_ticket(h)
    assert ticket.status is TicketStatus.CLOSED
    assert ticket.id is not None
    closed = h.repos.ticket_events.for_ticket(ticket.id)[-1]
    assert (closed.kind, closed.detail) == (TicketEventKind.CLOSED, "no answer to follow-up")
    h.press(yes)  # the old question, answered too late
    assert "already answered" in h.said() and the_ticket(h).rating is None


def test_a_follow_up_older_than_the_stale_limit_expires_unsent() -> None:
    h = solved()
    h.clock.advance(hours=24 + 72, seconds=1)  # the bot was down all along
    assert h.run_followups() == []
    [check] = rows(h)
    assert check.status is FollowUpStatus.EXPIRED and "FOLLOWUP_STALE_AFTER" in (
        check.last_error or ""
    )
    assert the_ticket(h).status is TicketStatus.RESOLVED


def test_down_for_less_than_the_stale_limit_is_sent_once_after_start() -> None:
    h = solved()
    h.clock.advance(hours=24 + 71)
    assert "Is everything working now?" in "".join(
        e.text for e in h.run_followups() if isinstance(e, Reply)
    )
    assert h.run_followups() == []


@pytest.mark.parametrize(
    "reason",
    ["blocked", "reopened", "cancelled"],
)
def test_nothing_is_sent_when_the_ticket_or_customer_moved_on(reason: str) -> None:
    h = solved()
    ticket = the_ticket(h)
    if reason == "blocked":
        h.repos.customers.blocked.add(ticket.chat_id)
    elif reason == "reopened":  # the customer came back about it on their own
        h.text("it crackles again, worse")
        h.press(h.button("About T-"))
    else:
        ticket.status = TicketStatus.CANCELLED
        h.repos.tickets.save(ticket)
    h.clock.advance(hours=24)
    assert h.run_followups() == []
    assert rows(h)[0].status is FollowUpStatus.CANCELLED


def test_quiet_hours_hold_it_until_the_morning() -> None:
    h = Harness(TABLE, quiet_hours=(21, 9), timezone="Europe/Berlin")
    h.clock.current = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)  # 22:30 in Berlin
    h.text(CRACKLE)
    h.press(h.button("Yes"))
    h.clock.advance(hours=24)
    assert h.run_followups() == []
    [check] = rows(h)
    assert check.status is FollowUpStatus.PENDING
    assert check.due_at == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    h.clock.current = check.due_at
    assert any(isinstance(e, Reply) for e in h.run_followups())


def test_quiet_until_in_local_wall_time_across_a_dst_change() -> None:
    berlin = "Europe/Berlin"
    # 2026-03-29: clocks go forward at 02:00; 23:00 UTC on the 28th is midnight local
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert quiet_until(start, (21, 9), berlin) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert quiet_until(datetime(2026, 3, 29, 12, tzinfo=UTC), (21, 9), berlin) is None
    assert quiet_until(start, None, berlin) is None
    # a window that does not wrap midnight: 12-14 local
    noon = datetime(2026, 7, 1, 10, 30, tzinfo=UTC)  # 12:30 in Berlin (summer time)
    assert quiet_until(noon, (12, 14), berlin) == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def test_someone_elses_or_a_forged_follow_up_button_changes_nothing() -> None:
    h = asked(solved())
    data = h.button("No, still a problem")
    mallory = Person(ChatId(666), 666, name="Mallory")
    effects = h.engine.handle(h.repos, ButtonPress(mallory, data, 9))
    assert any(isinstance(e, Reply) and "expired" in e.text for e in effects)
    assert the_ticket(h).status is TicketStatus.RESOLVED
    assert rows(h, FollowUpKind.CHECK)[0].status is FollowUpStatus.SENT
    h.press("f|999|y")  # no such follow-up
    assert "expired" in h.said()
    h.press("f|1|q")  # not an answer we offer: an expired button like any other
    assert the_ticket(h).status is TicketStatus.RESOLVED
