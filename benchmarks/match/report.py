"""Tables and the README blocks they are written into."""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from typing import Any

from benchmarks.match.common import METHOD_LABELS, README, QualityKey

README_START = "<!-- results:start -->"
README_END = "<!-- results:end -->"


def summarise(values: Sequence[float]) -> str:
    mean = statistics.fmean(values)
    if len(values) < 2:
        return f"{mean:.1f}"
    return f"{mean:.1f} ±{statistics.stdev(values):.1f}"


def render(headers: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


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


def render_report(
    args: argparse.Namespace,
    results: dict[QualityKey, list[dict[str, float]]],
    scale: dict[tuple[str, int], dict[str, Any]],
    colds: Sequence[dict[str, Any]],
    notes: Sequence[str],
    elapsed: float,
    markdown: bool,
) -> str:
    shown: list[str] = []
    skip_next = False
    for arg in sys.argv[1:]:  # leave out options that only change where the output goes
        if skip_next or arg in ("--update-readme", "--markdown"):
            skip_next = False
            continue
        if arg == "--json":
            skip_next = True
            continue
        if not arg.startswith("--json="):
            shown.append(arg)
    command = "python -m benchmarks.match " + " ".join(shown)
    parts = [
        f"Command: `{command.strip()}`; titles: {args.titles}; seeds {args.seeds}; "
        f"whole run {elapsed / 60:.1f} min ({elapsed:.0f} s). Mean ±std over seeds (percent); "
        f"thr = the score at the val threshold (accept above it), mean.",
    ]
    parts.extend(notes)
    parts.append(quality_table(results, args.methods, args.datasets, sorted(args.k), markdown))
    if scale:
        parts.append(
            "Scale (CLINC150 train phrasings, perturbed copies beyond the first; one fresh "
            "process each; latency of in-scope test queries "
            "of the indexed intents, p50/p99; index MB = Python memory the built index holds, "
            "build peak MB = peak while building, both by tracemalloc; top-1 (intent) counts "
            "any copy of the right intent):"
        )
        parts.append(scale_table(scale, markdown))
    for cold in colds:
        parts.append(cold_semantic_line(cold) if "first_query_ms" in cold else cold_line(cold))
    return "\n\n".join(parts)


def update_readme(markdown: str) -> None:
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    block = f"{README_START}\n{markdown}\n{README_END}"
    if README_START in text and README_END in text:
        head, rest = text.split(README_START, 1)
        _, tail = rest.split(README_END, 1)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    README.write_text(text, encoding="utf-8")
