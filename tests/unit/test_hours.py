"""SUPPORT_HOURS: what parses, what is refused and how, when the team is in, and what the
customer reads about it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from flows.hours import HoursError, Span, SupportHours, parse_hours
from flows.model import TicketEvent, TicketEventKind, TicketId
from knowledge.responses import Responses, Say, default_responses_path

from .fakes import Harness

BERLIN = ZoneInfo("Europe/Berlin")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
NINE, SIX_PM = 9 * 60, 18 * 60


def hours(text: str, zone: ZoneInfo = BERLIN) -> SupportHours:
    parsed = parse_hours(text, zone)
    assert parsed is not None
    return parsed


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ---- reading the setting --------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", " ; , "])
def test_nothing_written_means_no_hours_are_known(text: str) -> None:
    assert parse_hours(text, BERLIN) is None


def test_a_range_of_days() -> None:
    assert hours("Mon-Fri 09:00-18:00").spans == tuple(
        Span(day, NINE, SIX_PM) for day in (MON, TUE, WED, THU, FRI)
    )


def test_several_spans_by_comma_or_semicolon_single_days_and_24_00() -> None:
    parsed = hours("Mon-Tue 09:00-18:00, Sat 10:00-14:00; sunday 9:30-24:00")
    assert parsed.spans == (
        Span(MON, NINE, SIX_PM),
        Span(TUE, NINE, SIX_PM),
        Span(SAT, 600, 840),
        Span(SUN, 570, 1440),
    )


def test_a_range_of_days_wraps_round_the_week() -> None:
    assert [s.weekday for s in hours("Fri-Mon 10:00-12:00").spans] == [FRI, SAT, SUN, MON]
    assert [s.weekday for s in hours("Sun-Mon 10:00-12:00").spans] == [SUN, MON]


def test_spaces_and_case_are_forgiven() -> None:
    assert hours("  MON - fri   09:00 - 18:00 ").spans == hours("Mon-Fri 09:00-18:00").spans


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mon-Fry 09:00-18:00", "'Mon-Fry 09:00-18:00': unknown day 'Fry'"),
        ("Mon-Fri 09:00-18:00, Sat 10:00-14:00, Son 10:00-12:00", "unknown day 'Son'"),
        ("Mon-Fri", "'Mon-Fri': expected days and a time of day, e.g. 'Mon-Fri 09:00-18:00"),
        ("09:00-18:00", "'09:00-18:00': expected days and a time of day"),
        ("Mon Tue 09:00-18:00", "'Mon Tue 09:00-18:00': expected days and a time of day"),
        ("Mon-Fri 9-18", "'Mon-Fri 9-18': '9' is not a time of day like 09:00"),
        ("Mon-Fri 09:00", "'Mon-Fri 09:00': expected days and a time of day"),
        ("Mon 09:60-10:00", "'Mon 09:60-10:00': '09:60' is not a time of day (00:00 to 23:59)"),
        ("Mon 24:00-24:00", "'24:00' is not a time of day (00:00 to 23:59)"),
        ("Mon 09:00-24:30", "'24:30' is not a time of day (00:00 to 24:00)"),
        ("Mon 18:00-09:00", "'Mon 18:00-09:00': ends at 09:00, not after it starts (18:00)"),
        ("Mon 09:00-09:00", "ends at 09:00, not after it starts (09:00)"),
        ("Mon-Mon 09:00-10:00", "a range from a day to the same day"),
        ("Mon-Fri 09:00-18:00,, Sat 10:00-14:00", "an empty part between commas"),
        ("Mon-Tue-Wed 09:00-18:00", "expected days and a time of day"),
    ],
)
def test_a_wrong_value_names_the_part_and_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(HoursError) as caught:
        parse_hours(text, BERLIN)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


# ---- open or not, and when next -------------------------------------------------------
# 2026-11-23 is a Monday; Berlin is on CET (UTC+1) then.


def test_open_from_the_first_minute_to_before_the_last() -> None:
    week = hours("Mon-Fri 09:00-18:00")
    assert not week.is_open(utc(2026, 11, 23, 7, 59))  # 08:59 in Berlin
    assert week.is_open(utc(2026, 11, 23, 8, 0))  # 09:00
    assert week.is_open(utc(2026, 11, 23, 16, 59))  # 17:59
    assert not week.is_open(utc(2026, 11, 23, 17, 0))  # 18:00
    assert not week.is_open(utc(2026, 11, 28, 10, 0))  # Saturday


def test_24_00_keeps_it_open_to_midnight_and_wrapped_days_are_open() -> None:
    weekend = hours("Fri-Mon 20:00-24:00")
    assert weekend.is_open(utc(2026, 11, 23, 22, 59))  # Monday 23:59
    assert not weekend.is_open(utc(2026, 11, 23, 23, 0))  # Tuesday 00:00
    assert weekend.is_open(utc(2026, 11, 29, 19, 30))  # Sunday 20:30
    assert not weekend.is_open(utc(2026, 11, 25, 19, 30))  # Wednesday 20:30


def test_the_next_opening() -> None:
    week = hours("Mon-Fri 09:00-18:00, Sat 10:00-14:00")
    monday_ten = utc(2026, 11, 23, 9, 0)
    assert week.next_opening(monday_ten) == monday_ten  # open: now
    assert week.next_opening(utc(2026, 11, 23, 5, 0)) == utc(2026, 11, 23, 8, 0)  # today
    assert week.next_opening(utc(2026, 11, 23, 17, 0)) == utc(2026, 11, 24, 8, 0)  # tomorrow
    assert week.next_opening(utc(2026, 11, 28, 13, 0)) == utc(2026, 11, 30, 8, 0)  # Sat 14:00
    opening = week.next_opening(utc(2026, 11, 27, 20, 0))  # Friday night
    assert opening == utc(2026, 11, 28, 9, 0)  # Saturday 10:00
    assert opening.tzinfo is BERLIN and opening.hour == 10  # told on Berlin's clocks


def test_the_next_opening_a_week_on() -> None:
    mondays = hours("Mon 09:00-10:00")
    assert mondays.next_opening(utc(2026, 11, 23, 9, 0)) == utc(2026, 11, 30, 8, 0)


def test_hours_in_another_zone_than_utc_keep_that_zones_days() -> None:
    pacific = hours("Mon-Fri 09:00-17:00", ZoneInfo("America/Los_Angeles"))
    sunday_evening = utc(2026, 11, 23, 3, 0)  # Monday in UTC, Sunday 19:00 in California
    assert not pacific.is_open(sunday_evening)
    assert pacific.next_opening(sunday_evening) == utc(2026, 11, 23, 17, 0)


# ---- the clocks change: 2026-03-29 02:00 -> 03:00 and 2026-10-25 03:00 -> 02:00 in Berlin


def test_the_spring_change_week_opens_at_nine_on_the_clocks_there() -> None:
    week = hours("Mon-Fri 09:00-18:00")
    friday_evening = utc(2026, 3, 27, 17, 30)  # 18:30 CET
    assert not week.is_open(friday_evening)
    assert week.next_opening(friday_evening) == utc(2026, 3, 30, 7, 0)  # 09:00 CEST
    assert not week.is_open(utc(2026, 3, 30, 6, 30))  # 08:30 CEST (09:30 by the old offset)
    assert week.is_open(utc(2026, 3, 30, 7, 0))
    assert week.is_open(utc(2026, 3, 30, 15, 59))  # 17:59 CEST
    assert not week.is_open(utc(2026, 3, 30, 16, 0))  # 18:00 CEST


def test_the_autumn_change_week_opens_at_nine_on_the_clocks_there() -> None:
    week = hours("Mon-Fri 09:00-18:00")
    assert week.next_opening(utc(2026, 10, 24, 12, 0)) == utc(2026, 10, 26, 8, 0)  # 09:00 CET
    assert week.is_open(utc(2026, 10, 23, 7, 0))  # Friday 09:00 CEST
    assert not week.is_open(utc(2026, 10, 26, 7, 30))  # 08:30 CET


def test_an_opening_the_spring_change_skips_opens_when_the_clocks_jump() -> None:
    night = hours("Sun 02:30-04:00")
    assert night.next_opening(utc(2026, 3, 28, 23, 0)) == utc(2026, 3, 29, 1, 0)  # 03:00 CEST
    assert not night.is_open(utc(2026, 3, 29, 0, 59))  # 01:59 CET


def test_an_opening_the_autumn_change_shows_twice_opens_each_time() -> None:
    night = hours("Sun 02:30-02:40")
    # (compared in UTC: Python never finds a time in the hour shown twice equal to another
    # zone's; PEP 495)
    first = night.next_opening(utc(2026, 10, 24, 23, 0))
    assert first.astimezone(UTC) == utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    second = night.next_opening(utc(2026, 10, 25, 0, 45))
    assert second.astimezone(UTC) == utc(2026, 10, 25, 1, 30)  # 02:30 CET
    assert (first.hour, first.minute, second.hour, second.minute) == (2, 30, 2, 30)


@pytest.mark.parametrize(
    "text",
    [
        "Mon-Fri 09:00-18:00",
        "Sun 02:30-04:00",
        "Sun 02:00-02:15, Sun 02:45-03:30",
        "Sun 01:00-02:30",  # the autumn change goes back into it
        "Sat-Sun 00:00-24:00",
        "Fri-Mon 20:00-24:00, Tue 00:00-01:00",
    ],
)
@pytest.mark.parametrize("start", [utc(2026, 3, 26, 22, 7), utc(2026, 10, 22, 23, 13)])
def test_the_next_opening_is_the_first_open_minute(text: str, start: datetime) -> None:
    """Checked against every minute of the weeks the clocks change in."""
    week = hours(text)
    minutes = [start + timedelta(minutes=n) for n in range(11 * 24 * 60)]
    first_open: list[datetime | None] = [None] * len(minutes)  # at or after each minute
    later = None
    for n in reversed(range(len(minutes))):
        later = minutes[n] if week.is_open(minutes[n]) else later
        first_open[n] = later
    for n in range(0, 4 * 24 * 60, 7):  # four days, every 7th minute
        assert first_open[n] is not None
        opening = week.next_opening(minutes[n]).astimezone(UTC)  # see the test above
        assert opening == first_open[n], (text, minutes[n])


# ---- what the customer reads ----------------------------------------------------------

AWAY = "Our team is away right now and back on"


def customer(text: str | None, now: datetime, zone: ZoneInfo = BERLIN) -> Harness:
    """Ann, with SUPPORT_HOURS ``text`` (None: not set) in ``zone``, at ``now``."""
    h = Harness(hours=parse_hours(text, zone) if text is not None else None)
    h.clock.current = now
    return h


def test_outside_hours_the_hand_over_and_status_say_when_the_team_is_back() -> None:
    h = customer("Mon-Fri 09:00-18:00", utc(2026, 3, 28, 15, 0))  # Saturday, spring change
    h.command("human")
    back = f"{AWAY} Monday at 09:00 (Europe/Berlin time)."
    assert back in h.said()
    assert "You're number 1 in line." in h.said()
    h.clock.advance(hours=20)  # Sunday; the clocks have changed in between
    h.command("status")
    assert back in h.said()
    assert "waiting for a person" in h.said()


def test_it_is_said_on_the_teams_clocks_not_the_servers() -> None:
    pacific = ZoneInfo("America/Los_Angeles")
    h = customer("Mon-Fri 09:00-17:00", utc(2026, 11, 23, 3, 0), pacific)  # Sun 19:00 there
    h.command("human")
    assert f"{AWAY} Monday at 09:00 (America/Los_Angeles time)." in h.said()
    h = customer("Mon-Fri 09:00-17:00, Sat 10:00-14:00", utc(2026, 11, 27, 1, 30), pacific)
    h.command("human")  # Thursday 17:30 in California, Friday in UTC
    assert f"{AWAY} Friday at 09:00 (America/Los_Angeles time)." in h.said()


def test_the_same_day_when_the_team_is_in_later_today() -> None:
    h = customer("Mon-Fri 09:00-18:00", utc(2026, 3, 30, 5, 0))  # Monday 07:00 in Berlin
    h.command("human")
    assert f"{AWAY} Monday at 09:00 (Europe/Berlin time)." in h.said()


def test_inside_hours_nothing_is_said_about_hours() -> None:
    h = customer("Mon-Fri 09:00-18:00", utc(2026, 3, 30, 7, 0))  # Monday 09:00 in Berlin
    h.command("human")
    assert "You're number 1 in line." in h.said()
    assert "away" not in h.said()
    h.command("status")
    assert "away" not in h.said() and "waiting for a person" in h.said()


def test_without_hours_nothing_is_said_about_them_at_any_time() -> None:
    h = customer(None, utc(2026, 3, 28, 23, 0))  # Saturday night
    h.command("human")
    assert "You're number 1 in line." in h.said()
    assert "away" not in h.said()


def add_first_replies(h: Harness, minutes: tuple[int, ...]) -> None:
    for n, wait in enumerate(minutes, start=100):
        handed = h.clock.now() - timedelta(days=n)
        h.repos.ticket_events.add(TicketEvent(TicketId(n), TicketEventKind.ESCALATED, handed))
        replied = handed + timedelta(minutes=wait)
        h.repos.ticket_events.add(TicketEvent(TicketId(n), TicketEventKind.AGENT_REPLIED, replied))


def test_the_usual_wait_counts_from_the_teams_return_when_it_is_away() -> None:
    h = customer("Mon-Fri 09:00-18:00", utc(2026, 3, 28, 15, 0))
    add_first_replies(h, (10, 50, 20, 40, 30))
    h.command("human")
    lines = h.said().splitlines()
    assert lines[-2].startswith(f"{AWAY} Monday at 09:00")
    once_back = "Once they're back, the first reply has lately come within about 30 minutes."
    assert lines[-1] == once_back
    h.clock.current = utc(2026, 3, 30, 8, 0)  # Monday 10:00: in
    h.command("status")
    assert "away" not in h.said() and "back" not in h.said()
    assert "Lately, the first reply has come within about 30 minutes." in h.said()


def test_the_day_and_time_are_in_the_customers_language() -> None:
    catalogue = yaml.safe_load(default_responses_path().read_text(encoding="utf-8"))["en"]
    german = Responses(catalogue, language="de")  # the English sentences; Babel's German
    monday_nine = datetime(2026, 3, 30, 9, 0, tzinfo=BERLIN)
    assert (german.weekday(monday_nine), german.clock_time(monday_nine)) == ("Montag", "09:00")
    english = Responses.load()
    assert (english.weekday(monday_nine), english.clock_time(monday_nine)) == ("Monday", "09:00")
    late = datetime(2026, 3, 29, 23, 30, tzinfo=UTC)  # told in its own zone, not the server's
    assert english.weekday(late.astimezone(BERLIN)) == "Monday"
    assert english.clock_time(late.astimezone(BERLIN)) == "01:30"


def test_no_hand_over_sentence_promises_a_quick_reply() -> None:
    """Outside hours the team is away: nothing the customer reads may say it is quick."""
    responses = Responses.load()
    for key in (
        Say.ESCALATED,
        Say.ESCALATED_NO_MATCH,
        Say.WITH_AGENT_ACK,
        Say.ALREADY_WITH_AGENT,
        Say.WELCOME_BACK_WAITING,
        Say.REPLACEMENT_RECORDED,
        Say.REPLACEMENT_NOT_ELIGIBLE,
        Say.TEAM_AWAY,
    ):
        text = responses.text(key, **{name: "x" for name in key.placeholders}).lower()
        for promise in ("soon", "shortly", "in a moment", "right away", "minutes", "quick"):
            assert promise not in text, (key, promise)
