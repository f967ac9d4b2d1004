"""`supportbot kb ...`: check the knowledge files and try phrases against them, with the
matcher and thresholds the bot will use."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from bot.app import describe_matcher, make_matcher
from bot.settings import Settings
from knowledge.loader import load_knowledge, validate_knowledge
from knowledge.matcher import DEFAULT_THRESHOLDS
from knowledge.schema import KnowledgeBase


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
    knowledge = load_knowledge(args.knowledge or settings.knowledge_dir)
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
                    "thresholds": {
                        "answer": bands.answer,
                        "suggest": bands.suggest,
                        "margin": bands.margin,
                    },
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


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
