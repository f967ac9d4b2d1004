"""One method on one generated knowledge base: every query ranked, the quality figures."""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.match.common import (
    MATCHER_METHODS,
    QUICK_OOS_QUERIES,
    QUICK_TEST_QUERIES,
    TARGET_OOS_RECALL,
    TOP_LIMIT,
    K,
    Progress,
    QualityKey,
    k_label,
    k_order,
)
from benchmarks.match.data import (
    LOADERS,
    Dataset,
    draw_phrasings,
    entry_id_for,
    load_generated,
    make_entries,
    subsample,
    write_knowledge,
)
from benchmarks.match.metrics import (
    IN_SCOPE_OUTCOMES,
    OOS_OUTCOMES,
    accuracy_at_threshold,
    auroc,
    buttons_shown,
    in_scope_outcome,
    oos_outcome,
    recall_below,
    shares,
    threshold_for_recall,
    top_k_accuracy,
)
from benchmarks.match.rankers import MatcherRanker, Ranked, Ranker, make_ranker


def rank_all(ranker: Ranker, texts: Sequence[str], progress: Progress) -> list[Ranked]:
    results = []
    for text in texts:
        results.append(ranker.rank(text, TOP_LIMIT))
        progress.advance()
    return results


def top_score(ranked: Ranked) -> float:
    return ranked.candidates[0][1] if ranked.candidates else 0.0


def band_figures(
    in_scope: Sequence[Ranked], gold: Sequence[str], oos: Sequence[Ranked]
) -> dict[str, float]:
    """What the customer sees (percent): ``IN_SCOPE_OUTCOMES``, and ``OOS_OUTCOMES`` when there
    are out-of-scope queries."""
    shown = [buttons_shown(r.candidates, r.suggest, TOP_LIMIT) for r in in_scope]
    outcomes = [
        in_scope_outcome(str(r.band), s, g) for r, s, g in zip(in_scope, shown, gold, strict=True)
    ]
    figures = shares(outcomes, IN_SCOPE_OUTCOMES)
    if oos:
        oos_outcomes = [
            oos_outcome(str(r.band), buttons_shown(r.candidates, r.suggest, TOP_LIMIT)) for r in oos
        ]
        figures.update(shares(oos_outcomes, OOS_OUTCOMES))
    return {kind: 100.0 * share for kind, share in figures.items()}


def evaluate(ranker: Ranker, dataset: Dataset, label: str) -> dict[str, float]:
    """Quality figures (percent) for one knowledge base and one method; for the bot's own
    matchers also what their bands make the bot do."""
    test_texts = [text for text, _ in dataset.test]
    gold = [entry_id_for(intent) for _, intent in dataset.test]
    total = len(test_texts) + len(dataset.oos_test) + len(dataset.oos_val)
    progress = Progress(label, total)
    started = time.perf_counter()
    in_scope = rank_all(ranker, test_texts, progress)
    ids = [[entry for entry, _ in r.candidates] for r in in_scope]
    figures = {
        "top1": 100.0 * top_k_accuracy(ids, gold, 1),
        "top3": 100.0 * top_k_accuracy(ids, gold, 3),
    }
    oos_ranked: list[Ranked] = []
    if dataset.oos_test and dataset.oos_val:
        oos_ranked = rank_all(ranker, dataset.oos_test, progress)
        oos_test = [top_score(r) for r in oos_ranked]
        oos_val = [top_score(r) for r in rank_all(ranker, dataset.oos_val, progress)]
        scores = [top_score(r) for r in in_scope]
        correct = [bool(i) and i[0] == g for i, g in zip(ids, gold, strict=True)]
        threshold = threshold_for_recall(oos_val, TARGET_OOS_RECALL)
        figures["auroc"] = 100.0 * auroc(scores, oos_test)
        figures["acc_at_recall"] = 100.0 * accuracy_at_threshold(correct, scores, threshold)
        figures["oos_recall"] = 100.0 * recall_below(oos_test, threshold)
        figures["threshold"] = math.nextafter(threshold, -math.inf)  # the boundary oos score
    figures["ms_per_query"] = 1000.0 * (time.perf_counter() - started) / total
    if in_scope and in_scope[0].band is not None:
        figures.update(band_figures(in_scope, gold, oos_ranked))
    if isinstance(ranker, MatcherRanker):
        thresholds = ranker.thresholds
        figures["answer_at"] = float(thresholds.answer)
        figures["suggest_at"] = float(thresholds.suggest)
        figures["margin"] = float(thresholds.margin)
    progress.close()
    return figures


def plan(args: argparse.Namespace) -> list[tuple[K, list[int], list[str]]]:
    """(K, seeds, methods) to run: the quality table's K for every method, the band table's K
    for the bot's own matchers (``--bands``: only those); K=all is one draw, no seeds."""
    quality_ks: list[K] = [] if args.bands else list(args.k)
    band_ks: list[K] = list(args.band_k) if any(m in MATCHER_METHODS for m in args.methods) else []
    runs = []
    for k in sorted(dict.fromkeys([*quality_ks, *band_ks]), key=k_order):
        methods = [m for m in args.methods if k in quality_ks or m in MATCHER_METHODS]
        runs.append((k, args.seeds[:1] if k is None else list(args.seeds), methods))
    return runs


def run_evaluations(
    args: argparse.Namespace, data_dir: Path, tmp: Path
) -> tuple[dict[QualityKey, list[dict[str, float]]], list[dict[str, Any]], str]:
    """Every (dataset, K, seed, method) of the plan: figures by (method, dataset, K), the same
    per seed (for --json), and a note when baselines were left out."""
    results: dict[QualityKey, list[dict[str, float]]] = {}
    per_seed: list[dict[str, Any]] = []
    baselines_note = ""
    largest = max(args.k)
    for name in args.datasets:
        dataset = LOADERS[name](data_dir)
        if args.quick:
            dataset = Dataset(
                name=dataset.name,
                train=dataset.train,
                test=subsample(dataset.test, QUICK_TEST_QUERIES, f"{name}:test"),
                oos_val=dataset.oos_val,
                oos_test=subsample(dataset.oos_test, QUICK_OOS_QUERIES, f"{name}:oos"),
            )
        for k, seeds, methods in plan(args):
            for seed in seeds:
                kb_dir = tmp / f"{name}-k{k_label(k)}-s{seed}"
                entries = make_entries(draw_phrasings(dataset.train, k, seed), args.titles)
                write_knowledge(kb_dir, name, entries)
                knowledge = load_generated(kb_dir)
                for method in methods:
                    baseline_skipped = (
                        method not in MATCHER_METHODS
                        and args.baselines_seeds == "first"
                        and (seed != args.seeds[0] or k != largest)
                    )
                    if baseline_skipped:
                        baselines_note = f"Baselines ran only at K={largest}, seed {args.seeds[0]}."
                        continue
                    seed_label = "one draw" if k is None else f"seed={seed}"
                    label = f"{name} K={k_label(k)} {seed_label} {method}"
                    figures = evaluate(make_ranker(method, knowledge), dataset, label)
                    results.setdefault((method, name, k), []).append(figures)
                    per_seed.append(
                        {
                            "dataset": name,
                            "k": k_label(k) if k is None else k,
                            "seed": seed,
                            "method": method,
                            **figures,
                        }
                    )
    return results, per_seed, baselines_note
