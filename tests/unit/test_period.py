"""bot.period.moment: --since / --until as admins type them, against a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.period import moment

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
