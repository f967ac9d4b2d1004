"""The throughput benchmark's arithmetic, kept free of processes and I/O so it can be tested.

- ``percentile``: linear interpolation between the closest ranks (numpy's default);
- ``compare``: what a chat received against what it should have, as lost, duplicated and
  reordered messages (see ``Tally``);
- ``per_second``: messages counted in one-second buckets, for the send rate;
- ``in_order_share``: how many pairs of customers got their first replies in the order they
  wrote; ``behind_later``: how many first replies went out behind another customer's reply
  to a later message;
- ``escalation_plan``, ``first_reply_latencies``, ``sent_before``: who writes where in a
  backlog with escalations, first replies of a subset of chats, and what went out ahead of a
  reply (``benchmarks.throughput_escalations``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

_DIGITS = re.compile(r"\d+")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``; NaN when there are none."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0-100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def normalise(text: str) -> str:
    """A message's text with every run of digits made ``#``: ticket numbers (T-00128), dates
    and counts differ between runs and customers without the message being another one."""
    return _DIGITS.sub("#", text)


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """The length of the longest common subsequence of ``a`` and ``b``."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class Tally:
    """How a chat's messages differ from what it should have received.

    ``lost``: expected messages that never came (counted per text, so a missing copy of a
    text sent twice counts once); ``duplicated``: messages beyond the expected number of their
    text; ``reordered``: of the messages that came and were expected, those that are not where
    they should be (those outside a longest common subsequence of the two lists).
    """

    lost: int = 0
    duplicated: int = 0
    reordered: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.lost + other.lost,
            self.duplicated + other.duplicated,
            self.reordered + other.reordered,
        )


def compare(expected: Sequence[str], got: Sequence[str]) -> Tally:
    want, have = Counter(expected), Counter(got)
    lost = sum((want - have).values())
    duplicated = sum((have - want).values())
    matched = len(got) - duplicated
    return Tally(lost, duplicated, matched - lcs_length(expected, got))


def compare_chats(expected: Mapping[int, Sequence[str]], got: Mapping[int, Sequence[str]]) -> Tally:
    """``compare`` over every chat in either mapping (a chat missing from one has nothing)."""
    total = Tally()
    for chat in expected.keys() | got.keys():
        total += compare(expected.get(chat, ()), got.get(chat, ()))
    return total


def per_second(times: Iterable[float], start: float, end: float) -> list[int]:
    """How many of ``times`` fall in each second from ``start``: one bucket per started
    second up to ``end`` (the last may be partial); times outside [start, end] are left out."""
    if end < start:
        return []
    buckets = [0] * max(1, math.ceil(end - start))
    for t in times:
        if start <= t <= end:
            buckets[min(int(t - start), len(buckets) - 1)] += 1
    return buckets


def in_order_share(times: Sequence[float]) -> float:
    """Of all pairs (i < j) of ``times`` (first replies, listed in the order the customers
    wrote), the share with ``times[i] <= times[j]``: 1.0 when everyone was answered in arrival
    order. Counted by merge sort, O(n log n). NaN with fewer than two."""
    n = len(times)
    if n < 2:
        return math.nan

    def sort_count(items: list[float]) -> tuple[list[float], int]:
        if len(items) <= 1:
            return items, 0
        middle = len(items) // 2
        left, a = sort_count(items[:middle])
        right, b = sort_count(items[middle:])
        merged: list[float] = []
        inversions = a + b
        i = j = 0
        while i < len(left) and j < len(right):
            if left[i] <= right[j]:
                merged.append(left[i])
                i += 1
            else:
                merged.append(right[j])
                inversions += len(left) - i
                j += 1
        merged += left[i:] + right[j:]
        return merged, inversions

    _, inversions = sort_count(list(times))
    return 1 - inversions / (n * (n - 1) / 2)


def behind_later(first: Mapping[int, float], later: Mapping[int, float]) -> int:
    """How many customers' first replies went out after another customer's reply to a later
    message: issue 12's "a customer's first answer never waits behind another customer's
    third". ``first``: chat -> when its first reply came; ``later``: chat -> when its first
    reply to a message after its first came (every first message is in the backlog before
    every second one); missing or ``inf``: never."""
    times = sorted((t, chat) for chat, t in later.items() if math.isfinite(t))
    count = 0
    for chat, t in first.items():
        # the earliest later reply of *another* customer (a chat's own comes after its first)
        other = next((u for u, c in times[:2] if c != chat), math.inf)
        count += t > other
    return count


# --- escalations at once (``benchmarks.throughput_escalations``) ---------------------------


def escalation_plan(ordinary: int, escalations: int, where: str, scripts: int) -> list[int | None]:
    """Who writes at position c of the backlog: ordinary customer j plays script j % scripts
    (the same in a run with escalations and one without), ``None`` asks for a person.
    ``where``: ``"first"`` (all escalations ahead of the ordinary customers), ``"last"``, or
    ``"mixed"`` (spread evenly: escalation k right after ordinary customer
    ceil((k + 1) * ordinary / escalations) - 1)."""
    customers: list[int | None] = [j % scripts for j in range(ordinary)]
    if where == "first":
        return [None] * escalations + customers
    if where == "last":
        return customers + [None] * escalations
    if where != "mixed":
        raise ValueError(f"escalations go first, last or mixed, not {where!r}")
    plan: list[int | None] = []
    k = 0
    for j, script in enumerate(customers):
        plan.append(script)
        while k < escalations and (k + 1) * ordinary <= (j + 1) * escalations:
            plan.append(None)
            k += 1
    return plan + [None] * (escalations - k)


def first_reply_latencies(
    sends: Iterable[tuple[float, int, str]], available: Mapping[int, float], chats: Sequence[int]
) -> list[float]:
    """Seconds from each of ``chats`` being made available to its first message in ``sends``
    (time, chat, text), in the order of ``chats``; ``inf`` for a chat that got nothing."""
    first: dict[int, float] = {}
    for t, chat, _ in sends:
        first.setdefault(chat, t)
    return [first.get(chat, math.inf) - available[chat] for chat in chats]


def sent_before(
    sends: Iterable[tuple[float, int, str]], when: float, groups: Mapping[str, Collection[int]]
) -> dict[str, int]:
    """How many messages each group of chats was sent before ``when`` (strictly): what had
    gone out ahead of a reply at that time. Chats in no group are counted as ``"other"``."""
    counts = dict.fromkeys([*groups, "other"], 0)
    owner = {chat: name for name, chats in groups.items() for chat in chats}
    for t, chat, _ in sends:
        if t < when:
            counts[owner.get(chat, "other")] += 1
    return counts
