"""Purchase dates as customers write them: read against the turn's clock, asked when unclear."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import yaml

from flows.model import State, TicketStatus
from flows.text import DateOrder, purchase_dates
from knowledge.responses import Responses, default_responses_path

from .fakes import Harness

PAIRING = "my headphones will not pair with my phone"
TABLE = {PAIRING: [("pairing", 88.0), ("reset", 60.0), ("charging", 30.0)]}
TODAY = date(2026, 11, 25)  # the fakes' FixedClock
EXPIRED = "That choice has expired"  # Say.CHOICE_EXPIRED


def read(text: str, order: DateOrder = "DMY", today: date = TODAY) -> tuple[date, ...]:
    return purchase_dates(text, today=today, order=order)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yesterday", date(2026, 11, 24)),
        ("today", TODAY),
        ("last week", date(2026, 11, 18)),
        ("two weeks ago", date(2026, 11, 11)),
        ("a month ago", date(2026, 10, 25)),
        ("3 days ago", date(2026, 11, 22)),
        ("a couple of weeks ago", date(2026, 11, 11)),
        ("last Friday", date(2026, 11, 20)),  # 25 November 2026 is a Wednesday
        ("I bought it yesterday!", date(2026, 11, 24)),
    ],
)
def test_relative_phrases_count_back_from_today(text: str, expected: date) -> None:
    assert read(text) == (expected,)


def test_relative_phrases_use_the_turns_clock_not_the_machines() -> None:
    assert read("yesterday", today=date(2031, 3, 1)) == (date(2031, 2, 28),)
    assert read("two weeks ago", today=date(2019, 1, 10)) == (date(2018, 12, 27),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nov 5", date(2026, 11, 5)),
        ("5 November", date(2026, 11, 5)),
        ("1st of August 2026", date(2026, 8, 1)),
        ("november 5, 2026", date(2026, 11, 5)),
        ("2026-11-02", date(2026, 11, 2)),  # ISO, whatever DATE_ORDER says
        ("2026/11/02", date(2026, 11, 2)),
    ],
)
@pytest.mark.parametrize("order", ["DMY", "MDY", "YMD"])
def test_named_months_and_iso_read_the_same_in_every_order(
    text: str, expected: date, order: DateOrder
) -> None:
    assert read(text, order) == (expected,)


def test_a_named_month_without_a_year_is_the_latest_one_so_far() -> None:
    assert read("Nov 5", today=date(2026, 11, 3)) == (date(2025, 11, 5),)


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("13/05/2026", "DMY", date(2026, 5, 13)),  # no month 13: one reading
        ("13/05/2026", "MDY", date(2026, 5, 13)),
        ("05/13/2026", "MDY", date(2026, 5, 13)),
        ("24.11.2026", "DMY", date(2026, 11, 24)),
        ("11-24-26", "MDY", date(2026, 11, 24)),
        ("05/05/2026", "DMY", date(2026, 5, 5)),  # the same both ways
    ],
)
def test_numeric_dates_with_one_reading(text: str, order: DateOrder, expected: date) -> None:
    assert read(text, order) == (expected,)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("DMY", (date(2026, 5, 11), date(2026, 11, 5))),
        ("MDY", (date(2026, 11, 5), date(2026, 5, 11))),
    ],
)
def test_a_numeric_date_that_reads_two_ways_gives_both_in_date_order_first(
    order: DateOrder, expected: tuple[date, date]
) -> None:
    assert read("11/05/2026", order) == expected
    assert read("11.05.26", order) == expected


@pytest.mark.parametrize(
    "text",
    ["", "dunno", "help", "no", "cancel", "5", "2025", "12:30", "December 2025", "May", "soon"],
)
def test_what_is_not_a_day_is_not_read(text: str) -> None:
    assert read(text) == ()


def test_dates_are_formatted_in_the_catalogues_language() -> None:
    catalogue = yaml.safe_load(default_responses_path().read_text(encoding="utf-8"))["en"]
    assert Responses(catalogue, language="en").day(date(2026, 11, 5)) == "November 5, 2026"
    assert Responses(catalogue, language="ru").day(date(2026, 11, 5)) == "5 ноября 2026\u202fг."


# ---- the conversation --------------------------------------------------------------------


@pytest.fixture
def bot() -> Harness:
    return at_purchase_date(Harness(TABLE))


def at_purchase_date(bot: Harness) -> Harness:
    bot.text(PAIRING)
    bot.press(bot.button("No"))
    bot.press(bot.button("No"))
    bot.text("NW-123456")
    assert bot.state is State.PURCHASE_DATE
    return bot


def bought(bot: Harness) -> date | None:
    [ticket] = bot.tickets()
    return ticket.purchase_date


def test_a_relative_date_requests_the_replacement(bot: Harness) -> None:
    bot.text("two weeks ago")
    assert bought(bot) == bot.clock.now().date() - timedelta(days=14)
    assert bot.tickets()[0].status is TicketStatus.REPLACEMENT_REQUESTED
    assert "requested a replacement for order <b>NW-123456</b>" in bot.said()


def test_the_clock_of_the_turn_decides_what_yesterday_is(bot: Harness) -> None:
    bot.clock.advance(days=40)
    bot.text("yesterday")
    assert bought(bot) == date(2027, 1, 3)


def test_a_named_month_is_read(bot: Harness) -> None:
    bot.text("Nov 5")
    assert bought(bot) == date(2026, 11, 5)


def test_a_numeric_date_is_read_in_date_order() -> None:
    dmy = at_purchase_date(Harness(TABLE))
    dmy.text("12/11/2026")  # 12 November (11 December would still be ahead)
    assert bought(dmy) == date(2026, 11, 12)
    mdy = at_purchase_date(Harness(TABLE, date_order="MDY"))
    mdy.text("11/12/2026")
    assert bought(mdy) == date(2026, 11, 12)


def test_an_ambiguous_date_asks_with_both_readings_and_a_press_continues(bot: Harness) -> None:
    bot.text("11/05/2026")
    assert "did you mean <b>May 11, 2026</b> or <b>November 5, 2026</b>?" in bot.said()
    assert bot.state is State.PURCHASE_DATE and bought(bot) is None
    bot.press(bot.button("November 5, 2026"))
    assert bought(bot) == date(2026, 11, 5)  # 20 days: within the 30-day window
    assert bot.tickets()[0].status is TicketStatus.REPLACEMENT_REQUESTED
    assert bot.conversation().state is State.WITH_AGENT


def test_the_other_reading_pressed_is_the_one_taken(bot: Harness) -> None:
    bot.text("11/05/2026")
    bot.press(bot.button("May 11, 2026"))
    assert bought(bot) == date(2026, 5, 11)
    assert "past the replacement window of 30 days" in bot.said()


def test_the_ambiguous_question_offers_a_person_too(bot: Harness) -> None:
    bot.text("11/05/2026")
    bot.button("Talk to a person")


def test_typing_a_date_at_the_question_answers_it(bot: Harness) -> None:
    bot.text("11/05/2026")
    bot.text("5 November")
    assert bought(bot) == date(2026, 11, 5)


@pytest.mark.parametrize("arg", ["2", "9"])
def test_a_press_on_a_reading_never_offered_changes_nothing(bot: Harness, arg: str) -> None:
    bot.text("11/05/2026")
    step = bot.button("May 11").split("|")[0]
    bot.press(f"{step}|p|{arg}")
    assert EXPIRED in bot.said()
    assert bot.state is State.PURCHASE_DATE and bought(bot) is None


def test_a_reading_is_taken_from_the_conversation_never_from_the_button(bot: Harness) -> None:
    bot.text("11/05/2026")
    data = bot.button("May 11")
    bot.repos.conversations.rows[42].data["date_choices"] = ["not a date", "2026-11-20"]
    bot.press(data)  # index 0 now points at nothing readable
    assert EXPIRED in bot.said()
    assert bot.state is State.PURCHASE_DATE and bought(bot) is None
    bot.press(data.replace("|p|0", "|p|1"))
    assert bought(bot) == date(2026, 11, 20)  # what the conversation offered, by index


def test_a_future_date_is_questioned_not_accepted(bot: Harness) -> None:
    bot.text("in 3 days")
    assert "still ahead" in bot.said()
    assert bot.state is State.PURCHASE_DATE and bought(bot) is None
    bot.text("12/12/2026")  # 12 December both ways: ahead
    assert "still ahead" in bot.said() and bought(bot) is None


def test_an_unreadable_date_gets_an_example(bot: Harness) -> None:
    bot.text("a while back")
    assert "couldn't read that as a date" in bot.said() and "5 November" in bot.said()
    assert bot.state is State.PURCHASE_DATE and bought(bot) is None


def test_the_customers_language_is_read_and_an_unknown_one_falls_back_to_english() -> None:
    assert purchase_dates("вчера", today=TODAY, languages=("ru-RU",)) == (date(2026, 11, 24),)
    assert purchase_dates("hace 2 semanas", today=TODAY, languages=("es",)) == (date(2026, 11, 11),)
    assert purchase_dates("вчера", today=TODAY) == ()  # English only: not a date
    assert purchase_dates("yesterday", today=TODAY, languages=("xx",)) == (date(2026, 11, 24),)
