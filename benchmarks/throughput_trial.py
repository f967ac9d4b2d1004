"""One measured run of the throughput benchmark (``Trial``) and how runs become a row of the
table (``summarise``) or a timeline (``--json``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.throughput_harness import FIRST_CUSTOMER
from benchmarks.throughput_stats import (
    Tally,
    behind_later,
    in_order_share,
    median,
    normalise,
    per_second,
    percentile,
)
from benchmarks.throughput_table import Row


@dataclass
class Trial:
    bot: str  # "echo" or a configuration's name
    updates: int
    t0: float  # when the backlog was released
    sends: list[tuple[float, int, str]]
    customers: dict[int, list[str]]  # chat -> what the bot sent it, in order
    available: dict[int, float]  # chat -> when its first message was made available
    arrival: dict[int, tuple[float, int]]  # chat -> its place in the order customers came
    processed: tuple[int, float, float] | None  # from the inbox: (count, first, last)
    cpu: float
    rss_mb: float
    finished: bool
    log_problems: int
    tally: Tally = field(default_factory=Tally)

    def processing_rate(self) -> float:
        if self.processed is not None:
            count, first, last = self.processed
            return count / (last - first) if last > first else float("nan")
        return self.answered_rate()

    def answered_rate(self) -> float:
        """Updates a second from the release to the last message in a customer's chat."""
        last = max((t for t, chat, _ in self.sends if chat >= FIRST_CUSTOMER), default=self.t0)
        return self.updates / (last - self.t0) if last > self.t0 else float("nan")

    def send_rates(self) -> list[int]:
        """Messages sent in each second while customers' replies were queued: from the
        release to the last message to a customer. What comes after it is the team chat's
        notices alone (bulk work, sent after the replies), which the group's own limit of
        20 a minute paces, not the overall budget."""
        end = max((t for t, chat, _ in self.sends if chat >= FIRST_CUSTOMER), default=self.t0)
        return per_second((t for t, _, _ in self.sends if t <= end), self.t0, end)

    def peak_send_rate(self) -> int:
        """The most messages sent in any one second of the run, to any chat."""
        end = max((t for t, _, _ in self.sends), default=self.t0)
        return max(per_second((t for t, _, _ in self.sends), self.t0, end))

    def first_replies(self) -> list[float]:
        """Seconds from each customer's first message being made available to the bot to the
        first message in their chat, customers in the order their first messages came."""
        first: dict[int, float] = {}
        for t, chat, _ in self.sends:
            first.setdefault(chat, t)
        order = sorted(self.arrival, key=self.arrival.__getitem__)
        return [first.get(chat, float("inf")) - self.available[chat] for chat in order]

    def behind_later(self, first_answers: Mapping[int, int]) -> int:
        """Customers whose first reply went out after another customer's reply to a later
        message. ``first_answers``: chat -> how many messages answer its first message (the
        rest answer later ones)."""
        times: dict[int, list[float]] = {}
        for t, chat, _ in self.sends:
            if chat >= FIRST_CUSTOMER:
                times.setdefault(chat, []).append(t)
        first = {chat: times.get(chat, [math.inf])[0] for chat in first_answers}
        later = {
            chat: sent[n]
            for chat, n in first_answers.items()
            if len(sent := times.get(chat, [])) > n
        }
        return behind_later(first, later)

    def first_reply_times(self) -> list[float]:
        """When each customer's first reply came (seconds since the epoch), customers in the
        order their first messages came: sorted, they are in arrival order."""
        first: dict[int, float] = {}
        for t, chat, _ in self.sends:
            first.setdefault(chat, t)
        order = sorted(self.arrival, key=self.arrival.__getitem__)
        return [first.get(chat, float("inf")) for chat in order]


def log_problems(text: str) -> int:
    return sum(1 for line in text.splitlines() if " ERROR " in line or "Traceback" in line)


def by_chat(sends: Sequence[tuple[float, int, str]]) -> dict[int, list[str]]:
    """What each customer chat received, in order, digits made ``#``."""
    chats: dict[int, list[str]] = {}
    for _, chat, text in sends:
        if chat >= FIRST_CUSTOMER:
            chats.setdefault(chat, []).append(normalise(text))
    return chats


def timeline(trial: Trial) -> dict[str, Any]:
    """One run's figures second by second, for finding where the time goes (``--json``)."""
    end = max((t for t, _, _ in trial.sends), default=trial.t0)
    customers = [t for t, chat, _ in trial.sends if chat >= FIRST_CUSTOMER]
    others = [t for t, chat, _ in trial.sends if chat < FIRST_CUSTOMER]
    processed = trial.processed
    return {
        "run": trial.bot,
        "updates": trial.updates,
        "finished": trial.finished,
        "processed": None
        if processed is None
        else {
            "count": processed[0],
            "first_stored_s": processed[1] - trial.t0,
            "last_handled_s": processed[2] - trial.t0,
        },
        "customer_messages_per_second": per_second(customers, trial.t0, end),
        "other_messages_per_second": per_second(others, trial.t0, end),
        "first_reply_s": [None if math.isinf(x) else x for x in trial.first_replies()],
        "cpu_s": trial.cpu,
        "peak_rss_mb": trial.rss_mb,
        "lost": trial.tally.lost,
        "duplicated": trial.tally.duplicated,
        "reordered": trial.tally.reordered,
        "log_errors": trial.log_problems,
    }


def summarise(
    label: str, trials: list[Trial], echo: Row | None, first_answers: Mapping[int, int]
) -> Row:
    """The row of ``trials``; ``first_answers``: per chat, how many messages answer its first
    message (``Trial.behind_later``)."""
    rates = [t.processing_rate() for t in trials]
    buckets = [t.send_rates() for t in trials]
    latencies = [t.first_replies() for t in trials]
    return Row(
        label=label,
        updates=trials[0].updates,
        rate=median(rates),
        answered=median([t.answered_rate() for t in trials]),
        send_median=median([median(b) for b in buckets]),
        send_max=max(t.peak_send_rate() for t in trials),
        p50=median([percentile(x, 50) for x in latencies]),
        p99=median([percentile(x, 99) for x in latencies]),
        in_order=median([in_order_share(t.first_reply_times()) for t in trials]),
        behind_later=max(t.behind_later(first_answers) for t in trials),
        cpu_ms=median([1000 * t.cpu / t.updates for t in trials]),
        rss_mb=max(t.rss_mb for t in trials),
        lost=max(t.tally.lost for t in trials),
        duplicated=max(t.tally.duplicated for t in trials),
        reordered=max(t.tally.reordered for t in trials),
        errors=max(t.log_problems for t in trials),
        finished=all(t.finished for t in trials),
        echo=echo,
    )
