"""A report as one self-contained HTML page: plotly charts and every figure as a table.

plotly.js is embedded once, inline (``plotly.offline.get_plotlyjs``, what
``include_plotlyjs=True`` writes), so the page opens with no network; no script, style or
font is fetched from anywhere. Customers' words are untrusted: escaped in the tables, and
escaped before they reach a chart (plotly draws a little HTML in labels, and reads ``&lt;``
back as "<").
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import plotly.graph_objects as go  # type: ignore[import-untyped]
from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

from bot.reports.figures import Outcome
from bot.reports.report import Report, duration, percent
from bot.reports.terminal import OUTCOME_LABELS

OUTCOME_COLOURS = {
    Outcome.BOT_RESOLVED: "#2ca02c",
    Outcome.AGENT_RESOLVED: "#1f77b4",
    Outcome.REPLACED: "#9467bd",
    Outcome.OPEN: "#ff7f0e",
    Outcome.CLOSED: "#7f7f7f",
}
_LABEL_CHARS = 60  # of a group's first example, on the chart's axis
_CONFIG = {"displaylogo": False, "responsive": True}
_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222 }
h1 { font-size: 1.5em } h2 { font-size: 1.2em; margin-top: 2em }
table { border-collapse: collapse; margin: .5em 0 1em }
th, td { border-bottom: 1px solid #ddd; padding: .25em .8em; text-align: left;
         vertical-align: top }
td.n { text-align: right; font-variant-numeric: tabular-nums }
.note { color: #555 }
"""


def render_html(report: Report, *, top: int = 10) -> str:
    """The whole page; ``top``: how many entries the failures chart and table show."""
    period = f"{report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC"
    body = [
        f"<h1>supportbot report</h1><p class=note>Tickets opened {period}, followed to now;"
        f" days in {escape(report.timezone)}.</p>",
        _table(("figure", "value"), report.headline()),
        *_tickets(report),
        *_csat(report),
        *_entries(report, top),
        *_unmatched(report),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>supportbot report · {period}</title><style>{_STYLE}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head>'
        f"<body>{''.join(body)}</body></html>\n"
    )


def _tickets(report: Report) -> list[str]:
    f = report.figures
    days = [d.day.isoformat() for d in f.days]
    chart = go.Figure(
        [
            go.Bar(
                name=OUTCOME_LABELS[o],
                x=days,
                y=[d.counts[o] for d in f.days],
                marker_color=OUTCOME_COLOURS[o],
            )
            for o in Outcome
        ]
    )
    chart.update_layout(barmode="stack", yaxis_title="tickets opened", legend_orientation="h")
    statuses = [(s.value.replace("_", " "), f"{n:,}") for s, n in f.by_status.items()]
    times = [
        (name, f"{d.count:,}", duration(d.median), duration(d.p90))
        for name, d in (("first response", f.first_response), ("resolution", f.resolution))
    ]
    loop = [
        ("solved by the bot", f"{f.bot_resolved:,}", percent(report.bot_resolved_share)),
        ("handed to a person", f"{f.handed_off:,}", percent(report.handoff_rate)),
        (
            "reopened (of resolved)",
            f"{f.reopened:,} of {f.resolved:,}",
            percent(report.reopen_rate),
        ),
    ]
    return [
        "<h2>Tickets per day, by where they stand now</h2>",
        _chart(chart, "chart-days"),
        _table(("day", *OUTCOME_LABELS.values(), "all"), _day_rows(report)),
        "<h2>Tickets</h2>",
        _table(("", "tickets", "share"), loop),
        _table(("status now", "tickets"), statuses),
        _table(
            ("first hand-off reason", "tickets"),
            [(r.replace("_", " "), f"{n:,}") for r, n in sorted(f.handoff_reasons.items())],
        ),
        _table(("time", "tickets", "median", "90th percentile"), times),
        _table(
            ("", "count"),
            [
                *((f"replacements {k}", f"{v:,}") for k, v in f.replacements.items()),
                *((f"follow-ups {k}", f"{v:,}") for k, v in f.followups.items()),
            ],
        ),
    ]


def _day_rows(report: Report) -> list[tuple[str, ...]]:
    return [
        (d.day.isoformat(), *(f"{d.counts[o]:,}" for o in Outcome), f"{d.total:,}")
        for d in report.figures.days
    ]


def _csat(report: Report) -> list[str]:
    ratings = report.figures.ratings
    chart = go.Figure(
        go.Bar(x=[f"{n} ★" for n in ratings], y=list(ratings.values()), marker_color="#f2b701")
    )
    chart.update_layout(yaxis_title="ratings", xaxis_type="category")
    average = report.csat_average
    said = "no ratings" if average is None else f"average {average:.2f} of 5"
    total = report.csat_count
    return [
        f"<h2>Customer satisfaction: {escape(said)}</h2>",
        _chart(chart, "chart-csat"),
        _table(
            ("rating", "ratings", "share"),
            [
                (f"{n} ★", f"{c:,}", percent(c / total if total else None))
                for n, c in ratings.items()
            ],
        ),
    ]


def _entries(report: Report, top: int) -> list[str]:
    entries = report.figures.entries[:top]
    failing = [e for e in entries if e.failed]
    parts = [f"<h2>Knowledge entries, most failures first (top {top})</h2>"]
    if failing:
        chart = go.Figure(
            go.Bar(
                x=[e.failed for e in reversed(failing)],
                y=[escape(e.entry_id) for e in reversed(failing)],
                orientation="h",
                marker_color="#d62728",
            )
        )
        chart.update_layout(xaxis_title="times the fix did not help")
        parts.append(_chart(chart, "chart-entries", counts="x", bars=len(failing)))
    else:
        parts.append("<p class=note>No fix failed in this period.</p>")
    rows = [
        (
            e.entry_id,
            e.title or "(not in the knowledge now)",
            f"{e.offered:,}",
            f"{e.fixed:,}",
            f"{e.failed:,}",
        )
        for e in entries
    ]
    parts.append(_table(("entry", "title", "offered", "fixed", "failed"), rows))
    return parts


def _unmatched(report: Report) -> list[str]:
    u = report.unmatched
    reasons = ", ".join(f"{r.value.replace('_', ' ')}: {n:,}" for r, n in u.by_reason.items())
    note = f"{u.count:,} questions ({reasons})"
    if u.grouped < u.count:
        note += f"; the latest {u.grouped:,} were grouped"
    parts = ["<h2>Questions the knowledge missed</h2>", f"<p class=note>{escape(note)}</p>"]
    if not u.groups:
        return parts
    labels = [f"#{i} {_cut(g.examples[0])}" for i, g in enumerate(u.groups, 1)]
    chart = go.Figure(
        go.Bar(
            x=[g.size for g in reversed(u.groups)],
            y=[escape(label) for label in reversed(labels)],
            orientation="h",
            marker_color="#17becf",
        )
    )
    chart.update_layout(xaxis_title="questions in the group", yaxis_automargin=True)
    rows = [
        (
            str(i),
            f"{g.size:,}",
            "\n".join(f"“{e}”" for e in g.examples),
            f"{g.closest.entry_id} · {g.closest.title} ({g.closest.score:g})" if g.closest else "–",
            g.advice,
        )
        for i, g in enumerate(u.groups, 1)
    ]
    return [
        *parts,
        _chart(chart, "chart-unmatched", counts="x", bars=len(u.groups)),
        _table(("#", "asked", "examples", "closest entry (score)", "so"), rows),
    ]


def _cut(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _LABEL_CHARS else line[: _LABEL_CHARS - 1] + "…"


def _chart(figure: go.Figure, div_id: str, *, counts: str = "y", bars: int = 0) -> str:
    """The figure's div, drawing itself once plotly.js (in the page's head) has loaded.

    ``counts``: the axis of counts, given whole-number ticks while the counts are small;
    ``bars``: how many horizontal bars, for a height that fits them (0: the usual height)."""
    figure.update_layout(template="plotly_white", margin={"t": 20})
    most = max((max(trace[counts], default=0) for trace in figure.data), default=0)
    axis = {"rangemode": "tozero", "tickformat": ",d"}
    figure.update_layout({f"{counts}axis": axis | ({"dtick": 1} if most <= 10 else {})})
    height = f"{120 + 40 * bars}px" if bars else "420px"
    html: str = figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=_CONFIG,
        default_height=height,
    )
    return html


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Every cell escaped; numbers aligned right; a newline in a cell is a line break."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=n' if _number(cell) else ''}>"
            + escape(cell).replace("\n", "<br>")
            + "</td>"
            for cell in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _number(cell: str) -> bool:
    return bool(cell) and cell.replace(",", "").replace(".", "").isdigit()
