"""Order numbers as customers write them, and a way out for a customer without one."""

from __future__ import annotations

import re

import pytest

from flows.model import NotifyAgents, Reply, State, TicketStatus
from flows.text import DEFAULT_ORDER_PATTERN, no_order_number, order_number, order_pattern

from .fakes import Harness

PAIRING = "my headphones will not pair with my phone"
TABLE = {PAIRING: [("pairing", 88.0), ("reset", 60.0), ("charging", 30.0)]}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("NW-123456", "NW-123456"),
        ("order NW 123456", "NW-123456"),
        ("NW123456", "NW-123456"),
        ("nw-123456", "NW-123456"),
        ("#NW-123456", "NW-123456"),
        ("NW_123456", "NW-123456"),
        ("Order number: nw 123456", "NW-123456"),
        ("my order is NW-123456.", "NW-123456"),
        ("#123456", "123456"),
        ("123-4567890", "123-4567890"),
        ("123 4567890", "123-4567890"),
        ("A1B2C3D4", "A1B2C3D4"),
        ("a1b2c3d4", "A1B2C3D4"),
    ],
)
def test_what_shops_use_is_accepted_and_normalised(typed: str, expected: str) -> None:
    assert order_number(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "dunno",
        "help",
        "cancel",
        "no",
        "order",
        "12",
        "NW-1",
        "what?",
        "my headphones",
        "",
        "9" * 30,
    ],
)
def test_words_and_scraps_are_refused(typed: str) -> None:
    assert order_number(typed) is None


def test_a_shops_own_pattern_decides_the_written_form() -> None:
    compact = order_pattern(r"NW\d{6}")
    assert order_number("nw-123456", compact) == "NW123456"
    assert order_number("order NW 123456", compact) == "NW123456"
    assert order_number("123456", compact) is None
    assert order_number("nw-123456", order_pattern(r"NW-\d{6}")) == "NW-123456"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (r"[A-Z", re.error),
        (r"[A-Z]+", ValueError),  # takes "HELP"
        (r"\d*", ValueError),  # takes nothing at all
    ],
)
def test_a_pattern_that_accepts_words_or_nothing_is_refused(
    source: str, problem: type[Exception]
) -> None:
    with pytest.raises(problem):
        order_pattern(source)


def test_the_default_pattern_passes_its_own_checks() -> None:
    assert DEFAULT_ORDER_PATTERN.pattern == order_pattern(DEFAULT_ORDER_PATTERN.pattern).pattern


@pytest.mark.parametrize(
    "typed",
    [
        "I don't have it",
        "I don\u2019t have one",
        "no order number",
        "don't know",
        "i dont know",
        "dunno",
        "no idea",
        "I can't find it",
        "I have no order number",
    ],
)
def test_saying_there_is_no_order_number_is_understood(typed: str) -> None:
    assert no_order_number(typed)


@pytest.mark.parametrize("typed", ["NW-123456", "no", "help", "order NW 123456", "nope"])
def test_other_answers_are_not_taken_for_having_none(typed: str) -> None:
    assert not no_order_number(typed)


# ---- the conversation --------------------------------------------------------------------


def at_order_number(bot: Harness) -> Harness:
    bot.text(PAIRING)
    bot.press(bot.button("No"))
    bot.press(bot.button("No"))
    assert bot.state is State.ORDER_NUMBER
    return bot


@pytest.fixture
def bot() -> Harness:
    return at_order_number(Harness(TABLE))


def labels(bot: Harness) -> list[str]:
    return [b.label for e in bot.last if isinstance(e, Reply) for row in e.buttons for b in row]


@pytest.mark.parametrize("typed", ["order NW 123456", "#nw-123456", "NW123456"])
def test_a_written_order_number_is_stored_normalised(bot: Harness, typed: str) -> None:
    bot.text(typed)
    assert bot.state is State.PURCHASE_DATE
    assert bot.tickets()[0].order_number == "NW-123456"


@pytest.mark.parametrize("typed", ["help", "cancel", "no", "what?"])
def test_words_are_not_order_numbers(bot: Harness, typed: str) -> None:
    bot.text(typed)
    assert "couldn't read that as an order number" in bot.said()
    assert bot.state is State.ORDER_NUMBER and bot.tickets()[0].order_number is None


def test_the_question_offers_i_dont_have_it(bot: Harness) -> None:
    assert labels(bot) == ["🤷 I don't have it", "🙋 Talk to a person"]


def assert_with_a_person_without_an_order_number(bot: Harness) -> None:
    assert bot.state is State.WITH_AGENT
    [ticket] = bot.tickets()
    assert ticket.status is TicketStatus.WAITING_AGENT and ticket.order_number is None
    [card] = [e.text for e in bot.last if isinstance(e, NotifyAgents) and e.card]
    assert "the customer has no order number" in card
    assert PAIRING in card and "pairing" in card  # what they wrote and what was tried
    assert "passed this to our support team" in bot.said()


def test_i_dont_have_it_pressed_hands_over_with_what_was_gathered(bot: Harness) -> None:
    bot.press(bot.button("I don't have it"))
    assert_with_a_person_without_an_order_number(bot)


def test_i_dont_have_it_typed_hands_over_too(bot: Harness) -> None:
    bot.text("I don't have one")
    assert_with_a_person_without_an_order_number(bot)


def test_after_two_unreadable_numbers_the_ways_out_are_offered_again(bot: Harness) -> None:
    bot.text("what?")
    assert labels(bot) == []  # the first time: just asked again, the buttons above still work
    bot.text("help")
    assert "If you don't have it, tap" in bot.said()
    assert labels(bot) == ["🤷 I don't have it", "🙋 Talk to a person"]
    bot.text("no")
    assert labels(bot) == ["🤷 I don't have it", "🙋 Talk to a person"]  # and every time after
    bot.press(bot.button("I don't have it"))
    assert_with_a_person_without_an_order_number(bot)


def test_a_good_number_after_bad_ones_carries_on(bot: Harness) -> None:
    bot.text("what?")
    bot.text("help")
    bot.text("NW 123456")
    assert bot.state is State.PURCHASE_DATE and "order_tries" not in bot.conversation().data


def test_with_nobody_to_answer_the_way_out_says_how_to_reach_the_shop() -> None:
    bot = at_order_number(Harness(TABLE, escalation=False, support_contact="help@shop.example"))
    assert labels(bot) == ["🤷 I don't have it"]
    bot.text("what?")
    bot.text("help")
    assert "I'll tell you how to reach the shop" in bot.said()
    bot.press(bot.button("I don't have it"))
    assert "help@shop.example" in bot.said()
    assert bot.state is State.DESCRIBE


def test_the_shops_pattern_is_used() -> None:
    bot = at_order_number(Harness(TABLE, order_number_pattern=order_pattern(r"NW\d{6}")))
    bot.text("123456")
    assert bot.state is State.ORDER_NUMBER
    bot.text("nw-123456")
    assert bot.tickets()[0].order_number == "NW123456"
