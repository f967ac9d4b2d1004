"""bot.period: --since / --until (and /stats 30d) as admins type them, against a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.period import EmptyPeriod, Unreadable, moment, period

NOW = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)  # a Wednesday
BERLIN = ZoneInfo("Europe/Berlin")  # UTC+1 in March, before the clocks change


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", datetime(2026, 2, 16, 15, 30, tzinfo=UTC)),
        ("24h", datetime(2026, 3, 17, 15, 30, tzinfo=UTC)),
        ("2w", datetime(2026, 3, 4, 15, 30, tzinfo=UTC)),
        ("1h30m", datetime(2026, 3, 18, 14, 0, tzinfo=UTC)),
        (" 0 ", NOW),
        ("7", datetime(2026, 3, 11, 15, 30, tzinfo=UTC)),  # a bare number is days
        ("30", datetime(2026, 2, 16, 15, 30, tzinfo=UTC)),
        ("2026-03-01", datetime(2026, 2, 28, 23, 0, tzinfo=UTC)),  # midnight in Berlin
        ("2026-03-01T12:00", datetime(2026, 3, 1, 11, 0, tzinfo=UTC)),
        ("2026-03-01T12:00+00:00", datetime(2026, 3, 1, 12, 0, tzinfo=UTC)),
        ("yesterday", datetime(2026, 3, 17, 15, 30, tzinfo=UTC)),
        ("1 March 2026", datetime(2026, 2, 28, 23, 0, tzinfo=UTC)),
    ],
)
def test_durations_dates_and_words(text: str, expected: datetime) -> None:
    assert moment(text, now=NOW, zone=BERLIN) == expected


@pytest.mark.parametrize("text", ["soonish", "30 parsecs"])
def test_what_it_cannot_read_is_refused_with_the_forms_it_takes(text: str) -> None:
    with pytest.raises(ValueError, match=r"cannot read .* write 30d, 24h or 2w \(ago\)"):
        moment(text, now=NOW, zone=BERLIN)


def test_a_period_runs_from_since_up_to_until_or_now() -> None:
    assert period("7", now=NOW, zone=BERLIN) == (datetime(2026, 3, 11, 15, 30, tzinfo=UTC), NOW)
    assert period("2026-03-01", "2026-03-08", now=NOW, zone=BERLIN) == (
        datetime(2026, 2, 28, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 7, 23, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("since", "until"), [("0d", None), ("0", None), ("tomorrow 12:00", None), ("1d", "2d")]
)
def test_a_period_with_no_time_in_it_is_refused_as_empty(since: str, until: str | None) -> None:
    with pytest.raises(EmptyPeriod, match=r"UTC is empty: its start must come before its end"):
        period(since, until, now=NOW, zone=BERLIN)


def test_a_period_it_cannot_read_names_the_text() -> None:
    with pytest.raises(Unreadable, match=r"cannot read 'banana' as a time") as refused:
        period("banana", now=NOW, zone=BERLIN)
    assert refused.value.text == "banana"
