"""History benchmark: do the questions the bot asks all the time cost more as its history grows?

Run ``python -m benchmarks.history`` from the project root (``--help`` for options).

A bot runs for months; its inbox keeps every update it handled, its outbox every message it
sent, ``ticket_event`` every ticket's story. For each size of history (handled updates, sent
messages and tickets, as many of each), stored in bulk into a fresh database migrated by the
bot's own ``upgrade``, the bot's own repositories answer, ``--runs`` times each, in a
transaction rolled back afterwards (so every run finds the same rows):

- *worker's look*: the updates to handle (``inbox.pending``, 20 waiting) and when the next
  retry falls due: every pass of the worker, that is every time an update arrives;
- *inbox count*: updates not handled yet (``/metrics``, the webhook's idle passes);
- *sender's claim*: 20 due messages taken (``outbox.claim``): every few replies;
- *typical wait*: the latest first-reply times (``first_response_times``): every hand-over.

Printed: the median milliseconds per question at each size, and the ratio to the same
question with no history, measured in the same run (the baseline). SQLite always;
PostgreSQL with ``--database-url`` (a database is created beside it and dropped after).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, text

from benchmarks.tables import render as table
from bot.storage import MessageKind, OutgoingMessage, SqlUnitOfWork, make_engine, upgrade
from bot.storage.tables import InboxRow, OutboxRow, TicketEventRow

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=400)
WAITING = 20
CHUNK = 5000

Question = Callable[[SqlUnitOfWork], object]
QUESTIONS: dict[str, Question] = {
    "worker's look": lambda uow: (
        uow.inbox.pending(50, now=NOW),
        uow.inbox.next_due_at(NOW),
    ),
    "inbox count": lambda uow: uow.inbox.count_pending(),
    "sender's claim": lambda uow: uow.outbox.claim(NOW, NOW + timedelta(seconds=60), WAITING),
    "typical wait": lambda uow: uow.ticket_events.first_response_times(20),
}


def grow(engine: Engine, start: int, end: int) -> None:
    """History from ``start`` to ``end``: handled updates, sent messages, answered tickets."""
    for first in range(start, end, CHUNK):
        last = min(first + CHUNK, end)
        numbers = range(first, last)
        at = [T0 + timedelta(seconds=30 * n) for n in numbers]
        with engine.begin() as connection:  # on the tables: their column types apply
            connection.execute(
                insert(InboxRow.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "update_id": n + 1,
                        "chat_id": 10_000 + n % 997,
                        "payload": _PAYLOAD,
                        "received_at": a,
                        "processed_at": a,
                    }
                    for n, a in zip(numbers, at, strict=True)
                ],
            )
            connection.execute(
                insert(OutboxRow.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "chat_id": 10_000 + n % 997,
                        "kind": "send",
                        "text": "Thanks! " * 20,
                        "status": "sent",
                        "created_at": a,
                        "sent_at": a,
                    }
                    for n, a in zip(numbers, at, strict=True)
                ],
            )
            connection.execute(
                insert(TicketEventRow.__table__),  # type: ignore[attr-defined]
                [
                    {"ticket_id": n + 1, "at": a + timedelta(minutes=later), "kind": kind}
                    for n, a in zip(numbers, at, strict=True)
                    for kind, later in (("opened", 0), ("escalated", 1), ("agent_replied", 9))
                ],
            )


_PAYLOAD = '{"update_id": 1, "message": {"text": "my headphones will not pair"}}'


def waiting(engine: Engine) -> None:
    """What is waiting now: ``WAITING`` updates and messages (the same at every size)."""
    with SqlUnitOfWork(engine) as uow:
        for n in range(WAITING):
            uow.inbox.add(10**9 + n, _PAYLOAD, NOW, chat_id=50_000 + n)
            uow.outbox.add(OutgoingMessage(50_000 + n, MessageKind.SEND, "Hello"), NOW)
        uow.commit()


def median_ms(engine: Engine, question: Question, runs: int) -> float:
    times = []
    for _ in range(runs):
        with SqlUnitOfWork(engine) as uow:  # rolled back: the next run finds the same rows
            started = time.perf_counter()
            question(uow)
            times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def measure(url: str, sizes: Sequence[int], runs: int) -> dict[int, dict[str, float]]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        waiting(engine)
        results: dict[int, dict[str, float]] = {}
        grown = 0
        for size in sorted(sizes):
            grow(engine, grown, size)
            grown = size
            if engine.dialect.name == "postgresql":
                with engine.begin() as connection:  # as autovacuum would, sooner or later
                    connection.execute(text("ANALYZE"))
            results[size] = {
                name: median_ms(engine, question, runs) for name, question in QUESTIONS.items()
            }
            print(f"  {size:,} in the history: measured", file=sys.stderr, flush=True)
        return results
    finally:
        engine.dispose()


def rows(database: str, results: dict[int, dict[str, float]]) -> list[list[str]]:
    base = results[min(results)]
    out = []
    for size, timings in results.items():
        cells = [database, f"{size:,}"]
        for name in QUESTIONS:
            ratio = timings[name] / base[name] if base[name] else float("nan")
            cells.append(f"{timings[name]:.2f} ms ({ratio:.1f}x)")
        out.append(cells)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.history", description=__doc__)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[0, 10_000, 100_000], help="history sizes"
    )
    parser.add_argument("--runs", type=int, default=21, help="runs per question (median)")
    parser.add_argument("--database-url", help="also PostgreSQL (a database is made beside it)")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--quick", action="store_true", help="sizes 0 and 10,000, 7 runs")
    args = parser.parse_args(argv)
    sizes, runs = ([0, 10_000], 7) if args.quick else (args.sizes, args.runs)
    if 0 not in sizes:
        sizes = [0, *sizes]  # the baseline
    table_rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="history-") as tmp:
        print("SQLite", file=sys.stderr)
        sqlite_url = f"sqlite:///{Path(tmp) / 'bot.db'}"
        table_rows += rows("SQLite", measure(sqlite_url, sizes, runs))
    if args.database_url:
        from benchmarks.throughput_harness import postgres_database

        print("PostgreSQL", file=sys.stderr)
        with postgres_database(args.database_url) as url:
            table_rows += rows("PostgreSQL", measure(url, sizes, runs))
    headers = ["database", "history", *QUESTIONS]
    print(f"`python -m benchmarks.history {' '.join(sys.argv[1:])}`".strip())
    print(f"median of {runs} runs; (Nx): against no history, in the same run\n")
    print(table(headers, table_rows, args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
