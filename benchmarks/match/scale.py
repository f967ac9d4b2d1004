"""Latency and memory at 1k-100k phrasings, and cold start, each in a fresh process.

The parent runs ``python -m benchmarks.match --worker ...``; the worker prints one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.match.common import PROJECT_ROOT, TOP_LIMIT, log
from benchmarks.match.data import (
    GeneratedEntry,
    entry_id_for,
    humanise,
    load_clinc150,
    load_generated,
    write_knowledge,
)
from benchmarks.match.metrics import percentile
from benchmarks.match.rankers import make_ranker

SCALE_SIZES = (1_000, 10_000, 100_000)
SCALE_PHRASINGS_PER_ENTRY = 10
SCALE_QUERIES = {1_000: 300, 10_000: 200, 100_000: 100}
SCALE_BUDGET_SECONDS = 45.0  # per (size, method): stop timing queries after this long


def median_runs(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the numeric figures of the runs that worked (or the first error)."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return dict(runs[0])
    merged = {
        key: statistics.median(r[key] for r in good)
        if isinstance(good[0][key], float)
        else good[0][key]
        for key in good[0]
    }
    merged["runs"] = len(good)
    return merged


def scale_worker(kb_dir: Path, method: str, queries_file: Path, budget: float) -> dict[str, Any]:
    import tracemalloc

    started = time.perf_counter()
    knowledge = load_generated(kb_dir)
    loaded = time.perf_counter()
    # synthetic copies are "<intent id>-<copy number>"; keep queries whose intent is indexed
    present = {str(e.id).rsplit("-", 1)[0] for e in knowledge}
    queries = [
        (text, intent)
        for text, intent in json.loads(queries_file.read_text(encoding="utf-8"))
        if entry_id_for(intent) in present
    ]
    if method == "semantic":
        # One build, traced and timed: nearly all its time is the model embedding every
        # phrasing (C code, which tracing hardly slows), and a second build would double it.
        tracemalloc.start()
        built_at = time.perf_counter()
        ranker = make_ranker(method, knowledge)
        built = time.perf_counter()
        retained, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    else:
        built_at = time.perf_counter()
        ranker = make_ranker(method, knowledge)
        built = time.perf_counter()
        del ranker
        gc.collect()
        tracemalloc.start()  # a second, traced build: tracing slows it, so it is not timed
        ranker = make_ranker(method, knowledge)
        retained, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    ranker.rank(queries[0][0], TOP_LIMIT)  # warm-up, not timed
    latencies: list[float] = []
    hits = 0
    deadline = time.perf_counter() + budget
    for text, intent in queries:
        t0 = time.perf_counter()
        ranked = ranker.rank(text, TOP_LIMIT).candidates
        latencies.append(1000.0 * (time.perf_counter() - t0))
        if ranked and ranked[0][0].rsplit("-", 1)[0] == entry_id_for(intent):
            hits += 1  # any copy of the right intent counts
        if time.perf_counter() > deadline:
            break
    return {
        "entries": len(knowledge),
        "phrasings": sum(len(e.symptoms) for e in knowledge),
        "load_s": loaded - started,
        "build_s": built - built_at,
        "index_mb": retained / 2**20,
        "peak_mb": peak / 2**20,
        "queries": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "top1_intent": 100.0 * hits / len(latencies),
    }


def cold_worker() -> dict[str, Any]:
    t0 = time.perf_counter()
    from knowledge import loader
    from knowledge.matcher import Matcher

    t1 = time.perf_counter()
    default_dir = getattr(loader, "default_knowledge_dir", None)
    directory = default_dir() if default_dir else PROJECT_ROOT / "knowledge" / "entries"
    knowledge = loader.load_knowledge(directory)
    t2 = time.perf_counter()
    Matcher(knowledge)
    t3 = time.perf_counter()
    return {
        "directory": str(directory),
        "entries": len(knowledge),
        "phrasings": sum(len(e.symptoms) for e in knowledge),
        "import_ms": 1000.0 * (t1 - t0),
        "load_ms": 1000.0 * (t2 - t1),
        "index_ms": 1000.0 * (t3 - t2),
    }


def cold_semantic_worker() -> dict[str, Any]:
    """Cold start of the [semantic] matcher: imports, demo knowledge, model load + embedding
    every phrasing, then the first query."""
    t0 = time.perf_counter()
    from knowledge import loader
    from knowledge.semantic import SemanticMatcher

    t1 = time.perf_counter()
    knowledge = loader.load_knowledge(loader.default_knowledge_dir())
    t2 = time.perf_counter()
    matcher = SemanticMatcher(knowledge)
    t3 = time.perf_counter()
    matcher.match("my headphones will not charge", limit=TOP_LIMIT)
    t4 = time.perf_counter()
    return {
        "entries": len(knowledge),
        "phrasings": sum(len(e.symptoms) for e in knowledge),
        "import_ms": 1000.0 * (t1 - t0),
        "load_ms": 1000.0 * (t2 - t1),
        "index_ms": 1000.0 * (t3 - t2),
        "first_query_ms": 1000.0 * (t4 - t3),
        "torch_imported": float("torch" in sys.modules),
    }


def run_worker(arguments: list[str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.match", "--worker", *arguments]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": tail}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_ms"] = 1000.0 * wall
    return result


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def perturb(text: str, rng: random.Random) -> str:
    """A plausible re-typing: maybe two neighbouring words swapped, then 1-2 character typos
    (substitute, delete, insert or transpose)."""
    words = text.split()
    if len(words) >= 2 and rng.random() < 0.5:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    chars = list(" ".join(words))
    for _ in range(rng.randint(1, 2)):
        letters = [i for i, c in enumerate(chars) if c.isalpha()]
        if not letters:
            break
        i = rng.choice(letters)
        edit = rng.choice(("sub", "del", "ins", "swap"))
        if edit == "sub":
            chars[i] = rng.choice(_LETTERS)
        elif edit == "del" and len(letters) > 1:
            del chars[i]
        elif edit == "ins":
            chars.insert(i, rng.choice(_LETTERS))
        elif i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def scale_entries(train: dict[str, list[str]], size: int, titles: str) -> list[GeneratedEntry]:
    """``size`` phrasings in entries of ten: the first copy of each intent uses real train
    phrasings, further copies (ids ``<intent>-<n>``) perturbed ones, so the index really holds
    ``size`` distinct-ish phrasings."""
    intents = sorted(train)
    entries = []
    for number in range(size // SCALE_PHRASINGS_PER_ENTRY):
        intent = intents[number % len(intents)]
        copy = number // len(intents)
        rng = random.Random(f"scale:{copy}:{intent}")
        base = rng.sample(train[intent], min(SCALE_PHRASINGS_PER_ENTRY, len(train[intent])))
        if copy == 0:
            symptoms = base
        else:
            seen: dict[str, None] = {}
            for text in base:
                for _ in range(5):  # avoid duplicates within an entry
                    candidate = perturb(text, rng)
                    if candidate.strip() and candidate not in seen:
                        seen[candidate] = None
                        break
            symptoms = list(seen)
        title = symptoms[0] if titles == "phrasing" else humanise(intent)
        entries.append(GeneratedEntry(f"{entry_id_for(intent)}-{copy:05d}", title, symptoms))
    return entries


def worker_main(worker: Sequence[str]) -> dict[str, Any]:
    """What ``--worker KIND ...`` measures, in this fresh process."""
    kind, *rest = worker
    if kind == "cold":
        return cold_worker()
    if kind == "cold-semantic":
        return cold_semantic_worker()
    kb_dir, method, queries_file, budget = rest
    return scale_worker(Path(kb_dir), method, Path(queries_file), float(budget))


def run_scale(
    args: argparse.Namespace, data_dir: Path, tmp: Path
) -> tuple[dict[tuple[str, int], dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Scale figures by (method, size), then cold start of the lexical and semantic matchers
    (the latter empty unless semantic runs)."""
    sizes = [s for s in SCALE_SIZES if not (args.quick and s > 10_000)]
    scale: dict[tuple[str, int], dict[str, Any]] = {}
    clinc = load_clinc150(data_dir)
    queries_file = tmp / "scale-queries.json"
    queries = random.Random("scale-queries").sample(clinc.test, max(SCALE_QUERIES.values()))
    for size in sizes:
        kb_dir = tmp / f"scale-{size}"
        log(f"scale {size:,}: writing knowledge ...")
        write_knowledge(kb_dir, f"scale-{size}", scale_entries(clinc.train, size, args.titles))
        queries_file.write_text(json.dumps(queries[: SCALE_QUERIES[size]]), "utf-8")
        for method in args.methods:
            started = time.perf_counter()
            result = run_worker(
                ["scale", str(kb_dir), method, str(queries_file), str(SCALE_BUDGET_SECONDS)]
            )
            scale[(method, size)] = result
            error = f" ERROR {result['error']}" if "error" in result else ""
            log(f"scale {size:,} {method}: {time.perf_counter() - started:.1f}s{error}")
    cold = median_runs([run_worker(["cold"]) for _ in range(3)])
    cold_semantic: dict[str, Any] = {}
    if "semantic" in args.methods:
        cold_semantic = median_runs([run_worker(["cold-semantic"]) for _ in range(3)])
    return scale, cold, cold_semantic
