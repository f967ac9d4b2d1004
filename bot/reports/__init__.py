"""How the bot is doing, and what the knowledge missed: the figures of ``supportbot report``.

The API (the terminal, ``--json``, ``--html`` and the admins' Telegram commands use it)::

    from bot.reports import build
    report = build(app.new_uow, knowledge=kb, matcher=matcher, since=since, until=until)
    report.headline()   # [("Tickets", "120"), ("Solved by the bot", "64% (77)"), ...]
    report.groups       # the biggest groups of unmatched questions (``Group``):
                        # .size, .examples, .closest (entry_id, title, score), .advice
    report.to_json()    # every figure, stable keys (README.md, "Reports")

``build`` takes an engine (``make_engine``) or, in the running bot, its unit-of-work factory
(``App.new_uow``); it reads the period in one unit of work that it rolls back
(``bot.storage.reports``), then
computes (``figures``: no I/O) and groups the unmatched questions (``unmatched``: runs the
matcher, and the semantic model when it is the one in use: seconds for thousands). Figures
are about the tickets opened in [since, until), followed to now, and the questions asked in
it. ``bot.reports.terminal.render_text`` (rich tables) and ``bot.reports.page.render_html``
(one page with plotly charts that opens offline) draw a report.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.reports.figures import Figures, Outcome, compute
from bot.reports.report import Report, duration, percent
from bot.reports.unmatched import AnyMatcher, Closest, Group, Progress, group_unmatched
from bot.storage import UnitOfWorkFactory
from bot.storage.reports import Database, read_period
from flows.turn import Localised
from knowledge.schema import KnowledgeBase

__all__ = [
    "Closest",
    "Figures",
    "Group",
    "Outcome",
    "Report",
    "build",
    "duration",
    "percent",
]


def build(
    database: Database | UnitOfWorkFactory,
    *,
    knowledge: KnowledgeBase,
    matcher: AnyMatcher,
    since: datetime,
    until: datetime,
    localised: Mapping[str, Localised] | None = None,
    timezone: str = "UTC",
    top: int = 10,
    progress: Progress | None = None,
) -> Report:
    """The report of [since, until) (aware datetimes).

    ``matcher``: the bot's (``bot.app.make_matcher``), ``localised`` its translated languages'
    (``bot.app.localise``); ``timezone`` (IANA) says where a day begins; ``top``: how many
    unmatched groups; ``progress`` is told, in a few words, what is being done.
    """
    note = progress or (lambda _: None)
    note("reading the period's tickets")
    data = read_period(database, since, until)
    note(f"counting {len(data.tickets):,} tickets")
    figures = compute(data, knowledge=knowledge, timezone=timezone)
    unmatched = group_unmatched(
        data.unmatched,
        knowledge=knowledge,
        matcher=matcher,
        localised=localised,
        top=top,
        progress=note,
    )
    return Report(since, until, timezone, figures, unmatched)
