"""Issue 10's goals, filled from a run's figures: met or not, and how far."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.match.common import DATASET_LABELS, K, QualityKey, k_label, k_order

Results = dict[QualityKey, list[dict[str, float]]]
Scale = dict[tuple[str, int], dict[str, Any]]
# One part of a goal as measured: the value (None: not in this run) and where it was worst.
Measured = tuple[float | None, str]

GOAL_METHODS = ("ours", "semantic")
GOAL_COLUMNS = {"ours": "default install", "semantic": "`[semantic]`"}


@dataclass(frozen=True)
class Goal:
    label: str
    at_least: bool  # the figure must be >= each target (else <=)
    targets: dict[str, tuple[float, ...]]  # method -> one target per part
    unit: str
    measure: Callable[[Results, Scale, str], list[Measured]] | None  # None: not measured here
    missing: str  # where the figure comes from, when the run lacks it


def mean_figure(results: Results, method: str, dataset: str, k: K, key: str) -> float | None:
    values = [r[key] for r in results.get((method, dataset, k), []) if key in r]
    return statistics.fmean(values) if values else None


def worst_figure(
    results: Results, method: str, key: str, counts: Callable[[K], bool], highest: bool
) -> Measured:
    """The worst mean over the (dataset, K) measured for ``method`` whose K ``counts``."""
    found = []
    for (m, dataset, k), runs in results.items():
        values = [r[key] for r in runs if key in r]
        if m == method and counts(k) and values:
            where = f"{DATASET_LABELS.get(dataset, dataset)} K={k_label(k)}"
            found.append((statistics.fmean(values), -k_order(k), where))
    if not found:
        return None, ""
    value, _, where = max(found) if highest else min(found)
    return value, where


def clinc_k10(key: str) -> Callable[[Results, Scale, str], list[Measured]]:
    def measure(results: Results, scale: Scale, method: str) -> list[Measured]:
        return [(mean_figure(results, method, "clinc150", 10, key), "")]

    return measure


def worst(key: str, counts: Callable[[K], bool]) -> Callable[[Results, Scale, str], list[Measured]]:
    def measure(results: Results, scale: Scale, method: str) -> list[Measured]:
        return [worst_figure(results, method, key, counts, highest=True)]

    return measure


def p99(results: Results, scale: Scale, method: str) -> list[Measured]:
    return [(scale.get((method, size), {}).get("p99_ms"), "") for size in (10_000, 100_000)]


GOALS = (
    Goal(
        "CLINC150 K=10 top-1",
        True,
        {"ours": (82,), "semantic": (93,)},
        " %",
        clinc_k10("top1"),
        "needs K=10 on CLINC150",
    ),
    Goal(
        "CLINC150 AUROC in-scope vs out-of-scope",
        True,
        {"ours": (96,), "semantic": (98,)},
        "",
        clinc_k10("auroc"),
        "needs K=10 on CLINC150",
    ),
    Goal(
        "CLINC150 in-scope accuracy at 90 % OOS recall",
        True,
        {"ours": (80,), "semantic": (92,)},
        " %",
        clinc_k10("acc_at_recall"),
        "needs K=10 on CLINC150",
    ),
    Goal(
        "in-scope answered wrong directly, any K",
        False,
        {"ours": (5,), "semantic": (3,)},
        " %",
        worst("answered_wrong", lambda k: True),
        "needs the band table",
    ),
    Goal(
        'in-scope sent to "unknown", K ≥ 5',
        False,
        {"ours": (10,), "semantic": (5,)},
        " %",
        worst("unknown", lambda k: k is None or k >= 5),
        "needs the band table at K ≥ 5",
    ),
    Goal(
        'out-of-scope sent to "unknown", CLINC150 K=10',
        True,
        {"ours": (70,), "semantic": (80,)},
        " %",
        clinc_k10("oos_unknown"),
        "needs the band table at K=10 on CLINC150",
    ),
    Goal(
        "p99 per query at 10k / 100k phrasings",
        False,
        {"ours": (5, 20), "semantic": (10, 30)},
        " ms",
        p99,
        "needs the scale run: --scale, not --quick",
    ),
)
RELOAD_GOAL = (
    "reload of 1,000 entries × 10 phrasings, bot answering meanwhile",
    {"ours": "≤ 2 s, 0 stalls", "semantic": "≤ 5 s after the first encode, 0 stalls"},
    "measured by benchmarks/reload.py: see the Reload benchmark below; answering meanwhile: "
    "tests/e2e/test_knowledge_reload.py",
)


def number(value: float) -> str:
    return f"{value:.1f}"


def verdict(values: Sequence[float], targets: Sequence[float], at_least: bool, unit: str) -> str:
    """'yes' or 'no', and how far from each target (percentages: in points)."""
    unit = "" if unit.strip() == "%" else unit
    gaps = [(v - t) if at_least else (t - v) for v, t in zip(values, targets, strict=True)]
    met = all(g >= 0 for g in gaps)
    if at_least:
        words = [f"{abs(g):.1f}{unit} {'over' if g >= 0 else 'short'}" for g in gaps]
    else:
        words = [f"{abs(g):.1f}{unit} {'under' if g >= 0 else 'over'}" for g in gaps]
    return f"{'yes' if met else 'no'}: {' / '.join(words)}"


def goal_cells(goal: Goal, results: Results, scale: Scale, method: str, ran: bool) -> list[str]:
    """Target, measured and met? for one method."""
    sign = "≥" if goal.at_least else "≤"
    targets = goal.targets[method]
    target = f"{sign} {' / '.join(f'{t:g}' for t in targets)}{goal.unit}"
    if not ran:
        return [target, f"— (not in this run: add --methods {method})", "—"]
    measured = goal.measure(results, scale, method) if goal.measure else []
    values = [v for v, _ in measured]
    if not measured or any(v is None for v in values):
        return [target, f"— ({goal.missing})", "—"]
    got = [v for v in values if v is not None]
    where = "; ".join(w for _, w in measured if w)
    shown = " / ".join(number(v) for v in got) + goal.unit + (f" ({where})" if where else "")
    return [target, shown, verdict(got, targets, goal.at_least, goal.unit)]


def goals_rows(results: Results, scale: Scale, methods: Sequence[str]) -> list[list[str]]:
    rows = []
    for goal in GOALS:
        row = [goal.label]
        for method in GOAL_METHODS:
            row += goal_cells(goal, results, scale, method, method in methods)
        rows.append(row)
    label, targets, pointer = RELOAD_GOAL
    row = [label]
    for method in GOAL_METHODS:
        row += [targets[method], f"— ({pointer})", "—"]
    rows.append(row)
    return rows


def goals_headers() -> list[str]:
    headers = ["goal (dev sets)"]
    for method in GOAL_METHODS:
        column = GOAL_COLUMNS[method]
        headers += [f"{column}: target", "measured", "met?"]
    return headers
