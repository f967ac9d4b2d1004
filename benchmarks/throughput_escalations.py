"""Issue 12's "200 customers plus 50 escalations at once: ordinary customers' first replies as
fast as without the escalations (within 20 %)", measured.

``python -m benchmarks.throughput DATA_DIR --escalations 50 [--customers 200] [--rounds 2]``

For each configuration, alternating in one invocation: (a) N ordinary customers, one message
each, at once; (b) the same N customers (same chats' scripts, same order) with K more who send
``/human`` at once, spread among them (``--escalations-at``). Each escalation opens a topic in
the team chat (a forum supergroup: Telegram lets a bot send 20 messages a minute to a group)
and posts its notices there. The figures are the ordinary customers' first replies in both
runs and their ratio (b)/(a) per round, the team chat's messages and when its last one came,
and lost / duplicated / reordered over every customer chat. See "Escalations at once" in
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.match.data import write_knowledge
from benchmarks.match.report import update_readme
from benchmarks.throughput import SCRIPTS, Config, make_scripts, measure, progress
from benchmarks.throughput_harness import FIRST_CUSTOMER, RecordingFake, postgres_database
from benchmarks.throughput_stats import (
    compare_chats,
    escalation_plan,
    first_reply_latencies,
    median,
    per_second,
    percentile,
    sent_before,
)
from benchmarks.throughput_table import number, show
from benchmarks.throughput_trial import Trial, timeline
from tests.e2e.botprocess import AGENT_CHAT

GOAL = 1.2  # ordinary first replies with the escalations at most 20 % slower than without


class EscalationFake(RecordingFake):
    """The recording fake whose backlog follows a plan (``escalation_plan``): position c is
    private chat FIRST_CUSTOMER + c, writing its script's first line or ``/human``. Topics
    created in the team chat are timed too (they count against the group's limit)."""

    def __init__(self, plan: Sequence[int | None]) -> None:
        super().__init__()
        self.plan = list(plan)
        self.topics_at: list[float] = []

    def _call(self, token: str, method: str, params: dict[str, Any]) -> Any:
        result = super()._call(token, method, params)
        if method.lower() == "createforumtopic":
            self.topics_at.append(time.time())
        return result

    def push_backlog(self, customers: int, scripts: Sequence[Sequence[str]]) -> list[int]:
        assert customers == len(self.plan)
        with self._cond:  # the long poll is woken once, with everything in
            return [
                self.push_command(FIRST_CUSTOMER + c, "human")
                if script is None
                else self.push_text(FIRST_CUSTOMER + c, scripts[script][0])
                for c, script in enumerate(self.plan)
            ]

    def chats(self, escalating: bool) -> list[int]:
        """The ordinary (or the escalating) customers' chats, in the order they wrote."""
        return [FIRST_CUSTOMER + c for c, s in enumerate(self.plan) if (s is None) == escalating]


@dataclass
class Outcome:
    """One run, (a) or (b), and the figures the table needs from it."""

    trial: Trial
    fake: EscalationFake

    def ordinary(self) -> list[float]:
        t = self.trial
        return first_reply_latencies(t.sends, t.available, self.fake.chats(False))

    def escalating(self) -> list[float]:
        t = self.trial
        return first_reply_latencies(t.sends, t.available, self.fake.chats(True))

    def team(self) -> list[float]:
        """When each message and topic in the team chat came."""
        sent = [t for t, chat, _ in self.trial.sends if chat == AGENT_CHAT]
        return sorted(sent + self.fake.topics_at)

    def team_done(self) -> float:
        """Seconds from the release to the team chat's last message or topic (NaN: none)."""
        team = self.team()
        return team[-1] - self.trial.t0 if team else math.nan

    def ahead_of_median(self) -> dict[str, int]:
        """Calls (messages, and topics created) the fake Bot API took before the median
        ordinary customer's first reply, by whom they were for."""
        t0 = self.trial.t0
        when = t0 + median(self.ordinary())
        groups = {
            "ordinary": self.fake.chats(False),
            "escalating": self.fake.chats(True),
            "team": [AGENT_CHAT],
        }
        topics = [(t, AGENT_CHAT, "<createForumTopic>") for t in self.fake.topics_at]
        return sent_before([*self.trial.sends, *topics], when, groups)

    def json(self) -> dict[str, Any]:
        t = self.trial
        end = max([t.t0, *(s for s, _, _ in t.sends), *self.fake.topics_at])
        ordinary, escalating = set(self.fake.chats(False)), set(self.fake.chats(True))

        def rate(chats: set[int]) -> list[int]:
            return per_second((s for s, c, _ in t.sends if c in chats), t.t0, end)

        return timeline(t) | {
            "ordinary_messages_per_second": rate(ordinary),
            "escalating_messages_per_second": rate(escalating),
            "team_messages_per_second": rate({AGENT_CHAT}),
            "team_topics_per_second": per_second(self.fake.topics_at, t.t0, end),
            "ordinary_first_reply_s": _finite(self.ordinary()),
            "escalating_first_reply_s": _finite(self.escalating()),
            "ahead_of_median_ordinary_reply": self.ahead_of_median(),
        }


def seconds(value: float, digits: int) -> str:
    """``1.23 s``; ``-`` for NaN (nothing to time), ``never`` for infinity."""
    return number(value, digits) + (" s" if math.isfinite(value) else "")


def _finite(values: list[float]) -> list[float | None]:
    return [None if math.isinf(v) else v for v in values]


def run_once(
    label: str,
    config: Config,
    plan: list[int | None],
    scripts: Sequence[Sequence[str]],
    knowledge: Path,
    database_url: str | None,
    timeout: float,
) -> Outcome:
    fake = EscalationFake(plan)
    if config.database == "pg":
        assert database_url is not None
        with postgres_database(database_url) as url:
            trial = measure(label, config, len(plan), scripts, knowledge, url, timeout, fake=fake)
    else:
        trial = measure(label, config, len(plan), scripts, knowledge, None, timeout, fake=fake)
    return Outcome(trial, fake)


# --- the table ------------------------------------------------------------------------------

HEADERS = (
    "run",
    "customers",
    "ordinary first reply p50",
    "p99",
    "p50 ratio (b)/(a)",
    "p99 ratio",
    "escalating first reply p50",
    "team chat: topics + messages",
    "last team message",
    "calls before the median ordinary reply (ordinary / escalating / team)",
    "calls ratio (b)/(a)",
    "lost",
    "dup",
    "reordered",
    "log errors",
)


def row(
    name: str, runs: list[Outcome], ratios: list[tuple[float, float, float]] | None
) -> list[str]:
    ordinary = [r.ordinary() for r in runs]
    escalating = [r.escalating() for r in runs]
    ahead = [r.ahead_of_median() for r in runs]
    finished = all(r.trial.finished for r in runs)
    k = len(runs[0].fake.chats(True))
    return [
        name + ("" if finished else " (timed out)"),
        f"{len(runs[0].fake.chats(False))} + {k}",
        seconds(median([percentile(x, 50) for x in ordinary]), 2),
        seconds(median([percentile(x, 99) for x in ordinary]), 2),
        "-" if ratios is None else f"{median([a for a, _, _ in ratios]):.2f}",
        "-" if ratios is None else f"{median([b for _, b, _ in ratios]):.2f}",
        seconds(median([percentile(x, 50) for x in escalating]), 2) if k else "-",
        f"{median([len(r.fake.topics_at) for r in runs]):.0f} + "
        f"{median([len(r.team()) - len(r.fake.topics_at) for r in runs]):.0f}",
        seconds(median([r.team_done() for r in runs]), 1),
        " / ".join(
            f"{median([a[g] for a in ahead]):.0f}" for g in ("ordinary", "escalating", "team")
        ),
        "-" if ratios is None else f"{median([c for _, _, c in ratios]):.2f}",
        str(max(r.trial.tally.lost for r in runs)),
        str(max(r.trial.tally.duplicated for r in runs)),
        str(max(r.trial.tally.reordered for r in runs)),
        str(max(r.trial.log_problems for r in runs)),
    ]


def ratios(without: list[Outcome], with_: list[Outcome]) -> list[tuple[float, float, float]]:
    """(p50, p99, calls before the median ordinary reply) of (b) over (a), round by round: the
    two runs of a round ran back to back. The third is what the send pace alone explains: at
    a steady 30 calls a second, the median reply waits in proportion to the calls ahead."""
    triples = []
    for a, b in zip(without, with_, strict=True):
        x, y = a.ordinary(), b.ordinary()
        p50 = percentile(y, 50) / percentile(x, 50)
        p99 = percentile(y, 99) / percentile(x, 99)
        calls = sum(b.ahead_of_median().values()) / sum(a.ahead_of_median().values())
        triples.append((p50, p99, calls))
    return triples


# --- the whole comparison -------------------------------------------------------------------


def compare_escalations(args: argparse.Namespace, configs: list[Config], command: str) -> int:
    k, n = args.escalations, args.customers
    scripts, entries = make_scripts(args.data_dir, 1)
    plan_a = escalation_plan(n, 0, args.escalations_at, SCRIPTS)
    plan_b = escalation_plan(n, k, args.escalations_at, SCRIPTS)
    runs: dict[str, tuple[list[Outcome], list[Outcome]]] = {}
    with tempfile.TemporaryDirectory(prefix="throughput-knowledge-") as kdir:
        knowledge = Path(kdir)
        write_knowledge(knowledge, "Benchmark", entries)
        progress(f"reference: {SCRIPTS} customers and one escalation, one bot on SQLite")
        reference_plan = escalation_plan(SCRIPTS, 1, "last", SCRIPTS)
        sqlite = Config("sqlite", "sqlite", 1, False)
        reference = run_once(
            "reference", sqlite, reference_plan, scripts, knowledge, None, args.timeout
        ).trial.customers
        for config in configs:
            runs[config.name] = ([], [])
            for round_ in range(args.rounds):
                for plan, done in ((plan_a, runs[config.name][0]), (plan_b, runs[config.name][1])):
                    label = f"round {round_ + 1} {config.name} {n}+{plan.count(None)}"
                    outcome = run_once(
                        label, config, plan, scripts, knowledge, args.database_url, args.timeout
                    )
                    expected = {
                        FIRST_CUSTOMER + c: reference.get(
                            FIRST_CUSTOMER + (SCRIPTS if s is None else s), []
                        )
                        for c, s in enumerate(plan)
                    }
                    outcome.trial.tally = compare_chats(expected, outcome.trial.customers)
                    done.append(outcome)
    body = []
    for name, (without, with_) in runs.items():
        body.append(row(f"{name} (a) alone", without, None))
        body.append(row(f"{name} (b) + {k} escalations", with_, ratios(without, with_)))
    intro = (
        f"`{command}`: {n} ordinary customers, one message each, alone (a) and with {k} "
        f"customers asking for a person at once ({args.escalations_at}) (b), alternating, "
        f"{args.rounds} round(s); medians over rounds, ratios per round then their median "
        "(lost/duplicated/reordered/errors: the worst round)."
    )
    table = show(HEADERS, body, args.markdown)
    goals = goals_table(runs, args.markdown)
    print(intro)
    print(table)
    print(goals)
    if args.json is not None:
        timelines = [
            o.json() | {"run": f"{name} {'b' if b else 'a'} round {i + 1}"}
            for name, pair in runs.items()
            for b, outcomes in enumerate(pair)
            for i, o in enumerate(outcomes)
        ]
        args.json.write_text(json.dumps(timelines, indent=1), encoding="utf-8")
    if args.update_readme:
        update_readme(
            {
                "throughput-escalations": intro
                + "\n\n"
                + show(HEADERS, body, True)
                + "\n\n"
                + goals_table(runs, True)
            }
        )
    return 0


def goals_table(runs: dict[str, tuple[list[Outcome], list[Outcome]]], markdown: bool) -> str:
    body = []
    for name, (without, with_) in runs.items():
        pairs = ratios(without, with_)
        for i, what in enumerate(("p50", "p99")):
            got = median([p[i] for p in pairs])
            body.append(
                [
                    f"{name}: ordinary first reply {what} with the escalations ≤ {GOAL}x without",
                    f"{got:.2f}x",
                    "yes" if got <= GOAL else "no",
                ]
            )
        wrong = sum(
            o.trial.tally.lost + o.trial.tally.duplicated + o.trial.tally.reordered
            for o in without + with_
        )
        body.append(
            [f"{name}: 0 lost / duplicated / reordered", str(wrong), "yes" if not wrong else "no"]
        )
    return show(("goal", "measured", "met"), body, markdown)
