"""Report benchmark: how long `supportbot report` takes on a busy month.

Run ``python -m benchmarks.report`` from the project root (``--help`` for options).

Seeds a fresh SQLite file with ``--tickets`` tickets over 30 days, each one of the stories of
``tests/report_seed.py`` (solved by the bot, handed off, replaced, reopened, rated ...) at a
random time, and ``--unmatched`` questions the knowledge missed: paraphrases of the labelled
set's groups and of the demo knowledge's symptoms, with typos, dropped and added words, and
one-off questions. Then runs the real command, ``python -m bot report --since ... --json``
and ``--html``, with each matcher (semantic only when the extra is installed), and prints the
wall time of each run and the HTML page's size.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from benchmarks.tables import render as table
from bot.storage import SqlUnitOfWork, make_engine, upgrade
from flows.learning import Unmatched, UnmatchedReason
from flows.model import ChatId, FollowUp, FollowUpKind, Ticket, TicketEvent, TicketEventKind
from knowledge.loader import default_knowledge_dir, load_knowledge
from knowledge.semantic import semantic_available
from tests.report_seed import AGENT, STORIES, at

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 30
BATCH = 500  # tickets a transaction while seeding


def seed(url: str, tickets: int, unmatched: int, seed_: int = 0) -> None:
    rnd = random.Random(seed_)
    engine = make_engine(url)
    upgrade(engine)
    for first in range(0, tickets, BATCH):
        with SqlUnitOfWork(engine) as uow:
            for number in range(first, min(first + BATCH, tickets)):
                opened_at, status, steps, checks = rnd.choice(STORIES)
                shift = START + timedelta(seconds=rnd.randrange(DAYS * 86400)) - at(opened_at)
                chat = ChatId(1000 + number)
                ticket = uow.tickets.add(
                    Ticket(chat, f"ticket {number}", status, at(opened_at) + shift, START)
                )
                assert ticket.id is not None
                uow.ticket_events.add(
                    TicketEvent(ticket.id, TicketEventKind.OPENED, at(opened_at) + shift)
                )
                for kind, when, detail, by_agent in steps:
                    actor = AGENT if by_agent else None
                    uow.ticket_events.add(
                        TicketEvent(ticket.id, kind, at(when) + shift, actor, detail)
                    )
                for round_, followup_status, sent in checks:
                    due = at(opened_at) + shift + timedelta(days=round_)
                    uow.followups.add(
                        FollowUp(
                            ticket.id,
                            chat,
                            FollowUpKind.CHECK,
                            due,
                            round_,
                            followup_status,
                            sent_at=due if sent else None,
                        )
                    )
            uow.commit()
    with SqlUnitOfWork(engine) as uow:
        for text in questions(unmatched, rnd):
            asked = START + timedelta(seconds=rnd.randrange(DAYS * 86400))
            reason = rnd.choice(list(UnmatchedReason))
            uow.unmatched.add(Unmatched(ChatId(1), text, reason, asked, "en"))
        uow.commit()
    engine.dispose()


def questions(count: int, rnd: random.Random) -> list[str]:
    """70 % paraphrases of a few dozen problems (Zipf-sized), 30 % one-off questions."""
    data = yaml.safe_load((ROOT / "tests/data/unmatched_groups.yaml").read_text("utf-8"))
    topics: list[list[str]] = list(data["groups"].values())
    topics += [[e.title, *e.symptoms] for e in load_knowledge(default_knowledge_dir())]
    vocabulary = sorted({w for topic in topics for t in topic for w in t.lower().split()})
    openings = ["", "", "", "hi ", "hello, ", "please help ", "urgent: "]
    endings = ["", "", "", "?", " thanks", " pls", "!!"]

    def reworded(text: str) -> str:
        words = text.split()
        if len(words) > 3 and rnd.random() < 0.3:
            words.pop(rnd.randrange(len(words)))
        if rnd.random() < 0.3:  # a typo: two letters swapped
            i = rnd.randrange(len(words))
            word = words[i]
            if len(word) > 4:
                j = rnd.randrange(len(word) - 1)
                words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        if rnd.random() < 0.2:
            words.insert(rnd.randrange(len(words) + 1), rnd.choice(vocabulary))
        return rnd.choice(openings) + " ".join(words) + rnd.choice(endings)

    weights = [1 / (rank + 1) for rank in range(len(topics))]
    found = [reworded(rnd.choice(rnd.choices(topics, weights)[0])) for _ in range(int(count * 0.7))]
    while len(found) < count:
        found.append(" ".join(rnd.choice(vocabulary) for _ in range(rnd.randint(3, 10))))
    return found


def run_report(url: str, matcher: str, extra: list[str], cwd: Path) -> float:
    """Wall seconds of one `supportbot report` process."""
    env = {"DATABASE_URL": url, "MATCHER": matcher, "PATH": "/usr/bin:/bin"}
    since = ["--since", START.date().isoformat(), "--until", "2026-10-31"]
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", "report", *since, *extra],
        env=env,
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--unmatched", type=int, default=3_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        url = f"sqlite:///{work / 'month.db'}"
        started = time.perf_counter()
        seed(url, args.tickets, args.unmatched)
        print(
            f"seeded {args.tickets:,} tickets and {args.unmatched:,} unmatched questions"
            f" in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        rows = []
        matchers = ["lexical", *(["semantic"] if semantic_available() else [])]
        for matcher in matchers:
            for label, extra in (("--json", ["--json"]), ("--html", ["--html", "r.html"])):
                seconds = run_report(url, matcher, extra, work)
                size = (work / "r.html").stat().st_size / 1e6 if label == "--html" else None
                rows.append([matcher, label, f"{seconds:.1f}", f"{size:.1f}" if size else ""])
        print(table(["matcher", "output", "seconds", "HTML MB"], rows, markdown=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
