"""Throughput benchmark (issue 12): the whole bot under a burst of customers.

``python -m benchmarks.throughput [DATA_DIR] [--quick] [--configs sqlite pg1 pg3] ...``

N customers x M messages of real customer text (CLINC150) wait as a backlog at the fake Bot
API (``tests/e2e/fake_bot_api.py``); the bot (``python -m bot run``, one or three processes)
is released on them and measured until every customer message got its replies. A bare
python-telegram-bot echo bot (``benchmarks.echo_bot``) is measured in the same run,
alternating with ours, as the ceiling. See the "Throughput benchmark" section of
``benchmarks/README.md`` for the columns and definitions.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.match.common import DEFAULT_DATA_DIR, PROJECT_ROOT
from benchmarks.match.data import draw_phrasings, load_clinc150, make_entries, write_knowledge
from benchmarks.match.report import update_readme
from benchmarks.throughput_harness import (
    FIRST_CUSTOMER,
    WEBHOOK_SECRET,
    Inbox,
    LoadBalancer,
    RecordingFake,
    cpu_seconds,
    free_port,
    peak_rss_mb,
    postgres_database,
    warm_up,
)
from benchmarks.throughput_stats import (
    compare_chats,
    normalise,
)
from benchmarks.throughput_table import PACED_ECHO, goals_table, results_table
from benchmarks.throughput_trial import Trial, by_chat, log_problems, summarise, timeline
from tests.e2e.botprocess import BotProcess

SCRIPTS = 10  # distinct customer scripts; customer c plays script c % SCRIPTS
SETTLE = 1.5  # seconds without a new message before a run is over (late duplicates show)


@dataclass(frozen=True)
class Config:
    name: str
    database: str  # "sqlite" or "pg"
    replicas: int
    webhook: bool


CONFIGS = {
    "sqlite": Config("sqlite", "sqlite", 1, False),
    "pg1": Config("pg1", "pg", 1, False),
    "pg3": Config("pg3", "pg", 3, True),
    "sqlite-webhook": Config("sqlite-webhook", "sqlite", 1, True),
    "pg1-webhook": Config("pg1-webhook", "pg", 1, True),
}


# --- the customers ----------------------------------------------------------------------------


def make_scripts(data_dir: Path, messages: int, seed: int = 0) -> tuple[list[list[str]], Any]:
    """SCRIPTS customer scripts of ``messages`` lines (CLINC150's test questions, one in five
    out of scope) and the knowledge drawn from its train split (10 phrasings an intent)."""
    dataset = load_clinc150(data_dir)
    rng = random.Random(f"throughput:{seed}")
    in_scope = [text for text, _ in dataset.test]
    scripts = [
        [rng.choice(dataset.oos_test if rng.random() < 0.2 else in_scope) for _ in range(messages)]
        for _ in range(SCRIPTS)
    ]
    entries = make_entries(draw_phrasings(dataset.train, 10, seed), "phrasing")
    return scripts, entries


# --- one measured run -----------------------------------------------------------------------


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure(
    label: str,
    config: Config | None,  # None: the echo bot
    customers: int,
    scripts: Sequence[Sequence[str]],
    knowledge: Path,
    database_url: str | None,
    timeout: float,
    done_when: Callable[[dict[int, list[str]]], bool] | None = None,
    fake: RecordingFake | None = None,
    paced: bool = False,  # the echo bot with PTB's AIORateLimiter
) -> Trial:
    """One run: start the bot(s), release the backlog, wait until all is answered. ``fake``:
    a fresh Bot API of the caller's (which pushes its own backlog), read after the run."""
    fake = RecordingFake() if fake is None else fake
    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp, fake:
        workdir = Path(tmp)
        env = {
            "PYTHONPATH": str(PROJECT_ROOT),
            "KNOWLEDGE_DIR": str(knowledge),
            "LOG_LEVEL": "INFO",
        }
        if paced:
            env["ECHO_PACED"] = "1"
        if config is not None and config.database == "pg":
            assert database_url is not None
            env["DATABASE_URL"] = database_url
        elif config is not None:
            env["DATABASE_URL"] = f"sqlite:///{workdir / 'bot.db'}"
        processes: list[BotProcess] = []
        ports: list[int] = []
        inbox: Inbox | None = None
        try:
            for i in range(1 if config is None else config.replicas):
                folder = workdir / f"bot{i}"
                folder.mkdir()
                extra = dict(env)
                if config is not None and config.webhook:
                    ports.append(free_port())
                    extra |= {
                        "WEBHOOK_URL": "https://bot.example.test/telegram/hook",
                        "WEBHOOK_SECRET": WEBHOOK_SECRET,
                        "WEBHOOK_LISTEN": f"127.0.0.1:{ports[-1]}",
                    }
                module = "benchmarks.echo_bot" if config is None else "bot"
                process = BotProcess(fake, folder, module=module, **extra)
                processes.append(process)
                if config is not None and config.webhook:
                    process.start(wait=False)
                    fake.wait_for_requests("setWebhook", count=i + 1, timeout=120)
                else:
                    process.start()
            if "DATABASE_URL" in env:
                inbox = Inbox(env["DATABASE_URL"])
            warm_up(fake, ports, inbox, timeout)
            time.sleep(0.5)  # let start-up work settle before the CPU is read
            pids = [p.process.pid for p in processes if p.process is not None]
            cpu_before = sum(cpu_seconds(pid) for pid in pids)
            return _run(
                label, config, fake, processes, ports, pids, cpu_before, inbox,
                customers, scripts, timeout, done_when,
            )  # fmt: skip
        finally:
            for process in processes:
                if process.alive():
                    try:
                        process.stop(timeout=20)
                    except Exception:
                        process.kill()
            if inbox is not None:
                inbox.close()


def _run(
    label: str,
    config: Config | None,
    fake: RecordingFake,
    processes: list[BotProcess],
    ports: list[int],
    pids: list[int],
    cpu_before: float,
    inbox: Inbox | None,
    customers: int,
    scripts: Sequence[Sequence[str]],
    timeout: float,
    done_when: Callable[[dict[int, list[str]]], bool] | None,
) -> Trial:
    webhook = config is not None and config.webhook
    harness_cpu = time.process_time()
    if webhook:
        # the fake makes the updates up; Telegram (the load balancer) posts them
        ids = fake.push_backlog(customers, scripts)
        updates = [fake.pushed_update(i) for i in ids]
    t0 = time.time()
    give_up = t0 + timeout
    if webhook:
        balancer = LoadBalancer(updates, ports, give_up)
        balancer.start()
    else:
        ids = fake.push_backlog(customers, scripts)
        t0 = time.time()
    total = len(ids)
    progress(f"{label}: {total} updates released")
    finished, seen, quiet_since = False, 0, time.time()
    while time.time() < give_up:
        time.sleep(0.25)
        if len(fake.sends) != seen:
            seen, quiet_since = len(fake.sends), time.time()
        if time.time() - quiet_since < SETTLE:
            continue
        if not all(p.alive() for p in processes):
            break
        if inbox is not None:
            handled, pending = inbox.progress()
            if handled >= total and pending == 0:
                finished = True
                break
        elif done_when is not None and done_when(by_chat(fake.sends)):
            finished = True
            break
    cpu = sum(cpu_seconds(pid) for pid in pids if Path(f"/proc/{pid}").exists()) - cpu_before
    rss = sum(peak_rss_mb(pid) for pid in pids if Path(f"/proc/{pid}").exists())
    if webhook:
        balancer.done.wait(5)
        # made available when its POST went out; arrived in Telegram's order (update_id), the
        # order it posts them in: the order in which 40 parallel POSTs' 200s come back is noise
        available = {FIRST_CUSTOMER + c: balancer.started.get(c, t0) for c in range(customers)}
    else:
        available = {FIRST_CUSTOMER + c: t0 for c in range(customers)}
    arrival = {FIRST_CUSTOMER + c: (t0, ids[c]) for c in range(customers)}
    processed = inbox.span() if inbox is not None else None
    sends = [s for s in fake.sends if s[0] >= t0]  # the warm-up's were sent before
    problems = sum(log_problems(p.log()) for p in processes)
    took = max((t for t, _, _ in sends), default=t0) - t0
    harness = time.process_time() - harness_cpu
    progress(
        f"{label}: {'done' if finished else 'TIMED OUT'} in {took:.1f} s, {len(sends)} messages "
        f"sent, {problems} log errors; bot CPU {cpu:.1f} s, this process (fake Bot API"
        f"{', load balancer' if webhook else ''}) {harness:.1f} s"
    )
    return Trial(
        label, total, t0, sends, by_chat(sends), available, arrival, processed, cpu, rss,
        finished, problems,
    )  # fmt: skip


# --- the whole run --------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__)
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--customers", type=int, help="500 (with --escalations: 200)")
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument(
        "--escalations",
        type=int,
        default=0,
        metavar="K",
        help="instead of the echo comparison: the customers alone, then the same customers "
        "with K more asking for a person at once, alternating (benchmarks.throughput_escalations)",
    )
    parser.add_argument(
        "--escalations-at",
        choices=["mixed", "first", "last"],
        default="mixed",
        help="where the K escalations stand in the backlog (mixed: spread evenly)",
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--configs",
        nargs="+",
        choices=list(CONFIGS),
        help="sqlite pg1 pg3 (with --escalations: sqlite pg1)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL", ""),
        help="PostgreSQL server for pg1/pg3 (default: TEST_DATABASE_URL); a fresh database "
        "is created on it for each run and dropped after",
    )
    parser.add_argument(
        "--paced-echo",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also the echo bot with PTB's AIORateLimiter (the CPU of paced sends)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run at most")
    parser.add_argument("--quick", action="store_true", help="50 customers x 5 messages, 1 round")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument(
        "--json",
        type=Path,
        help="write every run second by second here (messages to customers and to other "
        "chats, first replies, the inbox's span)",
    )
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args(argv)
    if args.customers is None:
        args.customers = 200 if args.escalations else 500
    if args.configs is None:
        args.configs = ["sqlite", "pg1"] if args.escalations else ["sqlite", "pg1", "pg3"]
    if args.quick:
        args.customers, args.messages, args.rounds = 50, 5, 1
    return args


def command_line(argv: Sequence[str] | None) -> str:
    given = sys.argv[1:] if argv is None else list(argv)
    return shlex.join(["python", "-m", "benchmarks.throughput", *given])


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # stopped (timeout, kill): stop the bots and drop the databases on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not args.data_dir.is_dir():
        print(f"benchmark data folder not found: {args.data_dir} (pass DATA_DIR)", file=sys.stderr)
        return 2
    configs = [CONFIGS[name] for name in args.configs]
    if not args.database_url:
        for c in configs:
            if c.database == "pg":
                print(f"{c.name}: skipped, no PostgreSQL (--database-url or TEST_DATABASE_URL)")
        configs = [c for c in configs if c.database != "pg"]
    if args.escalations:
        from benchmarks.throughput_escalations import compare_escalations

        return compare_escalations(args, configs, command_line(argv))
    scripts, entries = make_scripts(args.data_dir, args.messages)
    with tempfile.TemporaryDirectory(prefix="throughput-knowledge-") as kdir:
        knowledge = Path(kdir)
        write_knowledge(knowledge, "Benchmark", entries)
        progress(f"reference: {SCRIPTS} customers, one bot on SQLite")
        reference = measure(
            "reference", CONFIGS["sqlite"], SCRIPTS, scripts, knowledge, None, args.timeout
        )
        firsts = measure(  # how many of each script's replies answer its first line
            "reference, first lines", CONFIGS["sqlite"], SCRIPTS, [s[:1] for s in scripts],
            knowledge, None, args.timeout,
        ).customers  # fmt: skip
        chats = {FIRST_CUSTOMER + c: FIRST_CUSTOMER + c % SCRIPTS for c in range(args.customers)}
        expected = {chat: reference.customers.get(played, []) for chat, played in chats.items()}
        first_answers = {chat: len(firsts.get(played, [])) for chat, played in chats.items()}
        echo_expected = {
            chat: [normalise(t) for t in scripts[p - FIRST_CUSTOMER]] for chat, p in chats.items()
        }
        trials: dict[str, list[Trial]] = {"echo": [], "paced": []}
        trials |= {c.name: [] for c in configs}

        def echoed(got: dict[int, list[str]]) -> bool:
            return all(len(got.get(c, ())) >= len(want) for c, want in echo_expected.items())

        for round_ in range(args.rounds):
            for kind in ("echo", "paced") if args.paced_echo else ("echo",):
                name = "echo" if kind == "echo" else "paced echo"
                echo = measure(
                    f"round {round_ + 1} {name}", None, args.customers, scripts, knowledge,
                    None, args.timeout, done_when=echoed, paced=kind == "paced",
                )  # fmt: skip
                echo.tally = compare_chats(echo_expected, echo.customers)
                trials[kind].append(echo)
            for config in configs:
                label = f"round {round_ + 1} {config.name}"
                pg = config.database == "pg"
                with postgres_database(args.database_url) if pg else nullcontext() as url:
                    trial = measure(
                        label, config, args.customers, scripts, knowledge, url, args.timeout
                    )
                trial.tally = compare_chats(expected, trial.customers)
                trials[config.name].append(trial)
    echoes = dict.fromkeys(chats, 1)  # the echo bot answers each line with one message
    echo_row = summarise("echo bot (PTB)", trials["echo"], None, echoes)
    rows = [echo_row] + [
        summarise(c.name, trials[c.name], echo_row, first_answers) for c in configs
    ]
    if trials["paced"]:
        rows.insert(1, summarise(PACED_ECHO, trials["paced"], echo_row, echoes))
    command = command_line(argv)
    intro = (
        f"`{command}`: {args.customers} customers x {args.messages} messages, "
        f"{args.rounds} round(s), medians over rounds (lost/duplicated/reordered/errors: the "
        f"worst round); reference transcript: {sum(map(len, reference.customers.values()))} "
        f"messages to {SCRIPTS} customers."
    )
    print(intro)
    print(results_table(rows, args.markdown))
    print(goals_table(rows, args.markdown))
    if args.json is not None:
        runs = [timeline(reference)] + [timeline(t) for ts in trials.values() for t in ts]
        args.json.write_text(json.dumps(runs, indent=1), encoding="utf-8")
    if args.update_readme:
        update_readme(
            {
                "throughput": intro + "\n\n" + results_table(rows, True),
                "throughput-goals": goals_table(rows, True),
            }
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
