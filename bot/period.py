"""Points in time and periods as admins type them (``--since 30d``, ``--until 2026-03-01``,
``/stats 7``), for the commands that look back over a period: ``report``, ``export`` and the
admins' ``/stats`` and ``/unmatched``, which all read them here."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.settings import parse_duration

FORMS = "30d, 24h or 2w (ago), 7 (days), a date like 2026-03-01, or words like 'last monday'"


class Unreadable(ValueError):
    """Text that is no point in time; says so with the forms it takes."""

    def __init__(self, text: str) -> None:
        super().__init__(f"cannot read {text!r} as a time: write {FORMS}")
        self.text = text


class EmptyPeriod(ValueError):
    """A period that does not start before it ends (``0d``, or a start still to come)."""

    def __init__(self, since: datetime, until: datetime) -> None:
        super().__init__(
            f"the period from {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC is empty:"
            " its start must come before its end"
        )


def moment(text: str, *, now: datetime, zone: ZoneInfo) -> datetime:
    """``text`` as an aware UTC datetime: a duration before ``now`` (``7d``, ``24h``, ``2w``;
    a bare number is days, as an admin typing ``7`` means), an ISO date or time
    (``2026-03-01`` is midnight in ``zone``), or what dateparser reads (``yesterday``,
    ``1 March``). Raises ``Unreadable`` (a ``ValueError``) naming the forms it takes."""
    value = text.strip()
    if re.fullmatch(r"\d+", value):  # dateparser would read "7" as the 7th of a month
        value += "d"
    try:
        ago = parse_duration(value)
    except ValueError:
        pass
    else:
        assert isinstance(ago, timedelta)
        return now - ago
    try:
        found: datetime | None = datetime.fromisoformat(value)
    except ValueError:
        found = _in_words(value, now, zone)
    if found is None:
        raise Unreadable(text)
    if found.tzinfo is None:
        found = found.replace(tzinfo=zone)
    return found.astimezone(UTC)


def period(
    since: str, until: str | None = None, *, now: datetime, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """From ``since`` up to ``until`` (default ``now``), read by ``moment``; raises
    ``Unreadable`` or, when it holds no time at all, ``EmptyPeriod``."""
    start = moment(since, now=now, zone=zone)
    end = moment(until, now=now, zone=zone) if until else now
    if start >= end:
        raise EmptyPeriod(start, end)
    return start, end


def _in_words(value: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    import dateparser  # about a second to import, and only needed for words

    return dateparser.parse(
        value,
        settings={
            "RELATIVE_BASE": now.astimezone(zone).replace(tzinfo=None),
            "TIMEZONE": str(zone),
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DATES_FROM": "past",
        },
    )
