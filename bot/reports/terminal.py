"""A report as rich tables, for the terminal. Customers' words are shown as text, never as
rich markup."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from bot.reports.figures import Outcome
from bot.reports.report import Report, duration, percent

OUTCOME_LABELS = {
    Outcome.BOT_RESOLVED: "solved by the bot",
    Outcome.AGENT_RESOLVED: "solved by a person",
    Outcome.REPLACED: "replaced",
    Outcome.OPEN: "open or waiting",
    Outcome.CLOSED: "cancelled or closed",
}


def render_text(report: Report, console: Console, *, top: int = 10) -> None:
    """Print ``report``; ``top``: rows of the per-entry table."""
    console.print(
        Text(
            f"supportbot report: tickets opened {report.since:%Y-%m-%d %H:%M} to"
            f" {report.until:%Y-%m-%d %H:%M} UTC, followed to now (days in {report.timezone})",
            style="bold",
        )
    )
    for part in tables(report, top=top):
        console.print(part)
        console.print()


def tables(report: Report, *, top: int = 10) -> list[RenderableType]:
    f = report.figures
    parts: list[RenderableType] = [_table("", ("figure", "value"), report.headline())]
    if f.tickets:
        parts += _ticket_tables(report, top)
    parts += _unmatched_tables(report)
    return parts


def _ticket_tables(report: Report, top: int) -> list[RenderableType]:
    f = report.figures
    statuses = [(s.value.replace("_", " "), f"{n:,}") for s, n in f.by_status.items() if n]
    reasons = [(reason.replace("_", " "), f"{n:,}") for reason, n in f.handoff_reasons.items()]
    times = [
        (name, f"{d.count:,}", duration(d.median), duration(d.p90))
        for name, d in (
            ("first response (hand-off to first reply)", f.first_response),
            ("resolution (opened to resolved)", f.resolution),
        )
    ]
    total = report.csat_count
    stars = [
        ("★" * n, f"{count:,}", percent(count / total if total else None))
        for n, count in sorted(f.ratings.items(), reverse=True)
    ]
    loop = [
        *(("replacements " + k, f"{v:,}") for k, v in f.replacements.items()),
        *(("follow-ups " + k, f"{v:,}") for k, v in f.followups.items()),
        ("reopened of resolved", f"{f.reopened:,} of {f.resolved:,}"),
    ]
    entries = [
        (e.entry_id, e.title or "(not in the knowledge now)", *(f"{n:,}" for n in counts))
        for e in f.entries[:top]
        for counts in [(e.offered, e.fixed, e.failed)]
    ]
    days = [
        (d.day.isoformat(), *(f"{d.counts[o]:,}" for o in Outcome), f"{d.total:,}")
        for d in f.days
        if d.total
    ]
    return [
        _table("status now", ("status", "tickets"), statuses),
        _table("hand-offs", ("first reason", "tickets"), reasons),
        _table("times", ("", "tickets", "median", "90th percentile"), times),
        _table("CSAT", ("rating", "ratings", "share"), stars),
        _table("replacements, follow-ups", ("", "count"), loop),
        _table(
            "entries, most failures first",
            ("entry", "title", "offered", "fixed", "failed"),
            entries,
        ),
        _table(
            "tickets opened per day, by where they stand now",
            ("day", *OUTCOME_LABELS.values(), "all"),
            days,
        ),
    ]


def _unmatched_tables(report: Report) -> list[RenderableType]:
    u = report.unmatched
    if not u.count:
        return [Text("No unmatched questions in this period.")]
    reasons = ", ".join(f"{r.value.replace('_', ' ')} {n:,}" for r, n in u.by_reason.items() if n)
    note = f"{u.count:,} unmatched questions ({reasons})"
    if u.grouped < u.count:
        note += f"; the latest {u.grouped:,} grouped"
    rows: list[Sequence[str | Text]] = []  # customers' words: Text, never markup
    for rank, g in enumerate(u.groups, 1):
        closest = f"{g.closest.entry_id} ({g.closest.score:g})" if g.closest else "–"
        examples = Text("\n".join(f"“{e}”" for e in g.examples))
        rows.append((str(rank), f"{g.size:,}", examples, closest, g.advice))
    return [
        Text(note),
        _table("", ("#", "asked", "examples", "closest entry (score)", "suggestion"), rows),
    ]


def _table(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[str | Text]]
) -> RenderableType:
    if not rows:
        return Text(f"{title}: none")
    table = Table(title=title or None, title_justify="left", show_edge=False)
    for column, header in enumerate(headers):
        numbers = all(_number(row[column]) for row in rows)
        table.add_column(header, overflow="fold", justify="right" if numbers else "left")
    for row in rows:  # Text: a "[" in a title or a question is not rich markup
        table.add_row(*(cell if isinstance(cell, Text) else Text(cell) for cell in row))
    return table


def _number(cell: str | Text) -> bool:
    text = cell.plain if isinstance(cell, Text) else cell
    return text.replace(",", "").replace(" of ", "").isdigit()
