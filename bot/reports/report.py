"""The report as a value: its figures, shares and averages, a few headline lines, and JSON.

The JSON keys are stable (README.md, "Reports", lists them); new keys may be added, none
renamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.reports.figures import Durations, Figures, Outcome
from bot.reports.unmatched import Group, UnmatchedFigures


@dataclass(frozen=True)
class Report:
    since: datetime
    until: datetime
    timezone: str
    figures: Figures
    unmatched: UnmatchedFigures

    # ---- shares and averages (None where there is nothing to divide by) ----------------
    @property
    def bot_resolved_share(self) -> float | None:
        return _share(self.figures.bot_resolved, self.figures.tickets)

    @property
    def handoff_rate(self) -> float | None:
        return _share(self.figures.handed_off, self.figures.tickets)

    @property
    def reopen_rate(self) -> float | None:
        return _share(self.figures.reopened, self.figures.resolved)

    @property
    def csat_count(self) -> int:
        return sum(self.figures.ratings.values())

    @property
    def csat_average(self) -> float | None:
        total = sum(stars * n for stars, n in self.figures.ratings.items())
        return _share(total, self.csat_count)

    @property
    def groups(self) -> tuple[Group, ...]:
        """The biggest groups of unmatched questions, biggest first."""
        return self.unmatched.groups

    # ---- for people and for machines -------------------------------------------------
    def headline(self) -> list[tuple[str, str]]:
        """A few figures as (label, value), e.g. ("Solved by the bot", "64% (77)")."""
        f = self.figures
        if not f.tickets:
            lines = [("Tickets", "no tickets in this period")]
        else:
            lines = [
                ("Tickets", f"{f.tickets:,}"),
                ("Solved by the bot", _counted(self.bot_resolved_share, f.bot_resolved)),
                ("Handed to a person", _counted(self.handoff_rate, f.handed_off)),
                ("First response (median)", duration(f.first_response.median)),
                ("Resolution (median)", duration(f.resolution.median)),
                ("CSAT", _csat(self.csat_average, self.csat_count)),
                ("Reopened", _counted(self.reopen_rate, f.reopened)),
            ]
        lines.append(("Unmatched questions", f"{self.unmatched.count:,}"))
        return lines

    def to_json(self) -> dict[str, Any]:
        f = self.figures
        return {
            "period": {
                "since": self.since.isoformat(),
                "until": self.until.isoformat(),
                "timezone": self.timezone,
            },
            "tickets": {
                "total": f.tickets,
                "by_status": {status.value: n for status, n in f.by_status.items()},
            },
            "bot_resolved": {"count": f.bot_resolved, "share": _round(self.bot_resolved_share)},
            "handoffs": {
                "count": f.handed_off,
                "rate": _round(self.handoff_rate),
                "by_reason": dict(sorted(f.handoff_reasons.items())),
            },
            "first_response": _durations(f.first_response),
            "resolution": _durations(f.resolution),
            "csat": {
                "count": self.csat_count,
                "average": _round(self.csat_average),
                "distribution": {str(stars): n for stars, n in f.ratings.items()},
            },
            "reopen": {
                "reopened": f.reopened,
                "resolved": f.resolved,
                "rate": _round(self.reopen_rate),
            },
            "replacements": dict(f.replacements),
            "followups": dict(f.followups),
            "entries": [
                {
                    "id": e.entry_id,
                    "title": e.title,
                    "offered": e.offered,
                    "fixed": e.fixed,
                    "failed": e.failed,
                }
                for e in f.entries
            ],
            "days": [
                {"date": d.day.isoformat(), **{o.value: d.counts[o] for o in Outcome}}
                for d in f.days
            ],
            "unmatched": {
                "count": self.unmatched.count,
                "by_reason": {r.value: n for r, n in self.unmatched.by_reason.items()},
                "grouped": self.unmatched.grouped,
                "groups": [_group(g) for g in self.unmatched.groups],
            },
        }


def duration(seconds: float | None) -> str:
    """ "45 s", "12 min", "3 h 5 min", "2 d 4 h"; "–" for None."""
    if seconds is None:
        return "–"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _counted(share: float | None, count: int) -> str:
    return f"{percent(share)} ({count:,})"


def _csat(average: float | None, count: int) -> str:
    if average is None:
        return "no ratings"
    return f"{average:.1f} of 5 ({count:,} rating{'s' if count != 1 else ''})"


def _durations(d: Durations) -> dict[str, Any]:
    return {
        "count": d.count,
        "median_seconds": _round(d.median, 3),
        "p90_seconds": _round(d.p90, 3),
    }


def _group(g: Group) -> dict[str, Any]:
    closest = g.closest
    return {
        "size": g.size,
        "examples": list(g.examples),
        "reasons": {r.value: n for r, n in g.reasons.items()},
        "closest": (
            None
            if closest is None
            else {"id": closest.entry_id, "title": closest.title, "score": closest.score}
        ),
        "verdict": "new_entry" if g.new_entry or closest is None else "new_symptoms",
        "advice": g.advice,
        "method": g.method,
        "language": g.language,
    }
