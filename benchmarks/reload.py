"""Reload benchmark: how long a knowledge reload takes, and how long it stalls the event loop.

Run ``python -m benchmarks.reload`` from the project root (``--help`` for options).

For each knowledge (the bundled demo, and ``tests.bulk_knowledge``'s 1,000 entries x 10
phrasings) and matcher (lexical; semantic when the [semantic] extra is installed), the bot's
own ``bot.app.build`` makes the app; then, ``--runs`` times, one entry gets one more symptom
and the knowledge is reloaded three ways on a running event loop:

- *on the loop, full rebuild*: what the bot did before (``KnowledgeWatch.check()`` called by
  the watcher coroutine, every matcher built from nothing);
- *in a thread, full rebuild*: ``await KnowledgeWatch.refresh()``, nothing reused;
- *in a thread, reusing*: ``await KnowledgeWatch.refresh()`` as the bot runs it now (the
  semantic model and unchanged phrasings' embeddings, unchanged languages' matchers).

Printed per row, medians over the runs: the reload's wall time (from the call to the new
knowledge in use), the longest stall of the event loop meanwhile (a ticker coroutine sleeps
5 ms over and over; a stall is how much later than asked it wakes), and the phrasings the
semantic matcher encoded. An idle loop's longest stall over 2 s is printed for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.tables import render as table
from bot.app import App, build, rebuild
from bot.settings import load_settings
from knowledge.loader import default_knowledge_dir
from knowledge.semantic import SemanticMatcher, semantic_available
from tests.bulk_knowledge import write_bulk_knowledge

TICK = 0.005  # seconds the ticker asks to sleep
MODES = ("on the loop, full rebuild", "in a thread, full rebuild", "in a thread, reusing")


@dataclass
class Row:
    knowledge: str
    matcher: str
    mode: str
    seconds: list[float]
    stalls: list[float]
    encoded: list[int]


async def longest_stall(work: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """``work``'s wall time, and the longest the loop was late for a ticker meanwhile."""
    running = True
    worst = 0.0

    async def ticker() -> None:
        nonlocal worst
        while running:
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            worst = max(worst, time.perf_counter() - before - TICK)

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(TICK)  # the ticker is running
    started = time.perf_counter()
    await work()
    seconds = time.perf_counter() - started
    running = False
    await ticking
    return seconds, worst


def edit_one_entry(directory: Path, run: int) -> None:
    """One more symptom for the first entry of the first file (a visibly newer file)."""
    path = sorted(directory.glob("*.yaml"))[0]
    text = path.read_text(encoding="utf-8")
    marker = "\n    symptoms:\n"
    at = text.index(marker) + len(marker)
    path.write_text(f"{text[:at]}      - it broke again, edit {run}\n{text[at:]}", "utf-8")
    stamp = path.stat().st_mtime_ns + (run + 1) * 10**9
    os.utime(path, ns=(stamp, stamp))


async def reload(app: App, mode: str) -> object:
    watch = app.knowledge_watch
    settings = app.settings
    if mode == MODES[2]:
        watch.rebuild = lambda kb: rebuild(app.conversations.services, kb, settings)
    else:
        watch.rebuild = lambda kb: rebuild(app.conversations.services, kb, settings, reuse=False)
    if mode == MODES[0]:
        return watch.check()
    return await watch.refresh()


def measure(directory: Path, label: str, matcher: str, runs: int, workdir: Path) -> list[Row]:
    settings = load_settings(
        database_url=f"sqlite:///{workdir / f'{label}-{matcher}.db'}",
        knowledge_dir=directory,
        matcher=matcher,
    )
    app = build(settings)
    rows = [Row(label, matcher, mode, [], [], []) for mode in MODES]

    async def go() -> None:
        for run in range(runs):
            for number, row in enumerate(rows):
                edit_one_entry(directory, run * len(rows) + number)
                before = app.conversations.services
                seconds, stall = await longest_stall(functools.partial(reload, app, row.mode))
                assert app.conversations.services is not before, "the edit was not reloaded"
                used = app.conversations.services.matcher
                row.seconds.append(seconds)
                row.stalls.append(stall)
                row.encoded.append(used.encoded if isinstance(used, SemanticMatcher) else 0)
                progress(f"{label} {matcher} {row.mode}: {seconds:.2f} s, stall {stall:.3f} s")

    asyncio.run(go())
    return rows


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def idle_stall() -> float:
    return asyncio.run(longest_stall(lambda: asyncio.sleep(2.0)))[1]


def render(rows: Sequence[Row], markdown: bool) -> str:
    headers = ["knowledge", "matcher", "reload", "time", "longest loop stall", "encoded"]
    body = [
        [
            row.knowledge,
            row.matcher,
            row.mode,
            f"{statistics.median(row.seconds):.2f} s",
            milliseconds(statistics.median(row.stalls)),
            f"{statistics.median(row.encoded):,.0f}" if row.matcher == "semantic" else "-",
        ]
        for row in rows
    ]
    return table(headers, body, markdown)


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.reload", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--runs", type=int, default=3, help="reloads per row (median)")
    parser.add_argument("--entries", type=int, default=1000, help="generated entries")
    parser.add_argument("--phrasings", type=int, default=10, help="per generated entry")
    parser.add_argument(
        "--knowledge", nargs="+", choices=["demo", "bulk"], default=["demo", "bulk"]
    )
    parser.add_argument(
        "--matchers", nargs="+", choices=["lexical", "semantic"], default=["lexical", "semantic"]
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    matchers = [m for m in args.matchers if m != "semantic" or semantic_available()]
    if matchers != args.matchers:
        progress("semantic skipped: the [semantic] extra is not installed")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="reload-bench-") as temporary:
        workdir = Path(temporary)
        for name in args.knowledge:
            for matcher in matchers:
                directory = workdir / f"{name}-{matcher}"
                if name == "demo":
                    shutil.copytree(default_knowledge_dir(), directory)
                    label = "demo"
                else:
                    write_bulk_knowledge(directory, args.entries, args.phrasings)
                    label = f"{args.entries:,} x {args.phrasings}"
                rows += measure(directory, label, matcher, args.runs, workdir)
    print(render(rows, args.markdown))
    idle = milliseconds(idle_stall())
    print(f"\nMedians of {args.runs} runs. An idle loop's longest stall over 2 s: {idle}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
