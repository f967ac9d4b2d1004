"""Tables and the README blocks they are written into."""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.match.common import (
    DATASET_LABELS,
    MATCHER_METHODS,
    METHOD_LABELS,
    README,
    K,
    QualityKey,
    k_label,
    k_order,
)
from benchmarks.match.goals import goals_headers, goals_rows
from benchmarks.match.metrics import IN_SCOPE_OUTCOMES, OOS_OUTCOMES
from benchmarks.tables import render

BAND_HEADERS = {
    "answered_right": "answered right",
    "answered_wrong": "answered wrong",
    "suggested_right": "suggested, right one among the buttons",
    "suggested_wrong": "suggested, not among them",
    "unknown": 'sent to "unknown"',
    "oos_unknown": 'OOS: "unknown"',
    "oos_suggested": "OOS: suggested",
    "oos_answered": "OOS: answered",
}


def summarise(values: Sequence[float]) -> str:
    mean = statistics.fmean(values)
    if len(values) < 2:
        return f"{mean:.1f}"
    return f"{mean:.1f} ±{statistics.stdev(values):.1f}"


def quality_table(
    results: dict[QualityKey, list[dict[str, float]]],
    methods: Sequence[str],
    datasets: Sequence[str],
    ks: Sequence[int],
    markdown: bool,
) -> str:
    headers = ["method", "K", "seeds"]
    if "clinc150" in datasets:
        headers += [
            "CLINC top-1",
            "CLINC top-3",
            "AUROC",
            "acc @90% OOS rec.",
            "OOS rec. (test)",
            "thr",
        ]
    if "hwu64" in datasets:
        headers += ["HWU top-1", "HWU top-3"]
    headers += ["ms/query"]
    rows = []
    for method in methods:
        for k in ks:
            runs = {d: results.get((method, d, k), []) for d in datasets}
            if not any(runs.values()):
                continue
            seeds = max(len(r) for r in runs.values())
            row = [METHOD_LABELS[method], str(k), str(seeds)]

            def cell(dataset: str, key: str, runs: dict[str, list[dict[str, float]]] = runs) -> str:
                values = [r[key] for r in runs[dataset] if key in r]
                return summarise(values) if values else "—"

            if "clinc150" in datasets:
                row += [
                    cell("clinc150", key)
                    for key in ("top1", "top3", "auroc", "acc_at_recall", "oos_recall")
                ]
                row.append(cell("clinc150", "threshold").split(" ±")[0])
            if "hwu64" in datasets:
                row += [cell("hwu64", "top1"), cell("hwu64", "top3")]
            speeds = [r["ms_per_query"] for d in datasets for r in runs[d]]
            row.append(f"{statistics.median(speeds):.2f}")
            rows.append(row)
    return render(headers, rows, markdown)


def scale_table(results: dict[tuple[str, int], dict[str, Any]], markdown: bool) -> str:
    headers = [
        "method",
        "phrasings",
        "entries",
        "load s",
        "index s",
        "index MB",
        "build peak MB",
        "queries",
        "p50 ms",
        "p99 ms",
        "p50 × token_sort",
        "top-1 (intent)",
    ]
    rows = []
    for (method, size), r in results.items():
        if "error" in r:
            rows.append([METHOD_LABELS[method], f"{size:,}", "error: " + r["error"][:80]])
            rows[-1] += [""] * (len(headers) - len(rows[-1]))
            continue
        base = results.get(("token_sort", size), {})
        ratio = f"{r['p50_ms'] / base['p50_ms']:.1f}" if base.get("p50_ms") else "—"
        rows.append(
            [
                METHOD_LABELS[method],
                f"{r['phrasings']:,}",
                f"{r['entries']:,}",
                f"{r['load_s']:.2f}",
                f"{r['build_s']:.2f}",
                f"{r['index_mb']:.1f}",
                f"{r['peak_mb']:.1f}",
                str(r["queries"]),
                f"{r['p50_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
                ratio,
                f"{r['top1_intent']:.1f}",
            ]
        )
    return render(headers, rows, markdown)


def cold_semantic_line(cold: dict[str, Any]) -> str:
    if "error" in cold:
        return f"Cold start, semantic: not measured -- {cold['error']}"
    return (
        f"Cold start, semantic ([semantic] extra, bundled demo knowledge: {cold['entries']} "
        f"entries, {cold['phrasings']} phrasings, median of {cold['runs']} fresh processes): "
        f"imports {cold['import_ms']:.0f} ms, load {cold['load_ms']:.1f} ms, model load + "
        f"embedding the knowledge {cold['index_ms']:.0f} ms, first query "
        f"{cold['first_query_ms']:.1f} ms; whole process {cold['process_ms']:.0f} ms; "
        f"torch imported: {'yes' if cold['torch_imported'] else 'no'}"
    )


def cold_line(cold: dict[str, Any]) -> str:
    if "error" in cold:
        return f"Cold start (bundled demo knowledge): not measured -- {cold['error']}"
    return (
        f"Cold start, bundled demo knowledge ({cold['entries']} entries, "
        f"{cold['phrasings']} phrasings, median of {cold['runs']} fresh processes): "
        f"load {cold['load_ms']:.1f} ms + index {cold['index_ms']:.1f} ms; "
        f"imports {cold['import_ms']:.0f} ms; whole process {cold['process_ms']:.0f} ms"
    )


def command_line() -> str:
    """This run's command, less the options that only change where the output goes."""
    shown: list[str] = []
    skip_next = False
    for arg in sys.argv[1:]:
        if skip_next or arg in ("--update-readme", "--markdown"):
            skip_next = False
            continue
        if arg == "--json":
            skip_next = True
            continue
        if not arg.startswith("--json="):
            shown.append(arg)
    return ("python -m benchmarks.match " + " ".join(shown)).strip()


@dataclass(frozen=True)
class Run:
    """What one run measured, and with which options."""

    args: argparse.Namespace
    results: dict[QualityKey, list[dict[str, float]]]  # by (method, dataset, K), one per seed
    scale: dict[tuple[str, int], dict[str, Any]]  # by (method, size)
    colds: list[dict[str, Any]]  # cold start: lexical, then semantic
    notes: list[str]
    elapsed: float  # seconds

    @property
    def matchers(self) -> list[str]:
        return [m for m in self.args.methods if m in MATCHER_METHODS]


def report_blocks(run: Run, markdown: bool) -> dict[str, str]:
    """What the run prints, by the name of its README block: results (quality, scale, cold
    start), bands, goals; with --bands the band table alone."""
    blocks: dict[str, str] = {}
    if not run.args.bands:
        blocks["results"] = results_report(run, markdown)
    if run.matchers:
        blocks["bands"] = bands_report(run, markdown)
    if not run.args.bands:
        blocks["goals"] = goals_report(run, markdown)
    return blocks


def results_report(run: Run, markdown: bool) -> str:
    args, results, elapsed = run.args, run.results, run.elapsed
    parts = [
        f"Command: `{command_line()}`; titles: {args.titles}; seeds {args.seeds}; "
        f"whole run {elapsed / 60:.1f} min ({elapsed:.0f} s). Mean ±std over seeds (percent); "
        f"thr = the score at the val threshold (accept above it), mean.",
    ]
    parts.extend(run.notes)
    parts.append(quality_table(results, args.methods, args.datasets, sorted(args.k), markdown))
    if run.scale:
        parts.append(
            "Scale (CLINC150 train phrasings, perturbed copies beyond the first; one fresh "
            "process each; latency of in-scope test queries "
            "of the indexed intents, p50/p99; index MB = Python memory the built index holds, "
            "build peak MB = peak while building, both by tracemalloc; top-1 (intent) counts "
            "any copy of the right intent):"
        )
        parts.append(scale_table(run.scale, markdown))
    for cold in run.colds:
        parts.append(cold_semantic_line(cold) if "first_query_ms" in cold else cold_line(cold))
    return "\n\n".join(parts)


def thresholds_used(runs: Sequence[dict[str, float]]) -> str:
    """The matcher's thresholds over its runs: one triple, or each that occurred."""
    seen = dict.fromkeys(
        (r["answer_at"], r["suggest_at"], r["margin"]) for r in runs if "answer_at" in r
    )
    return "; ".join(f"answer {a:g}, suggest {s:g}, margin {m:g}" for a, s, m in seen) or "?"


def band_table(
    results: dict[QualityKey, list[dict[str, float]]],
    methods: Sequence[str],
    datasets: Sequence[str],
    ks: Sequence[K],
    markdown: bool,
) -> str:
    headers = ["method", "dataset", "K", "seeds", *(BAND_HEADERS[o] for o in IN_SCOPE_OUTCOMES)]
    oos = any("oos_unknown" in r for runs in results.values() for r in runs)
    if oos:
        headers += [BAND_HEADERS[o] for o in OOS_OUTCOMES]
    rows = []
    for method in methods:
        for dataset in datasets:
            for k in sorted(ks, key=k_order):
                runs = [r for r in results.get((method, dataset, k), []) if "unknown" in r]
                if not runs:
                    continue
                seeds = "1 (one draw)" if k is None else str(len(runs))
                row = [METHOD_LABELS[method], DATASET_LABELS[dataset], k_label(k), seeds]
                kinds = [*IN_SCOPE_OUTCOMES, *(OOS_OUTCOMES if oos else ())]
                row += [summarise([r[o] for r in runs]) if o in runs[0] else "—" for o in kinds]
                rows.append(row)
    return render(headers, rows, markdown)


def bands_report(run: Run, markdown: bool) -> str:
    args, results = run.args, run.results
    used = "; ".join(
        f"{method}: {thresholds_used(runs)}"
        for method in run.matchers
        for runs in [[r for (m, _, _), rs in results.items() if m == method for r in rs]]
    )
    ks = ", ".join(k_label(k) for k in sorted(args.band_k, key=k_order))
    parts = [
        f"Command: `{command_line()}`; K = {ks} (all = the whole train split, one draw); "
        f"seeds {args.seeds}; whole run {run.elapsed / 60:.1f} min. Percent of the test queries, "
        f"mean ±std over seeds; each matcher with its own thresholds ({used}), the band its "
        "`match()` returns acted on as the bot does: ANSWER shows the best entry's fix, "
        "SUGGEST offers those of the top 3 scoring at least the suggest threshold as buttons"
        ', UNKNOWN says "unknown". In-scope: `test`; '
        "OOS: CLINC150 `oos_test` (HWU64 has none).",
        *run.notes,
        band_table(results, run.matchers, args.datasets, args.band_k, markdown),
    ]
    return "\n\n".join(parts)


def replace_block(text: str, name: str, markdown: str) -> str:
    """``text`` with the block between ``<!-- name:start -->`` and ``<!-- name:end -->``
    replaced by ``markdown`` (appended, markers and all, when there is none)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{markdown}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        return head + block + tail
    return text.rstrip() + "\n\n" + block + "\n"


def update_readme(blocks: dict[str, str]) -> None:
    """Rewrite these marked blocks of the benchmarks README, leaving the rest as it is."""
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    for name, markdown in blocks.items():
        text = replace_block(text, name, markdown)
    README.write_text(text, encoding="utf-8")


def goals_report(run: Run, markdown: bool) -> str:
    intro = (
        f"Issue 10's goals from `{command_line()}`: CLINC150 figures at K=10 and the band "
        'shares are means over the seeds; "any K" and "K ≥ 5" are the worst (dataset, K) of the '
        "band table (named in brackets); p99 from the scale table (one fresh process per size; "
        "latency moves by about ±20 % between runs on 2 shared cores); how far: in points for "
        "percentages. — : not measured by this run (why in brackets)."
    )
    rows = goals_rows(run.results, run.scale, run.args.methods)
    return intro + "\n\n" + render(goals_headers(), rows, markdown)
