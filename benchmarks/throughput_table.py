"""The throughput benchmark's tables: figures per bot, and issue 12's goals against them."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.tables import render

TELEGRAM_BUDGET = 30.0  # messages a second Telegram lets a bot send in all


PACED_ECHO = "echo bot, paced (PTB AIORateLimiter)"


@dataclass(frozen=True)
class Row:
    label: str
    updates: int
    rate: float  # updates handled a second
    answered: float  # updates a second, from the release to the last customer message
    send_median: float  # messages a second, median over the run's one-second buckets
    send_max: int
    p50: float  # seconds from the release to a customer's first reply
    p99: float
    in_order: float  # share of customer pairs whose first replies came in arrival order
    behind_later: int  # first replies that went out behind another customer's later reply
    cpu_ms: float  # CPU milliseconds per update, all the bot's processes
    rss_mb: float  # peak RSS, summed over the processes
    lost: int
    duplicated: int
    reordered: int
    errors: int  # ERROR lines and tracebacks in the bots' logs
    finished: bool
    echo: Row | None  # the echo bot's row of the same run (None: this is it)


def number(value: float, digits: int = 0) -> str:
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "never"
    return f"{value:,.{digits}f}"


def ratio(value: float, base: float) -> str:
    if math.isnan(value) or math.isnan(base) or base == 0:
        return "-"
    return f"{value / base:.2f}x"


HEADERS = (
    "bot",
    "updates",
    "processed/s",
    "vs echo",
    "answered/s",
    "sent/s median",
    "sent/s max",
    "first reply p50",
    "p99",
    "in order",
    "first replies behind a later one",
    "CPU ms/update",
    "vs echo",
    "peak RSS MB",
    "lost",
    "dup",
    "reordered",
    "log errors",
)


def cells(row: Row) -> list[str]:
    echo = row.echo
    return [
        row.label + ("" if row.finished else " (timed out)"),
        f"{row.updates:,}",
        number(row.rate),
        ratio(row.rate, echo.rate) if echo else "1.00x",
        number(row.answered),
        number(row.send_median, 1),
        str(row.send_max),
        number(row.p50, 2) + " s",
        number(row.p99, 2) + " s",
        number(100 * row.in_order, 1) + " %",
        str(row.behind_later),
        number(row.cpu_ms, 2),
        ratio(row.cpu_ms, echo.cpu_ms) if echo else "1.00x",
        number(row.rss_mb),
        str(row.lost),
        str(row.duplicated),
        str(row.reordered),
        str(row.errors),
    ]


def results_table(rows: Sequence[Row], markdown: bool) -> str:
    return show(HEADERS, [cells(r) for r in rows], markdown)


def show(headers: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> str:
    """Markdown, or for a terminal a rich table when rich is there (plain text if not)."""
    if markdown:
        return render(headers, rows, markdown=True)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        return render(headers, rows, markdown=False)
    table = Table(*headers)
    for r in rows:
        table.add_row(*r)
    out = io.StringIO()
    Console(width=250, file=out).print(table)
    return out.getvalue().rstrip()


def goals_table(rows: Sequence[Row], markdown: bool) -> str:
    """Each goal of issue 12, what was measured, and whether it is met."""
    by_name = {r.label: r for r in rows}
    echo = rows[0]
    paced = by_name.get(PACED_ECHO)
    rows = [r for r in rows if r.label != PACED_ECHO]
    goals: list[tuple[str, str, bool | None]] = []
    sqlite, pg1, pg3 = by_name.get("sqlite"), by_name.get("pg1"), by_name.get("pg3")
    if sqlite is not None:
        share = sqlite.rate / echo.rate
        goals.append(
            ("SQLite processes ≥ 80 % of the echo bot's rate", f"{share:.0%}", share >= 0.8)
        )
    if pg1 is not None and pg3 is not None:
        gain = pg3.rate / pg1.rate
        goals.append(("3 PostgreSQL replicas ≥ 2x one", f"{gain:.2f}x", gain >= 2))
    for r in rows[1:]:
        cpu = r.cpu_ms / echo.cpu_ms
        goals.append((f"{r.label}: CPU per update ≤ 2x the echo bot's", f"{cpu:.2f}x", cpu <= 2))
        if paced is not None:  # not a goal of the issue: how much of the gap pacing makes
            cpu = r.cpu_ms / paced.cpu_ms
            goals.append(
                (f"{r.label}: CPU per update against the paced echo bot", f"{cpu:.2f}x", None)
            )
        in_budget = r.send_median >= 0.9 * TELEGRAM_BUDGET and r.send_max <= TELEGRAM_BUDGET
        goals.append(
            (
                f"{r.label}: send rate within 10 % of 30/s, never above",
                f"median {r.send_median:.1f}/s, max {r.send_max}/s",
                in_budget,
            )
        )
        goals.append(
            (
                f"{r.label}: first replies in arrival order",
                f"{r.in_order:.1%} of pairs",
                r.in_order >= 0.999,
            )
        )
        goals.append(
            (
                f"{r.label}: no first reply behind another customer's later one",
                str(r.behind_later),
                r.behind_later == 0,
            )
        )
        wrong = r.lost + r.duplicated + r.reordered
        goals.append(
            (
                f"{r.label}: 0 lost / duplicated / reordered",
                f"{r.lost} / {r.duplicated} / {r.reordered}",
                wrong == 0,
            )
        )
    body = [[goal, got, "-" if met is None else "yes" if met else "no"] for goal, got, met in goals]
    return show(("goal", "measured", "met"), body, markdown)
