"""What the flows keep for the admins' loop: questions the knowledge missed, symptoms
proposed from what fixed a problem, and the ticket events the report counts."""

from __future__ import annotations

import pytest

from flows.learning import SuggestionSource, UnmatchedReason
from flows.model import Agent, TicketEventKind, UserId

from .fakes import Harness
from .test_desk import TOPIC, team

PAIRING = "my headphones will not pair with my phone"
VAGUE = "something about sound"
CHEESE = "the moon is made of cheese"
TABLE = {
    PAIRING: [("pairing", 88.0), ("reset", 60.0), ("charging", 30.0)],
    VAGUE: [("reset", 55.0), ("pairing", 50.0), ("delivery", 20.0)],
    CHEESE: [("delivery", 12.0)],
    "still nothing useful": [("delivery", 10.0)],
}


@pytest.fixture
def bot() -> Harness:
    return Harness(TABLE)


def kinds(bot: Harness) -> list[tuple[TicketEventKind, str | None]]:
    return [(e.kind, e.detail) for e in bot.repos.ticket_events.events]


def test_an_unknown_description_is_kept_each_time_in_the_customers_words(bot: Harness) -> None:
    bot.text(CHEESE)
    bot.text("still nothing useful")
    records = bot.repos.unmatched.records
    assert [(r.text, r.reason) for r in records] == [
        (CHEESE, UnmatchedReason.UNKNOWN),
        ("still nothing useful", UnmatchedReason.UNKNOWN),  # not joined with the first
    ]
    assert records[1].ticket_id is not None and records[0].chat_id == bot.person.chat_id
    assert (TicketEventKind.ESCALATED, "no_match") in kinds(bot)


def test_none_of_these_keeps_the_description(bot: Harness) -> None:
    bot.text(VAGUE)
    bot.press(bot.button("None of these"))
    assert [(r.text, r.reason) for r in bot.repos.unmatched.records] == [
        (VAGUE, UnmatchedReason.NONE_FIT)
    ]


def test_a_confident_fix_that_works_teaches_nothing_and_is_counted(bot: Harness) -> None:
    bot.text(PAIRING)
    bot.press(bot.button("Yes"))
    assert bot.repos.unmatched.records == [] and bot.repos.suggestions.rows == []
    assert (TicketEventKind.FIX_SHOWN, "pairing") in kinds(bot)
    assert (TicketEventKind.FIX_WORKED, "pairing") in kinds(bot)


def test_fixes_that_all_fail_are_kept_and_each_failure_counted() -> None:
    bot = Harness(TABLE, max_attempts=1)
    bot.text(VAGUE)
    bot.press(bot.button("Reset the headphones"))
    bot.press(bot.button("No"))
    assert (TicketEventKind.FIX_FAILED, "reset") in kinds(bot)
    assert [(r.text, r.reason) for r in bot.repos.unmatched.records] == [
        (VAGUE, UnmatchedReason.FIXES_FAILED)
    ]
    assert (TicketEventKind.ESCALATED, "not_fixed") in kinds(bot)


def test_a_fix_picked_after_did_you_mean_proposes_the_words_once_it_works(bot: Harness) -> None:
    bot.text(VAGUE)
    bot.press(bot.button("Reset the headphones"))
    assert bot.repos.suggestions.rows == []  # not before the customer says it worked
    bot.press(bot.button("Yes"))
    [suggestion] = bot.repos.suggestions.rows
    assert (suggestion.entry_id, suggestion.text, suggestion.source) == (
        "reset",
        VAGUE,
        SuggestionSource.PICKED,
    )


def test_a_picked_fix_that_fails_proposes_nothing(bot: Harness) -> None:
    bot.text(VAGUE)
    bot.press(bot.button("Reset the headphones"))
    bot.press(bot.button("No"))
    assert bot.repos.suggestions.rows == []


def test_a_replacement_request_is_an_event() -> None:
    bot = Harness({"my watch came cracked": [("cracked", 90.0)]})
    bot.text("my watch came cracked")
    bot.text("A-12345")
    bot.text("yesterday")
    assert (TicketEventKind.REPLACEMENT_REQUESTED, "cracked") in kinds(bot)


def _with_team(bot: Harness) -> None:
    """Ann describes something the knowledge misses twice, and it goes to the team."""
    bot.text(CHEESE)
    bot.text("still nothing useful")
    [ticket] = bot.tickets()
    ticket.topic_id = TOPIC
    bot.repos.tickets.save(ticket)
    bot.repos.agents.rows[UserId(777)] = Agent(UserId(777), "Bea")


def test_an_agents_fix_that_works_proposes_the_customers_words(bot: Harness) -> None:
    _with_team(bot)
    bot.last = team(bot, "/fix delivery")  # type: ignore[assignment]
    bot.press(bot.button("Yes"))
    [suggestion] = bot.repos.suggestions.rows
    assert suggestion.entry_id == "delivery" and suggestion.source is SuggestionSource.AGENT
    assert suggestion.text == f"{CHEESE}\nstill nothing useful"  # the ticket's description


def test_an_agent_who_resolves_after_fix_proposes_the_words(bot: Harness) -> None:
    _with_team(bot)
    team(bot, "/fix delivery")
    team(bot, "/resolve")
    [suggestion] = bot.repos.suggestions.rows
    assert suggestion.entry_id == "delivery" and suggestion.source is SuggestionSource.AGENT


def test_resolving_without_fix_proposes_nothing(bot: Harness) -> None:
    _with_team(bot)
    team(bot, "/resolve")
    assert bot.repos.suggestions.rows == []


def test_a_customer_who_only_asked_for_a_person_teaches_nothing(bot: Harness) -> None:
    bot.command("human")
    [ticket] = bot.tickets()
    ticket.topic_id = TOPIC
    bot.repos.tickets.save(ticket)
    bot.repos.agents.rows[UserId(777)] = Agent(UserId(777), "Bea")
    bot.last = team(bot, "/fix delivery")  # type: ignore[assignment]
    bot.press(bot.button("Yes"))
    assert bot.repos.suggestions.rows == []
