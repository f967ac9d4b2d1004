"""`supportbot kb ...`: check the knowledge files and try phrases against them, with the
matcher and thresholds the bot will use."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from bot.app import describe_matcher, localise, make_matcher
from bot.settings import Settings
from knowledge.catalogue import Catalogue, language_code
from knowledge.checks import LanguageTests, TestOutcome, language_tests
from knowledge.loader import KnowledgeError, Problem, load_knowledge, validate_knowledge
from knowledge.matcher import DEFAULT_THRESHOLDS, Matcher
from knowledge.overlap import NearDuplicate, near_duplicates
from knowledge.schema import Band, KnowledgeBase, Thresholds
from knowledge.semantic import SemanticMatcher

PROGRESS_FROM = 100  # phrasings: fewer are matched before anyone would look at a bar
LOG_WIDTH = 120  # columns of the table when not on a terminal (CI logs), unless COLUMNS says


def validate(args: argparse.Namespace, settings: Settings) -> int:
    directory = args.knowledge or settings.knowledge_dir
    used: list[str] = []  # which matcher checked the tests, once the files load

    def production(knowledge: KnowledgeBase) -> Any:
        matcher = make_matcher(knowledge, settings)  # what MATCHER makes the bot use
        used.append(describe_matcher(matcher))
        return matcher

    problems = validate_knowledge(
        directory, settings.thresholds(DEFAULT_THRESHOLDS), matcher_for=production
    )
    if problems:
        print(f"{len(problems)} problem(s) in {directory}:")
        for problem in problems:
            print(f"  {problem}")
        if used:
            print(f"tests: checked with {used[0]}")
        return 1
    knowledge = load_knowledge(directory)
    products = {entry.product for entry in knowledge}
    print(f"OK: {len(knowledge)} entries, {len(products)} products, in {directory}")
    print(f"tests: checked with {used[0]}")
    return 0


def match(args: argparse.Namespace, settings: Settings) -> int:
    if args.top < 1:
        print("supportbot: --top must be at least 1", file=sys.stderr)
        return 2
    code = language_code(args.lang)
    shipped = Catalogue.load().languages if args.lang is not None else ()
    if args.lang is not None and code not in shipped:
        print(
            f"supportbot: --lang {args.lang!r} is not shipped; the responses exist in"
            f" {', '.join(shipped)}",
            file=sys.stderr,
        )
        return 2
    knowledge = load_knowledge(args.knowledge or settings.knowledge_dir)
    matcher: Any
    if code in knowledge.languages():  # as those customers are matched (Services.knowledge_for)
        localised = localise(knowledge, settings)[code]
        knowledge, matcher = localised.knowledge, localised.matcher
    else:  # the default language, or one the knowledge is not translated into
        matcher = make_matcher(knowledge, settings)
    lines: Iterable[str] = [args.text] if args.text is not None else sys.stdin
    out = sys.stdout
    if not args.json:  # JSON lines stay one object a line; the thresholds go with each
        out.write(f"{describe_matcher(matcher)}\n")
    bands = matcher.thresholds
    for chunk in _chunks((line.rstrip("\n") for line in lines), 256):
        for query, result in zip(chunk, matcher.match_many(chunk, args.top), strict=True):
            if args.json:
                matches = [
                    {"id": c.entry_id, "score": round(c.score, 2)} for c in result.candidates
                ]
                line = {
                    "query": query,
                    "band": result.band.value,
                    "matches": matches,
                    "thresholds": _json_thresholds(bands),
                }
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                continue
            out.write(f"{query!r}: {result.band.value}\n")
            for rank, candidate in enumerate(result.candidates, 1):
                entry = knowledge.get(candidate.entry_id)
                title = entry.title if entry else ""
                out.write(f"  {rank}. {candidate.score:5.1f}  {candidate.entry_id}  {title}\n")
        out.flush()
    return 0


def test(args: argparse.Namespace, settings: Settings) -> int:
    """Every ``tests:`` phrasing through the matcher the bot will use, as a pass/fail table;
    near-duplicate symptoms of two entries are warned about. Exit 0 when every phrasing finds
    its entry, 1 when one does not, 2 when the files do not load."""
    directory: Path = args.directory or settings.knowledge_dir
    try:
        knowledge = load_knowledge(directory)
    except KnowledgeError as exc:
        _print_unloadable(directory, exc.problems, as_json=args.json)
        return 2
    matcher = make_matcher(knowledge, settings)
    suites = language_tests(knowledge, matcher, settings.thresholds(DEFAULT_THRESHOLDS))
    outcomes = _run(suites, Console(stderr=True))
    duplicates = near_duplicates(knowledge)
    if args.json:
        report = _json_report(directory, suites, outcomes, duplicates, settings.default_language)
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_report(suites, outcomes, duplicates, settings.default_language)
    return 0 if all(outcome.passed for outcome in outcomes) else 1


def _run(suites: Sequence[LanguageTests], console: Console) -> list[TestOutcome]:
    """Every suite's outcomes; a progress bar on a terminal when there are many."""
    total = sum(len(suite) for suite in suites)
    outcomes: list[TestOutcome] = []
    hidden = total < PROGRESS_FROM or not console.is_terminal
    with Progress(console=console, transient=True, disable=hidden) as progress:
        task = progress.add_task("matching the tests: phrasings", total=total)
        for suite in suites:
            for outcome in suite.run():
                outcomes.append(outcome)
                progress.advance(task)
    return outcomes


def _print_report(
    suites: Sequence[LanguageTests],
    outcomes: Sequence[TestOutcome],
    duplicates: Sequence[NearDuplicate],
    default_language: str,
) -> None:
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = LOG_WIDTH
    if outcomes:
        table = Table()
        table.add_column("entry", overflow="fold")  # never cut: it is what to look up
        table.add_column("lang", no_wrap=True)
        table.add_column("phrasing", ratio=1)
        table.add_column("band", no_wrap=True)
        table.add_column("score", justify="right", no_wrap=True)
        table.add_column("top entry", overflow="fold")
        table.add_column("result", no_wrap=True)
        for outcome in outcomes:
            best = outcome.result.best
            table.add_row(
                Text(outcome.entry.id),  # Text: the knowledge's words are never rich markup
                outcome.tests.language or default_language,
                Text(outcome.phrasing),
                outcome.result.band.value,
                f"{best.score:.1f}" if best else "",
                Text(best.entry_id if best and best.entry_id != outcome.entry.id else ""),
                Text("PASS", "green") if outcome.passed else Text("FAIL", "bold red"),
            )
        console.print(table)
    else:
        console.print("no tests: phrasings to run; add some to the entries (see README)")
    failed = [problem for outcome in outcomes if (problem := outcome.problem())]
    for problem in failed:  # one unwrapped line each, as kb validate prints them
        console.print(f"FAIL {problem}", soft_wrap=True, markup=False)
    for duplicate in duplicates:
        console.print(f"warning: {duplicate}", soft_wrap=True, markup=False)
    suggested = _only_suggested(outcomes)
    only = f" ({suggested} of them only suggested, not answered)" if suggested else ""
    console.print(
        f"{len(outcomes) - len(failed)} passed{only}, {len(failed)} failed,"
        f" with {_describe(suites[0])}",
        soft_wrap=True,
        markup=False,
    )
    if len(suites) > 1:
        codes = ", ".join(suite.language or "" for suite in suites[1:])
        console.print(
            f"translations ({codes}): {_describe(suites[1])}", soft_wrap=True, markup=False
        )


def _only_suggested(outcomes: Sequence[TestOutcome]) -> int:
    """Passes the bot would offer as "Did you mean ...?" rather than answer."""
    return sum(outcome.passed and outcome.result.band is Band.SUGGEST for outcome in outcomes)


def _describe(suite: LanguageTests) -> str:
    return describe_matcher(_matcher(suite))


def _matcher(suite: LanguageTests) -> Matcher | SemanticMatcher:
    matcher = suite.matcher
    assert isinstance(matcher, Matcher | SemanticMatcher)  # make_matcher's or language_tests'
    return matcher


def _json_report(
    directory: Path,
    suites: Sequence[LanguageTests],
    outcomes: Sequence[TestOutcome],
    duplicates: Sequence[NearDuplicate],
    default_language: str,
) -> dict[str, Any]:
    failed = sum(not outcome.passed for outcome in outcomes)
    return {
        "directory": str(directory),
        "results": [_json_outcome(outcome, default_language) for outcome in outcomes],
        "near_duplicates": [
            {
                "language": duplicate.language or default_language,
                "entries": [duplicate.first.id, duplicate.second.id],
                "files": [duplicate.first.source, duplicate.second.source],
                "symptoms": [duplicate.first_symptom, duplicate.second_symptom],
                "score": duplicate.score,
                "more": duplicate.more,
            }
            for duplicate in duplicates
        ],
        "summary": {
            "total": len(outcomes),
            "passed": len(outcomes) - failed,
            "failed": failed,
            "suggested_only": _only_suggested(outcomes),
            "matchers": [
                {
                    "language": suite.language or default_language,
                    "matcher": _describe(suite),
                    "thresholds": _json_thresholds(_matcher(suite).thresholds),
                }
                for suite in suites
            ],
        },
    }


def _json_outcome(outcome: TestOutcome, default_language: str) -> dict[str, Any]:
    best = outcome.result.best
    problem = outcome.problem()
    return {
        "entry": outcome.entry.id,
        "file": outcome.entry.source,
        "language": outcome.tests.language or default_language,
        "phrasing": outcome.phrasing,
        "band": outcome.result.band.value,
        "score": best.score if best else None,
        "top": best.entry_id if best else None,
        "passed": outcome.passed,
        "problem": str(problem) if problem else None,
    }


def _json_thresholds(bands: Thresholds) -> dict[str, float]:
    return {"answer": bands.answer, "suggest": bands.suggest, "margin": bands.margin}


def _print_unloadable(directory: Path, problems: Sequence[Problem], *, as_json: bool) -> None:
    """The files do not load: every problem, file › entry › field, as kb validate says them."""
    if as_json:
        found = [
            {"file": p.file, "entry": p.entry, "field": p.field, "message": p.message}
            for p in problems
        ]
        print(json.dumps({"directory": str(directory), "problems": found}, ensure_ascii=False))
        return
    print(f"{len(problems)} problem(s) in {directory}:")
    for problem in problems:
        print(f"  {problem}")


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
