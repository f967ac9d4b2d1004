"""Points in time as admins type them on the command line (``--since 30d``, ``--until
2026-03-01``), for the commands that look back over a period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.settings import parse_duration

FORMS = "30d, 24h or 2w (ago), a date like 2026-03-01, or words like 'last monday'"


def moment(text: str, *, now: datetime, zone: ZoneInfo) -> datetime:
    """``text`` as an aware UTC datetime: a duration before ``now`` (``7d``, ``24h``, ``2w``),
    an ISO date or time (``2026-03-01`` is midnight in ``zone``), or what dateparser reads
    (``yesterday``, ``1 March``). Raises ``ValueError`` naming the forms it takes."""
    value = text.strip()
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
        raise ValueError(f"cannot read {text!r} as a time: write {FORMS}")
    if found.tzinfo is None:
        found = found.replace(tzinfo=zone)
    return found.astimezone(UTC)


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
