"""`supportbot report`: how the bot is doing and what the knowledge missed, from the database
(``DATABASE_URL``) and the knowledge (``KNOWLEDGE_DIR``), as tables, JSON or an HTML page."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from rich.console import Console

from bot.app import make_matcher
from bot.clock import system_clock
from bot.period import period
from bot.reports import Report, build
from bot.reports.page import render_html
from bot.reports.terminal import render_text
from bot.settings import Settings
from bot.storage import current_revision, make_engine, schema_drift
from flows.turn import Localised
from knowledge.loader import load_knowledge
from knowledge.matcher import DEFAULT_THRESHOLDS, Matcher
from knowledge.schema import KnowledgeBase


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``report`` command and its options."""
    report = sub.add_parser("report", help="figures, charts and the questions the knowledge missed")
    report.add_argument(
        "--since",
        default="7d",
        help="start: a duration back from now (7d or 7, 24h, 2w) or a date (2026-11-01, "
        "'last monday'), in TIMEZONE; default 7d",
    )
    report.add_argument("--until", help="end (not included), the same way; default now")
    report.add_argument("--json", action="store_true", help="the figures as one JSON object")
    report.add_argument("--html", type=Path, metavar="FILE", help="also write one HTML page")
    report.add_argument(
        "--top", type=int, default=10, help="unmatched groups and entries shown (default 10)"
    )
    report.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    errors = Console(stderr=True)
    if args.top < 1:
        errors.print("supportbot: --top must be at least 1", markup=False)
        return 2
    now = system_clock().now()  # the bot's clock (a test may move it)
    try:
        since, until = period(args.since, args.until, now=now, zone=settings.zone)
    except ValueError as exc:  # unreadable, or empty
        errors.print(f"supportbot: {exc}", markup=False)
        return 2
    with errors.status("loading the knowledge") as status:
        knowledge = load_knowledge(settings.knowledge_dir)
        matcher = make_matcher(knowledge, settings)
        engine = make_engine(settings.database_url)
        if current_revision(engine) is not None and schema_drift(engine):
            errors.print(
                "supportbot: the database is from an older version: run supportbot db upgrade"
                " (the bot does it when it starts)",
                markup=False,
            )
            return 2
        report = build(
            engine,
            knowledge=knowledge,
            matcher=matcher,
            since=since,
            until=until,
            localised=_Translated(knowledge, settings),
            timezone=settings.timezone,
            top=args.top,
            progress=lambda text: status.update(text),
        )
        engine.dispose()
    _write(report, args, errors)
    return 0


def _write(report: Report, args: argparse.Namespace, errors: Console) -> None:
    if args.html is not None:
        args.html.write_text(render_html(report, top=args.top), encoding="utf-8")
        size = args.html.stat().st_size
        errors.print(
            f"wrote {args.html} ({size / 1e6:.1f} MB; opens with no network)", markup=False
        )
    if args.json:
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        render_text(report, Console(), top=args.top)


class _Translated(Mapping[str, Localised]):
    """The knowledge in each language it is translated into, with its lexical matcher, as
    ``bot.app.localise`` makes them; each built when first asked for (a second or two), so
    a report with no question in that language does not wait for it."""

    def __init__(self, knowledge: KnowledgeBase, settings: Settings) -> None:
        self._knowledge = knowledge
        self._thresholds = settings.thresholds(DEFAULT_THRESHOLDS)
        self._built: dict[str, Localised] = {}

    def __getitem__(self, code: str) -> Localised:
        if code not in self:
            raise KeyError(code)
        if code not in self._built:
            translated = self._knowledge.in_language(code)
            matcher = Matcher(translated, self._thresholds)
            self._built[code] = Localised(translated, matcher, self._thresholds)
        return self._built[code]

    def __contains__(self, code: object) -> bool:
        return code in self._knowledge.languages()

    def __iter__(self) -> Iterator[str]:
        return iter(self._knowledge.languages())

    def __len__(self) -> int:
        return len(self._knowledge.languages())
