"""Follow-up benchmark: many follow-ups due at once, while customers get live replies.

Run ``python -m benchmarks.followups`` from the project root (``--help`` for options).

For each database (a fresh SQLite file; PostgreSQL too with ``--postgres URL``, whose tables
are dropped first and after): the real ``FollowUpDispatcher`` ticked by APScheduler and the
real ``Sender`` run on one event loop against the fake Bot API server (over HTTP on
127.0.0.1, in this process). First a baseline: for ``--baseline`` seconds a live message is
queued every ``--live-every`` seconds and nothing else. Then ``--count`` follow-ups fall due
at once (one per customer) and the same live messages go on until every follow-up is sent.

Printed: the drain time (first to last follow-up sent), the most follow-ups sent in any one
second (a sliding window over the fake server's arrival times; must not exceed
``--rate``), duplicates (questions received beyond one per follow-up), the delay of live
messages from being queued to reaching the server (median and max) with and without the
follow-ups, and the process's peak memory (max RSS; the fake server included).

A live message here is an outbox row, as the worker writes it after handling an update:
what is measured is the wait in the shared outbox and sender, which is what the budget is
for (the worker's own time does not change with follow-ups).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import functools
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.tables import render as table
from bot.app import build
from bot.clock import SystemClock
from bot.followups import FollowUpDispatcher, FollowUpFlow
from bot.settings import load_settings
from bot.storage import (
    MessageKind,
    OutgoingMessage,
    SqlUnitOfWork,
    downgrade,
    make_engine,
    upgrade,
)
from bot.telegram.channel import build_bot
from bot.telegram.sender import Sender
from flows.model import ChatId, FollowUp, FollowUpKind, FollowUpStatus, Ticket, TicketStatus
from tests.e2e.fake_bot_api import FakeBotApi
from tests.followup_standin import QUESTION, StandInFollowUps

LIVE_CHAT = 99  # the customer getting live replies meanwhile
FIRST_CUSTOMER = 1_000_000


class TimedFakeBotApi(FakeBotApi):
    """The fake server, noting when each sendMessage arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[float, int, str]] = []
        self._arrivals_lock = threading.Lock()

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        message = super()._m_sendMessage(params)
        with self._arrivals_lock:
            self.arrivals.append((time.monotonic(), int(params["chat_id"]), str(params["text"])))
        return message


@dataclass
class Result:
    database: str
    count: int
    rate: float
    drain: float
    max_per_second: int
    duplicates: int
    missing: int
    baseline: list[float]
    loaded: list[float]
    rss_mb: float


def max_in_any_second(times: Sequence[float]) -> int:
    """The most events in any half-open window [t, t + 1 s)."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered)), default=0)


def flows_for(url: str) -> FollowUpFlow:
    """The bot's own follow-up flow (``App.followups``), else the tests' stand-in while
    ``flows.followup`` has not landed."""
    app = build(load_settings(database_url=url, matcher="lexical", quiet_hours=""))
    return app.followups if app.followups is not None else StandInFollowUps(app.clock)


def seed(url: str, count: int) -> Any:
    engine = make_engine(url)
    downgrade(engine)
    upgrade(engine)
    now = datetime.now(UTC) - timedelta(seconds=1)
    batch = 1000
    for start in range(0, count, batch):
        with SqlUnitOfWork(engine) as uow:
            for n in range(start, min(start + batch, count)):
                chat = ChatId(FIRST_CUSTOMER + n)
                ticket = uow.tickets.add(Ticket(chat, "kettle", TicketStatus.RESOLVED, now, now))
                assert ticket.id is not None
                uow.followups.add(FollowUp(ticket.id, chat, FollowUpKind.CHECK, now))
            uow.commit()
    return engine


async def run_one(label: str, url: str, args: argparse.Namespace) -> Result:
    engine = seed(url, 0)
    fake = TimedFakeBotApi()
    fake.start()
    clock = SystemClock()
    new_uow = functools.partial(SqlUnitOfWork, engine)
    bot = build_bot(fake.token, fake.base_url, fake.base_file_url)
    await bot.initialize()
    sender = Sender(bot=bot, new_uow=new_uow, clock=clock, followup_rate=args.rate)
    stop = asyncio.Event()
    sending = asyncio.create_task(sender.run(stop))
    queued: dict[str, float] = {}

    async def live(until: asyncio.Event) -> None:
        n = 0
        while not until.is_set():
            text = f"live {label} {n}"
            with new_uow() as uow:
                uow.outbox.add(OutgoingMessage(LIVE_CHAT, MessageKind.SEND, text), clock.now())
                uow.commit()
            queued[text] = time.monotonic()
            sender.wake.set()
            n += 1
            await asyncio.sleep(args.live_every)

    def delays(since: float) -> list[float]:
        arrived = {text: t for t, chat, text in fake.arrivals if chat == LIVE_CHAT}
        return [arrived[k] - q for k, q in queued.items() if k in arrived and q >= since]

    try:
        # baseline: live replies alone
        phase = asyncio.Event()
        started = time.monotonic()
        talker = asyncio.create_task(live(phase))
        await asyncio.sleep(args.baseline)
        phase.set()
        await talker
        await asyncio.sleep(0.5)
        baseline = delays(started)

        # the load: every follow-up due at once, live replies going on
        engine.dispose()
        engine = seed(url, args.count)
        new_uow = functools.partial(SqlUnitOfWork, engine)
        sender.new_uow = new_uow
        dispatcher = FollowUpDispatcher(
            new_uow=new_uow,
            flows=flows_for(url),
            clock=clock,
            agent_chat_id=None,
            rate=args.rate,
            on_outbox=sender.wake,
        )
        phase = asyncio.Event()
        loaded_since = time.monotonic()
        talker = asyncio.create_task(live(phase))
        dispatcher.start()
        while True:
            await asyncio.sleep(1.0)
            with new_uow() as uow:
                counts = uow.followups.count_by_status()
                waiting = uow.outbox.count_due(clock.now())
            done = counts.get(FollowUpStatus.SENT, 0) + counts.get(FollowUpStatus.CANCELLED, 0)
            print(f"  {label}: {done}/{args.count} follow-ups handled", file=sys.stderr)
            if done >= args.count and waiting == 0:
                break
        await dispatcher.stop()
        phase.set()
        await talker
        await asyncio.sleep(0.5)
        loaded = delays(loaded_since)
    finally:
        stop.set()
        sender.wake.set()
        await sending
        await bot.shutdown()
        fake.stop()
    sends = [(t, chat) for t, chat, text in fake.arrivals if text.startswith(QUESTION)]
    times = [t for t, _ in sends]
    per_chat: dict[int, int] = {}
    for _, chat in sends:
        per_chat[chat] = per_chat.get(chat, 0) + 1
    if url.startswith("postgresql"):
        downgrade(engine)
    engine.dispose()
    return Result(
        database=label,
        count=args.count,
        rate=args.rate,
        drain=(max(times) - min(times)) if times else 0.0,
        max_per_second=max_in_any_second(times),
        duplicates=sum(n - 1 for n in per_chat.values()),
        missing=args.count - len(per_chat),
        baseline=baseline,
        loaded=loaded,
        rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def ms(values: list[float], how: str) -> str:
    if not values:
        return "-"
    value = statistics.median(values) if how == "median" else max(values)
    return f"{value * 1000:.0f} ms"


def render(results: list[Result], markdown: bool) -> str:
    headers = [
        "database",
        "follow-ups",
        "FOLLOWUP_RATE",
        "drain",
        "most sent in 1 s",
        "duplicates",
        "missing",
        "live delay alone (median / max)",
        "live delay with follow-ups (median / max)",
        "peak RSS",
    ]
    rows = [
        [
            r.database,
            f"{r.count:,}",
            f"{r.rate:g}",
            f"{r.drain:.0f} s",
            str(r.max_per_second),
            str(r.duplicates),
            str(r.missing),
            f"{ms(r.baseline, 'median')} / {ms(r.baseline, 'max')} (n={len(r.baseline)})",
            f"{ms(r.loaded, 'median')} / {ms(r.loaded, 'max')} (n={len(r.loaded)})",
            f"{r.rss_mb:.0f} MB",
        ]
        for r in results
    ]
    return table(headers, rows, markdown)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.followups",
        description="Many follow-ups due at once against the fake Bot API, with live replies.",
    )
    parser.add_argument("--count", type=int, default=10_000, help="follow-ups due at once")
    parser.add_argument("--rate", type=float, default=10.0, help="FOLLOWUP_RATE (1-30)")
    parser.add_argument("--postgres", metavar="URL", help="also on this PostgreSQL database")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--baseline", type=float, default=10.0, help="seconds of live alone")
    parser.add_argument(
        "--live-every", type=float, default=0.2, help="seconds between live messages"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [] if args.no_sqlite else [("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        for label, url in targets:
            results.append(asyncio.run(run_one(label, url, args)))
    print(render(results, args.markdown))
    bad = [r for r in results if r.max_per_second > r.rate or r.duplicates or r.missing]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
