"""The benchmark's figures, as pure functions of scores and rankings (unit-tested in
``tests/unit/test_benchmark_metrics.py``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from benchmarks.match.common import TARGET_OOS_RECALL


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation between closest ranks (numpy's
    default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile {q} outside 0..100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def top_k_accuracy(ranked: Sequence[Sequence[str]], gold: Sequence[str], k: int) -> float:
    """Fraction of queries whose gold id is among the first ``k`` ranked ids."""
    if len(ranked) != len(gold):
        raise ValueError("ranked and gold differ in length")
    if not gold:
        raise ValueError("top-k accuracy of no queries")
    return sum(g in list(r[:k]) for r, g in zip(ranked, gold, strict=True)) / len(gold)


def auroc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """Area under the ROC curve: P(a positive scores above a negative), ties counting half.

    Computed from the Mann-Whitney rank statistic with average ranks for ties.
    """
    if not positive or not negative:
        raise ValueError("AUROC needs at least one positive and one negative score")
    labelled = sorted([(s, 1) for s in positive] + [(s, 0) for s in negative])
    rank_sum = 0.0
    i = 0
    while i < len(labelled):
        j = i
        while j + 1 < len(labelled) and labelled[j + 1][0] == labelled[i][0]:
            j += 1
        average_rank = (i + j) / 2.0 + 1.0  # ranks are 1-based
        rank_sum += average_rank * sum(label for _, label in labelled[i : j + 1])
        i = j + 1
    n_pos, n_neg = len(positive), len(negative)
    u = rank_sum - n_pos * (n_pos + 1) / 2.0
    return u / (n_pos * n_neg)


def threshold_for_recall(negative: Sequence[float], target: float = TARGET_OOS_RECALL) -> float:
    """The smallest threshold t with at least ``target`` of ``negative`` scoring below t.

    A query is accepted (in scope) when its score is >= t, so t lies just above the
    ceil(target * n)-th smallest negative score; the smallest such t accepts the most in-scope
    queries, whatever they are.
    """
    if not negative:
        raise ValueError("threshold needs at least one negative score")
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target recall {target} outside (0, 1]")
    ordered = sorted(negative)
    must_reject = math.ceil(round(target * len(ordered), 9))
    return math.nextafter(ordered[must_reject - 1], math.inf)


def recall_below(negative: Sequence[float], threshold: float) -> float:
    """Fraction of ``negative`` scores below ``threshold`` (rejected as out of scope)."""
    if not negative:
        raise ValueError("recall of no scores")
    return sum(s < threshold for s in negative) / len(negative)


def accuracy_at_threshold(
    correct: Sequence[bool], scores: Sequence[float], threshold: float
) -> float:
    """Fraction of in-scope queries that are right at top-1 AND score >= ``threshold``."""
    if len(correct) != len(scores):
        raise ValueError("correct and scores differ in length")
    if not correct:
        raise ValueError("accuracy of no queries")
    hits = sum(c and s >= threshold for c, s in zip(correct, scores, strict=True))
    return hits / len(correct)


# --- what the customer sees: the band's outcome ---------------------------------------------

# In-scope queries: the fix shown directly (right / wrong entry), "Did you mean" buttons with the
# right entry among them or not, or "Sorry, I don't have an answer" ("unknown").
IN_SCOPE_OUTCOMES = (
    "answered_right",
    "answered_wrong",
    "suggested_right",
    "suggested_wrong",
    "unknown",
)
# Out-of-scope queries: whatever the bot shows is wrong; "unknown" is the right thing to say.
OOS_OUTCOMES = ("oos_unknown", "oos_suggested", "oos_answered")


def buttons_shown(
    candidates: Sequence[tuple[str, float]], suggest: float, most: int = 3
) -> list[str]:
    """The entries the bot offers (``flows.resolve.match``): of the first ``most`` candidates,
    those scoring at least the suggest threshold, best first."""
    return [entry for entry, score in candidates[:most] if score >= suggest]


def what_the_bot_does(band: str, shown: Sequence[str]) -> str:
    """'answer', 'suggest' or 'unknown', as ``flows.resolve.match`` acts on the band: an ANSWER
    or SUGGEST with nothing to show falls through to "unknown" (as the bot does)."""
    if not shown or band == "unknown":
        return "unknown"
    return "answer" if band == "answer" else "suggest"


def in_scope_outcome(band: str, shown: Sequence[str], gold: str) -> str:
    """One of ``IN_SCOPE_OUTCOMES`` for a query whose right entry is ``gold``."""
    action = what_the_bot_does(band, shown)
    if action == "answer":
        return "answered_right" if shown[0] == gold else "answered_wrong"
    if action == "suggest":
        return "suggested_right" if gold in shown else "suggested_wrong"
    return "unknown"


def oos_outcome(band: str, shown: Sequence[str]) -> str:
    """One of ``OOS_OUTCOMES`` for an out-of-scope query."""
    action = what_the_bot_does(band, shown)
    return {"answer": "oos_answered", "suggest": "oos_suggested"}.get(action, "oos_unknown")


def shares(outcomes: Sequence[str], kinds: Sequence[str]) -> dict[str, float]:
    """The fraction of ``outcomes`` of each kind (they sum to 1)."""
    if not outcomes:
        raise ValueError("shares of no outcomes")
    strays = set(outcomes) - set(kinds)
    if strays:
        raise ValueError(f"outcomes not among {list(kinds)}: {sorted(strays)}")
    return {kind: sum(o == kind for o in outcomes) / len(outcomes) for kind in kinds}
