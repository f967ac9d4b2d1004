"""The benchmark's pure metric functions, on small hand-computed examples."""

from __future__ import annotations

import argparse
import io
import random

import pytest

from benchmarks.match.common import Progress
from benchmarks.match.data import draw_phrasings, entry_id_for
from benchmarks.match.evaluate import band_figures, plan
from benchmarks.match.goals import goals_rows, verdict, worst_figure
from benchmarks.match.metrics import (
    IN_SCOPE_OUTCOMES,
    OOS_OUTCOMES,
    accuracy_at_threshold,
    auroc,
    buttons_shown,
    in_scope_outcome,
    oos_outcome,
    percentile,
    recall_below,
    shares,
    threshold_for_recall,
    top_k_accuracy,
)
from benchmarks.match.rankers import Ranked
from benchmarks.match.report import replace_block
from benchmarks.match.scale import perturb

# --- AUROC ---------------------------------------------------------------------------------


def test_auroc_perfectly_separated_is_one() -> None:
    assert auroc([80.0, 90.0, 70.0], [10.0, 20.0]) == 1.0


def test_auroc_reversed_is_zero() -> None:
    assert auroc([10.0, 20.0], [80.0, 90.0, 70.0]) == 0.0


def test_auroc_all_tied_is_half() -> None:
    assert auroc([50.0, 50.0], [50.0, 50.0, 50.0]) == 0.5


def test_auroc_counts_ties_as_half() -> None:
    # pairs (pos, neg): (1,2) lose, (2,2) tie, (3,2) win → (0 + 0.5 + 1) / 3
    assert auroc([1.0, 2.0, 3.0], [2.0]) == pytest.approx(0.5)
    # (3 vs 1) win, (3 vs 3) tie, (2 vs 1) win, (2 vs 3) lose → 2.5 / 4
    assert auroc([3.0, 2.0], [1.0, 3.0]) == pytest.approx(0.625)


def test_auroc_matches_pair_counting() -> None:
    rng = random.Random(7)
    positive = [float(rng.randint(0, 10)) for _ in range(30)]
    negative = [float(rng.randint(0, 10)) for _ in range(20)]
    pairs = [(p > n) + 0.5 * (p == n) for p in positive for n in negative]
    assert auroc(positive, negative) == pytest.approx(sum(pairs) / len(pairs))


def test_auroc_needs_both_classes() -> None:
    with pytest.raises(ValueError):
        auroc([1.0], [])
    with pytest.raises(ValueError):
        auroc([], [1.0])


# --- threshold at a target out-of-scope recall ---------------------------------------------


def test_threshold_rejects_ninety_percent_of_ten() -> None:
    negative = [float(s) for s in range(10)]  # 0..9
    threshold = threshold_for_recall(negative, 0.9)
    assert 8.0 < threshold <= 9.0  # 0..8 below it (9 of 10), 9 accepted
    assert recall_below(negative, threshold) == 0.9


def test_threshold_is_the_smallest_that_hits_the_recall() -> None:
    negative = [float(s) for s in range(10)]
    threshold = threshold_for_recall(negative, 0.9)
    assert recall_below(negative, 8.0) < 0.9  # anything at or below 8 misses the target
    assert threshold == pytest.approx(8.0)


def test_threshold_with_ties_over_achieves() -> None:
    negative = [10.0, 20.0, 30.0, 30.0, 30.0]
    threshold = threshold_for_recall(negative, 0.5)  # 3 of 5 must be below
    assert 30.0 < threshold < 30.001
    assert recall_below(negative, threshold) == 1.0  # the ties go below together


def test_threshold_hits_the_recall_on_hundred_scores() -> None:
    rng = random.Random(3)
    negative = [round(rng.uniform(0, 100), 1) for _ in range(100)]
    threshold = threshold_for_recall(negative, 0.9)
    assert recall_below(negative, threshold) >= 0.9
    assert recall_below(negative, max(s for s in negative if s < threshold)) < 0.9


def test_full_recall_rejects_everything() -> None:
    negative = [5.0, 7.0]
    assert recall_below(negative, threshold_for_recall(negative, 1.0)) == 1.0


def test_threshold_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        threshold_for_recall([], 0.9)
    with pytest.raises(ValueError):
        threshold_for_recall([1.0], 0.0)


# --- accuracy ------------------------------------------------------------------------------


def test_top_k_accuracy() -> None:
    ranked = [["a", "b", "c"], ["b", "a"], ["c", "b", "a"], []]
    gold = ["a", "a", "a", "a"]
    assert top_k_accuracy(ranked, gold, 1) == 0.25
    assert top_k_accuracy(ranked, gold, 2) == 0.5
    assert top_k_accuracy(ranked, gold, 3) == 0.75


def test_top_k_accuracy_rejects_mismatch_and_empty() -> None:
    with pytest.raises(ValueError):
        top_k_accuracy([["a"]], ["a", "b"], 1)
    with pytest.raises(ValueError):
        top_k_accuracy([], [], 1)


def test_accuracy_at_threshold_needs_right_and_confident() -> None:
    correct = [True, True, False, True]
    scores = [90.0, 40.0, 95.0, 50.0]
    # right and >= 50: the first and the last
    assert accuracy_at_threshold(correct, scores, 50.0) == 0.5
    assert accuracy_at_threshold(correct, scores, 0.0) == 0.75
    assert accuracy_at_threshold(correct, scores, 100.0) == 0.0


def test_recall_below_is_strict() -> None:
    assert recall_below([10.0, 20.0, 30.0, 40.0], 30.0) == 0.5


# --- band outcomes: what the bot does with the band -----------------------------------------


def test_buttons_are_the_top_three_at_or_above_the_suggest_threshold() -> None:
    candidates = [("a", 70.0), ("b", 40.0), ("c", 39.9), ("d", 90.0)]
    assert buttons_shown(candidates, 40.0) == ["a", "b"]  # c is below; d is 4th
    assert buttons_shown(candidates, 0.0) == ["a", "b", "c"]
    assert buttons_shown([], 40.0) == []


def test_in_scope_outcome_of_each_band() -> None:
    assert in_scope_outcome("answer", ["a", "b"], "a") == "answered_right"
    assert in_scope_outcome("answer", ["b", "a"], "a") == "answered_wrong"  # a button, not shown
    assert in_scope_outcome("suggest", ["b", "c", "a"], "a") == "suggested_right"
    assert in_scope_outcome("suggest", ["b", "c"], "a") == "suggested_wrong"
    assert in_scope_outcome("unknown", ["a"], "a") == "unknown"
    assert in_scope_outcome("answer", [], "a") == "unknown"  # nothing to show: as the bot


def test_oos_outcome_of_each_band() -> None:
    assert oos_outcome("answer", ["a"]) == "oos_answered"
    assert oos_outcome("suggest", ["a", "b"]) == "oos_suggested"
    assert oos_outcome("unknown", ["a"]) == "oos_unknown"
    assert oos_outcome("suggest", []) == "oos_unknown"


def test_shares_count_each_kind_and_reject_strays() -> None:
    got = shares(["x", "y", "x", "x"], ("x", "y", "z"))
    assert got == {"x": 0.75, "y": 0.25, "z": 0.0}
    with pytest.raises(ValueError):
        shares([], ("x",))
    with pytest.raises(ValueError):
        shares(["x", "w"], ("x", "y"))


def test_band_figures_on_a_hand_made_run() -> None:
    """Ten in-scope queries (gold "a") and four out-of-scope ones; suggest threshold 40."""
    in_scope = [
        Ranked([("a", 80.0), ("b", 30.0)], "answer", 40.0),  # answered right
        Ranked([("a", 75.0), ("c", 20.0)], "answer", 40.0),  # answered right
        Ranked([("a", 90.0)], "answer", 40.0),  # answered right
        Ranked([("b", 85.0), ("a", 50.0)], "answer", 40.0),  # answered wrong
        Ranked([("b", 55.0), ("c", 50.0), ("a", 45.0)], "suggest", 40.0),  # suggested, a shown
        Ranked([("a", 50.0), ("b", 48.0)], "suggest", 40.0),  # suggested, a shown
        Ranked([("b", 55.0), ("c", 50.0), ("a", 39.0)], "suggest", 40.0),  # a under the bar
        Ranked([("b", 45.0), ("c", 44.0), ("d", 43.0), ("a", 42.0)], "suggest", 40.0),  # 4th
        Ranked([("a", 30.0)], "unknown", 40.0),  # unknown
        Ranked([], "unknown", 40.0),  # unknown: nothing matched
    ]
    oos = [
        Ranked([("a", 20.0)], "unknown", 40.0),
        Ranked([("b", 35.0)], "unknown", 40.0),
        Ranked([("a", 45.0), ("b", 41.0)], "suggest", 40.0),
        Ranked([("c", 70.0), ("a", 10.0)], "answer", 40.0),
    ]
    figures = band_figures(in_scope, ["a"] * 10, oos)
    assert figures == pytest.approx(
        {
            "answered_right": 30.0,
            "answered_wrong": 10.0,
            "suggested_right": 20.0,
            "suggested_wrong": 20.0,
            "unknown": 20.0,
            "oos_unknown": 50.0,
            "oos_suggested": 25.0,
            "oos_answered": 25.0,
        }
    )
    assert sum(figures[o] for o in IN_SCOPE_OUTCOMES) == pytest.approx(100.0)
    assert sum(figures[o] for o in OOS_OUTCOMES) == pytest.approx(100.0)


def test_band_figures_without_out_of_scope_queries() -> None:
    figures = band_figures([Ranked([("a", 80.0)], "answer", 40.0)], ["a"], [])
    assert figures["answered_right"] == 100.0
    assert "oos_unknown" not in figures


def test_plan_runs_k_all_once_and_bands_for_the_matchers_only() -> None:
    args = argparse.Namespace(
        bands=False, k=[5, 10], band_k=[None, 2, 10], methods=["ours", "wratio"], seeds=[0, 1]
    )
    assert plan(args) == [
        (2, [0, 1], ["ours"]),
        (5, [0, 1], ["ours", "wratio"]),
        (10, [0, 1], ["ours", "wratio"]),
        (None, [0], ["ours"]),  # the whole train split: one draw
    ]
    args.bands = True
    assert plan(args) == [(2, [0, 1], ["ours"]), (10, [0, 1], ["ours"]), (None, [0], ["ours"])]
    args.methods = ["wratio"]  # no matcher, no band table
    args.bands = False
    assert [k for k, _, _ in plan(args)] == [5, 10]


# --- goals ---------------------------------------------------------------------------------


def test_verdict_says_how_far() -> None:
    assert verdict([82.3], [82.0], True, " %") == "yes: 0.3 over"
    assert verdict([79.8], [82.0], True, " %") == "no: 2.2 short"
    assert verdict([3.3, 21.0], [5.0, 20.0], False, " ms") == "no: 1.7 ms under / 1.0 ms over"


def test_worst_figure_picks_the_worst_counted_k() -> None:
    results: dict[tuple[str, str, int | None], list[dict[str, float]]] = {
        ("ours", "clinc150", 2): [{"unknown": 30.0}, {"unknown": 32.0}],
        ("ours", "clinc150", 10): [{"unknown": 8.0}, {"unknown": 10.0}],
        ("ours", "hwu64", None): [{"unknown": 12.0}],
        ("semantic", "hwu64", 10): [{"unknown": 50.0}],
    }
    at_5 = worst_figure(results, "ours", "unknown", lambda k: k is None or k >= 5, True)
    assert at_5 == (12.0, "HWU64 K=all")
    assert worst_figure(results, "ours", "unknown", lambda k: True, True) == (31.0, "CLINC150 K=2")
    assert worst_figure(results, "ours", "missing", lambda k: True, True) == (None, "")


def test_goals_rows_fill_what_the_run_measured_and_point_elsewhere() -> None:
    results: dict[tuple[str, str, int | None], list[dict[str, float]]] = {
        ("ours", "clinc150", 10): [{"top1": 80.0, "oos_unknown": 72.0, "answered_wrong": 4.0}]
    }
    rows = {row[0]: row[1:] for row in goals_rows(results, {}, ["ours"])}
    assert rows["CLINC150 K=10 top-1"][:3] == ["≥ 82 %", "80.0 %", "no: 2.0 short"]
    assert rows['out-of-scope sent to "unknown", CLINC150 K=10'][2] == "yes: 2.0 over"
    assert rows["CLINC150 AUROC in-scope vs out-of-scope"][1].startswith("— (needs")
    assert rows["p99 per query at 10k / 100k phrasings"][1].startswith("— (needs the scale")
    assert rows["CLINC150 K=10 top-1"][4].startswith("— (not in this run")  # no semantic
    assert all(
        row[1].startswith("— (measured by benchmarks/reload.py")
        for key, row in rows.items()
        if "reload" in key
    )


def test_replace_block_keeps_the_rest() -> None:
    text = "intro\n<!-- bands:start -->\nold\n<!-- bands:end -->\nafter\n"
    assert replace_block(text, "bands", "new") == (
        "intro\n<!-- bands:start -->\nnew\n<!-- bands:end -->\nafter\n"
    )
    assert replace_block("intro\n", "goals", "g") == (
        "intro\n\n<!-- goals:start -->\ng\n<!-- goals:end -->\n"
    )


# --- percentile ----------------------------------------------------------------------------


def test_percentile_interpolates_like_numpy() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 100) == 4.0
    assert percentile(values, 99) == pytest.approx(3.97)  # 1 + 3 * 0.99 positions


def test_percentile_of_one_value_and_bad_input() -> None:
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


# --- data helpers --------------------------------------------------------------------------


def test_entry_id_for_intent_names() -> None:
    assert entry_id_for("alarm_query") == "alarm-query"
    assert entry_id_for("Change AI Name") == "change-ai-name"


def test_draw_phrasings_is_fixed_per_intent() -> None:
    train = {"a": [f"a{i}" for i in range(20)], "b": [f"b{i}" for i in range(3)]}
    first = draw_phrasings(train, 5, seed=0)
    assert len(first["a"]) == 5 and len(set(first["a"])) == 5
    assert first["b"] == draw_phrasings({"b": train["b"]}, 5, seed=0)["b"]  # independent
    assert sorted(first["b"]) == train["b"]  # fewer than K: all of them
    assert draw_phrasings(train, 5, seed=0) == first
    assert draw_phrasings(train, 5, seed=1)["a"] != first["a"]


def test_perturb_changes_text_a_little() -> None:
    rng = random.Random(0)
    text = "how do i transfer money to my savings account"
    changed = [perturb(text, rng) for _ in range(50)]
    assert all(abs(len(c) - len(text)) <= 2 for c in changed)
    assert sum(c != text for c in changed) >= 45  # a substitution may redraw the same letter
    assert len(set(changed)) >= 40


def test_progress_is_silent_off_a_terminal_except_the_final_line() -> None:
    stream = io.StringIO()
    progress = Progress("job", 3, stream)
    for _ in range(3):
        progress.advance()
    assert stream.getvalue() == ""
    progress.close()
    assert stream.getvalue().startswith("job: 3/3 in ")
    assert stream.getvalue().count("\n") == 1
