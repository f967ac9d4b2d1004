"""One method on one generated knowledge base: every query ranked, the quality figures."""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.match.common import (
    QUICK_OOS_QUERIES,
    QUICK_TEST_QUERIES,
    TARGET_OOS_RECALL,
    TOP_LIMIT,
    Progress,
    QualityKey,
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
    accuracy_at_threshold,
    auroc,
    recall_below,
    threshold_for_recall,
    top_k_accuracy,
)
from benchmarks.match.rankers import Ranker, make_ranker


def rank_all(
    ranker: Ranker, texts: Sequence[str], progress: Progress
) -> list[list[tuple[str, float]]]:
    results = []
    for text in texts:
        results.append(ranker.rank(text, TOP_LIMIT))
        progress.advance()
    return results


def top_score(ranked: Sequence[tuple[str, float]]) -> float:
    return ranked[0][1] if ranked else 0.0


def evaluate(ranker: Ranker, dataset: Dataset, label: str) -> dict[str, float]:
    """Quality figures (percent) for one knowledge base and one method."""
    test_texts = [text for text, _ in dataset.test]
    gold = [entry_id_for(intent) for _, intent in dataset.test]
    total = len(test_texts) + len(dataset.oos_test) + len(dataset.oos_val)
    progress = Progress(label, total)
    started = time.perf_counter()
    in_scope = rank_all(ranker, test_texts, progress)
    ids = [[entry for entry, _ in r] for r in in_scope]
    figures = {
        "top1": 100.0 * top_k_accuracy(ids, gold, 1),
        "top3": 100.0 * top_k_accuracy(ids, gold, 3),
    }
    if dataset.oos_test and dataset.oos_val:
        oos_test = [top_score(r) for r in rank_all(ranker, dataset.oos_test, progress)]
        oos_val = [top_score(r) for r in rank_all(ranker, dataset.oos_val, progress)]
        scores = [top_score(r) for r in in_scope]
        correct = [bool(r) and r[0][0] == g for r, g in zip(in_scope, gold, strict=True)]
        threshold = threshold_for_recall(oos_val, TARGET_OOS_RECALL)
        figures["auroc"] = 100.0 * auroc(scores, oos_test)
        figures["acc_at_recall"] = 100.0 * accuracy_at_threshold(correct, scores, threshold)
        figures["oos_recall"] = 100.0 * recall_below(oos_test, threshold)
        figures["threshold"] = math.nextafter(threshold, -math.inf)  # the boundary oos score
    figures["ms_per_query"] = 1000.0 * (time.perf_counter() - started) / total
    progress.close()
    return figures


def run_quality(
    args: argparse.Namespace, data_dir: Path, tmp: Path
) -> tuple[dict[QualityKey, list[dict[str, float]]], list[dict[str, Any]], str]:
    """Every (dataset, K, seed, method) of the options: figures by (method, dataset, K), the
    same per seed (for --json), and a note when baselines were left out."""
    results: dict[QualityKey, list[dict[str, float]]] = {}
    per_seed: list[dict[str, Any]] = []
    baselines_note = ""
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
        for k in args.k:
            for seed in args.seeds:
                kb_dir = tmp / f"{name}-k{k}-s{seed}"
                entries = make_entries(draw_phrasings(dataset.train, k, seed), args.titles)
                write_knowledge(kb_dir, name, entries)
                knowledge = load_generated(kb_dir)
                for method in args.methods:
                    baseline_skipped = (
                        method not in ("ours", "semantic")
                        and args.baselines_seeds == "first"
                        and (seed != args.seeds[0] or k != max(args.k))
                    )
                    if baseline_skipped:
                        baselines_note = (
                            f"Baselines ran only at K={max(args.k)}, seed {args.seeds[0]}."
                        )
                        continue
                    label = f"{name} K={k} seed={seed} {method}"
                    figures = evaluate(make_ranker(method, knowledge), dataset, label)
                    results.setdefault((method, name, k), []).append(figures)
                    per_seed.append(
                        {"dataset": name, "k": k, "seed": seed, "method": method, **figures}
                    )
    return results, per_seed, baselines_note
