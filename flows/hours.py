"""When the team is in: ``SUPPORT_HOURS`` such as ``Mon-Fri 09:00-18:00, Sat 10:00-14:00``.

A span is a day or a range of days (``Mon``, ``Mon-Fri``; a range may wrap round the
week, ``Fri-Mon``) and a time of day, ``HH:MM-HH:MM`` (``24:00`` ends the day); spans
are separated by commas or semicolons. Days are English, three letters or in full, in
any case.

Everything is reckoned in the wall time of the hours' time zone: ``Mon-Fri 09:00-18:00``
in Europe/Berlin opens at 09:00 on the clocks there in winter and in summer alike. Pure:
no clock is read here; the caller passes ``now`` (timezone-aware).

Written by hand: the one well-kept library for opening hours, opening-hours-py, reads
OpenStreetMap's much larger language (``Mo-Fr``, holidays, sunrise), not this one.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EXAMPLE = "e.g. 'Mon-Fri 09:00-18:00, Sat 10:00-14:00'"
MINUTES_A_DAY = 24 * 60

_CLOCK = re.compile(r"(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})")


class HoursError(ValueError):
    """``SUPPORT_HOURS`` cannot be read; the message names the part that is wrong."""


@dataclass(frozen=True)
class Span:
    """Open on ``weekday`` (0 = Monday) from ``start`` to ``end``, minutes after midnight."""

    weekday: int
    start: int
    end: int  # after start; 1440 (24:00) is the end of the day


@dataclass(frozen=True)
class SupportHours:
    """The weekly hours in a time zone; ``parse_hours`` builds it from the setting."""

    spans: tuple[Span, ...]
    zone: ZoneInfo

    def is_open(self, now: datetime) -> bool:
        """True when ``now`` falls in a span, on the clocks of ``zone``."""
        local = now.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(
            span.weekday == local.weekday() and span.start <= minute < span.end
            for span in self.spans
        )

    def next_opening(self, now: datetime) -> datetime:
        """The first moment at or after ``now`` when the team is in, in ``zone``.

        ``now`` itself when it is open. The team comes in when the clocks reach the start
        of a span (the first or the second time, when the autumn change shows an hour
        twice), or when the clocks change into a span (past a start that the spring change
        skips, or back into one in the autumn).
        """
        if self.is_open(now):
            return now.astimezone(self.zone)
        after = now.astimezone(UTC)
        today = after.astimezone(self.zone).date()
        # a week and a day: each span recurs within a week; a change of the clocks shows
        # between two midnights
        days = [today + timedelta(days=n) for n in range(9)]
        moments = _clock_changes(days, self.zone)
        for day in days:
            for span in self.spans:
                if span.weekday == day.weekday():
                    moments += _readings(day, span.start, self.zone)
        return min(m for m in moments if m >= after and self.is_open(m)).astimezone(self.zone)


def parse_hours(text: str, zone: ZoneInfo) -> SupportHours | None:
    """The hours written in ``text``; None when it is blank (no hours known).

    Raises ``HoursError`` naming the part that cannot be read, e.g.
    ``'Mon-Fry 09:00-18:00': unknown day 'Fry'``.
    """
    parts = [part.strip() for part in re.split(r"[,;]", text)]
    if not any(parts):
        return None
    spans: list[Span] = []
    for part in parts:
        if not part:
            raise HoursError(f"an empty part between commas or semicolons in {text.strip()!r}")
        spans += _parse_part(part)
    return SupportHours(tuple(spans), zone)


def _parse_part(part: str) -> list[Span]:
    words = re.sub(r"\s*-\s*", "-", part).split()  # "Mon - Fri" is "Mon-Fri"
    if len(words) != 2 or words[1].count("-") != 1 or words[0].count("-") > 1:
        raise HoursError(f"{part!r}: expected days and a time of day, {EXAMPLE}")
    first, _, last = words[0].partition("-")
    days = _day_range(part, _day(part, first), _day(part, last) if last else None)
    opens, _, closes = words[1].partition("-")
    start = _minutes(part, opens, end=False)
    end = _minutes(part, closes, end=True)
    if end <= start:
        raise HoursError(
            f"{part!r}: ends at {closes}, not after it starts ({opens});"
            " a night shift is two spans, e.g. 'Mon-Fri 22:00-24:00, Tue-Sat 00:00-06:00'"
        )
    return [Span(day, start, end) for day in days]


def _day(part: str, name: str) -> int:
    key = name.strip().lower()
    if key in DAYS:
        return DAYS.index(key)
    if key in FULL_DAYS:
        return FULL_DAYS.index(key)
    raise HoursError(f"{part!r}: unknown day {name!r} (Mon, Tue, Wed, Thu, Fri, Sat, Sun)")


def _day_range(part: str, first: int, last: int | None) -> list[int]:
    """``first`` to ``last`` with both; past Sunday it goes on from Monday (``Fri-Mon``)."""
    if last is None:
        return [first]
    if last == first:
        raise HoursError(f"{part!r}: a range from a day to the same day; write the day once")
    return [(first + n) % 7 for n in range((last - first) % 7 + 1)]


def _minutes(part: str, clock: str, *, end: bool) -> int:
    found = _CLOCK.fullmatch(clock)
    if found is None:
        raise HoursError(f"{part!r}: {clock!r} is not a time of day like 09:00")
    hour, minute = int(found["hour"]), int(found["minute"])
    if hour == 24 and minute == 0 and end:
        return MINUTES_A_DAY
    if hour > 23 or minute > 59:
        allowed = "00:00 to 24:00" if end else "00:00 to 23:59"
        raise HoursError(f"{part!r}: {clock!r} is not a time of day ({allowed})")
    return hour * 60 + minute


def _readings(day: date, minutes: int, zone: ZoneInfo) -> list[datetime]:
    """The instants (UTC) when the clocks of ``zone`` show ``minutes`` past midnight of
    ``day``: one on most days, two when the autumn change shows that time twice, none when
    the spring change skips it."""
    wall = datetime.combine(day, time(minutes // 60, minutes % 60))
    readings = {wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)}
    return [m for m in readings if m.astimezone(zone).replace(tzinfo=None) == wall]


def _clock_changes(days: list[date], zone: ZoneInfo) -> list[datetime]:
    """The instants (UTC) when the clocks of ``zone`` change, from the first of ``days``
    to the last (at most one a day, as in every zone's rules)."""
    midnights = [datetime.combine(day, time(), zone).astimezone(UTC) for day in days]
    changes = []
    for low, high in itertools.pairwise(midnights):
        offset = high.astimezone(zone).utcoffset()
        if low.astimezone(zone).utcoffset() == offset:
            continue
        while high - low > timedelta(seconds=1):  # the first instant of the new offset
            middle = low + (high - low) / 2
            if middle.astimezone(zone).utcoffset() == offset:
                high = middle
            else:
                low = middle
        changes.append(high.replace(microsecond=0))
    return changes
