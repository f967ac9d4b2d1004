"""``python -m benchmarks.match``: options, the run, the report."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.match.common import (
    BAND_KS,
    DATASETS,
    DEFAULT_DATA_DIR,
    DEFAULT_METHODS,
    MATCHER_METHODS,
    METHODS,
    PROJECT_ROOT,
    QUICK_TEST_QUERIES,
    README,
    k_label,
    knowledge_fingerprint,
    log,
    parse_k,
    semantic_fingerprint,
)
from benchmarks.match.evaluate import run_evaluations
from benchmarks.match.rankers import semantic_missing
from benchmarks.match.report import Run, report_blocks, update_readme
from benchmarks.match.scale import run_scale, worker_main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.match",
        description="Benchmark knowledge matching on CLINC150 and HWU64.",
    )
    parser.add_argument(
        "data_dir",
        nargs="?",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"folder with clinc150/ and hwu64/ (default: {DEFAULT_DATA_DIR})",
    )
    parser.add_argument("--k", type=int, nargs="+", default=[5, 10], help="phrasings per intent")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=list(DEFAULT_METHODS),
        help="semantic needs the [semantic] extra and is skipped without it (default: "
        + " ".join(DEFAULT_METHODS)
        + ")",
    )
    parser.add_argument(
        "--baselines-seeds",
        choices=("all", "first"),
        default="all",
        help="run the baselines for every seed, or only for the first seed at the largest K",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"one seed, K=10, test subsampled to ~{QUICK_TEST_QUERIES} queries, no 100k scale",
    )
    parser.add_argument(
        "--scale",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="latency and memory at 1k/10k/100k phrasings, and cold start (default: on)",
    )
    parser.add_argument(
        "--titles",
        choices=("phrasing", "intent"),
        default="phrasing",
        help="entry titles: the first phrasing (default; adds no information) or the intent name",
    )
    parser.add_argument(
        "--bands",
        action="store_true",
        help="only the band-outcome table (ours and semantic among --methods; no scale)",
    )
    parser.add_argument(
        "--band-k",
        type=parse_k,
        nargs="+",
        default=list(BAND_KS),
        metavar="K",
        help="phrasings per intent for the band table; 'all' = the whole train split "
        f"(default: {' '.join(k_label(k) for k in BAND_KS)}; --quick: 10)",
    )
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help=f"replace the marked blocks of {README.relative_to(PROJECT_ROOT)} that this run "
        "measured (results, bands, goals; --bands: bands only)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure, per seed, here")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(worker_main(args.worker)))
        return 0

    data_dir: Path = args.data_dir
    if not data_dir.is_dir():
        print(f"benchmark data folder not found: {data_dir} (pass DATA_DIR)", file=sys.stderr)
        return 2
    if args.quick:
        args.seeds = args.seeds[:1]
        args.k = [10]
        args.band_k = [10]
    if args.bands:
        args.scale = False
        args.methods = [m for m in args.methods if m in MATCHER_METHODS]
        if not args.methods:
            print("--bands needs ours or semantic among --methods", file=sys.stderr)
            return 2
    semantic_note = ""
    if "semantic" in args.methods:
        why = semantic_missing()
        if why is not None:
            semantic_note = f"semantic: skipped -- {why}."
            log(semantic_note)
            args.methods = [m for m in args.methods if m != "semantic"]
            if not args.methods:
                return 0
    run_started = time.perf_counter()
    fingerprint = knowledge_fingerprint()

    scale: dict[tuple[str, int], dict[str, Any]] = {}
    cold: dict[str, Any] = {}
    cold_semantic: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="supportbot-bench-") as tmp:
        results, per_seed, baselines_note = run_evaluations(args, data_dir, Path(tmp))
        if args.scale:
            scale, cold, cold_semantic = run_scale(args, data_dir, Path(tmp))

    elapsed = time.perf_counter() - run_started
    notes = [n for n in (baselines_note, semantic_note) if n]
    if knowledge_fingerprint() != fingerprint:
        notes.append(
            f"WARNING: knowledge/ changed during the run (was {fingerprint}, now "
            f"{knowledge_fingerprint()}); the figures mix versions -- run again."
        )
        log(notes[-1])
    files = "loader, matcher, schema, text, calibration, evidence"
    notes.insert(0, f"knowledge/ ({files}) fingerprint {fingerprint}.")
    if "semantic" in args.methods:
        notes.insert(1, f"knowledge/semantic.py fingerprint {semantic_fingerprint()}.")
    colds = [c for c in (cold, cold_semantic) if c]
    run = Run(args, results, scale, colds, notes, elapsed)
    print("\n\n".join(report_blocks(run, args.markdown).values()))
    if args.update_readme:
        update_readme(report_blocks(run, True))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "per_seed": per_seed,
                    "scale": [{"method": m, "size": s, **r} for (m, s), r in scale.items()],
                    "cold_start": cold,
                    "cold_start_semantic": cold_semantic,
                    "elapsed_s": elapsed,
                    "fingerprint": fingerprint,
                },
                indent=1,
            ),
            encoding="utf-8",
        )
    return 0
