"""Matching benchmark: real user queries from CLINC150 and HWU64 against generated knowledge.

Run ``python -m benchmarks.match [DATA_DIR]`` from the project root (``--help`` for options).
DATA_DIR defaults to ``../shared/data`` beside the project root; see its README for the datasets.

For every dataset, K and seed, a knowledge base is generated in our own YAML format (one entry
per intent, K phrasings drawn from ``train`` with a fixed seed per intent), written to a
temporary folder, read back with ``knowledge.loader.load_knowledge`` and matched with
``knowledge.matcher.Matcher`` -- the code path the bot uses. Baselines (rapidfuzz ``WRatio`` and
``token_sort_ratio``, max over an entry's phrasings) see the same loaded knowledge. Nothing is
fitted on ``test``: the out-of-scope threshold comes from ``oos_val`` only.

The pure metric functions at the top are unit-tested in
``tests/unit/test_benchmark_metrics.py``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
README = Path(__file__).resolve().parent / "README.md"
README_START = "<!-- results:start -->"
README_END = "<!-- results:end -->"

DATASETS = ("clinc150", "hwu64")
METHODS = ("ours", "wratio", "token_sort", "semantic")
DEFAULT_METHODS = ("ours", "wratio", "token_sort")  # semantic needs the [semantic] extra
METHOD_LABELS = {
    "ours": "ours (knowledge.matcher)",
    "wratio": "rapidfuzz WRatio",
    "token_sort": "rapidfuzz token_sort_ratio",
    "semantic": "semantic (knowledge.semantic)",
}
TARGET_OOS_RECALL = 0.9
TOP_LIMIT = 3
SCALE_SIZES = (1_000, 10_000, 100_000)
SCALE_PHRASINGS_PER_ENTRY = 10
SCALE_QUERIES = {1_000: 300, 10_000: 200, 100_000: 100}
SCALE_BUDGET_SECONDS = 45.0  # per (size, method): stop timing queries after this long
QUICK_TEST_QUERIES = 1_000
QUICK_OOS_QUERIES = 300


# --- metrics (pure) ------------------------------------------------------------------------


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


def entry_id_for(intent: str) -> str:
    """Intent name to entry id: lower-case, anything but [a-z0-9] becomes '-'."""
    return re.sub(r"[^a-z0-9]", "-", intent.lower())


# --- data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    name: str
    train: dict[str, list[str]]  # intent -> distinct phrasings, in file order
    test: list[tuple[str, str]]  # (text, intent), in scope
    oos_val: list[str] = field(default_factory=list)
    oos_test: list[str] = field(default_factory=list)


def _group(pairs: Iterable[Sequence[str]]) -> dict[str, list[str]]:
    grouped: dict[str, dict[str, None]] = {}
    for text, intent in pairs:
        grouped.setdefault(intent, {})[text] = None
    return {intent: list(texts) for intent, texts in grouped.items()}


def load_clinc150(data_dir: Path) -> Dataset:
    raw = json.loads((data_dir / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    return Dataset(
        name="clinc150",
        train=_group(raw["train"]),
        test=[(text, intent) for text, intent in raw["test"]],
        oos_val=[text for text, _ in raw["oos_val"]],
        oos_test=[text for text, _ in raw["oos_test"]],
    )


def _read_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]


def _hwu_split(data_dir: Path, split: str) -> list[tuple[str, str]]:
    texts = _read_lines(data_dir / "hwu64" / split / "seq.in")
    labels = _read_lines(data_dir / "hwu64" / split / "label")
    if len(texts) != len(labels):
        raise ValueError(f"hwu64/{split}: {len(texts)} texts but {len(labels)} labels")
    return [(t, lab) for t, lab in zip(texts, labels, strict=True) if t and lab]


def load_hwu64(data_dir: Path) -> Dataset:
    return Dataset(
        name="hwu64",
        train=_group(_hwu_split(data_dir, "train")),
        test=_hwu_split(data_dir, "test"),
    )


LOADERS: dict[str, Callable[[Path], Dataset]] = {"clinc150": load_clinc150, "hwu64": load_hwu64}


def draw_phrasings(train: dict[str, list[str]], k: int, seed: int) -> dict[str, list[str]]:
    """K phrasings per intent, with a fixed seed per intent (independent of the others)."""
    return {
        intent: random.Random(f"{seed}:{intent}").sample(texts, min(k, len(texts)))
        for intent, texts in train.items()
    }


def subsample(items: Sequence[Any], n: int, tag: str) -> list[Any]:
    if len(items) <= n:
        return list(items)
    chosen = sorted(random.Random(f"subsample:{tag}").sample(range(len(items)), n))
    return [items[i] for i in chosen]


# --- knowledge in our own YAML format ------------------------------------------------------


@dataclass(frozen=True)
class GeneratedEntry:
    id: str
    title: str
    symptoms: list[str]


def humanise(intent: str) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", " ", intent).strip()
    return words[:1].upper() + words[1:]


def make_entries(phrasings: dict[str, list[str]], titles: str) -> list[GeneratedEntry]:
    """One entry per intent. ``titles='phrasing'`` repeats the first phrasing as the title (no
    information beyond the K phrasings); ``'intent'`` uses the intent name."""
    entries = []
    for intent, texts in phrasings.items():
        title = texts[0] if titles == "phrasing" else humanise(intent)
        entries.append(GeneratedEntry(entry_id_for(intent), title, list(texts)))
    return entries


def write_knowledge(
    directory: Path, product: str, entries: Sequence[GeneratedEntry], per_file: int = 1000
) -> None:
    import yaml

    directory.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(entries), per_file):
        chunk = entries[start : start + per_file]
        document = {
            "product": product,
            "entries": [
                {
                    "id": e.id,
                    "title": e.title,
                    "symptoms": e.symptoms,
                    "fix": f"Benchmark entry {e.id}: no real fix.",
                }
                for e in chunk
            ],
        }
        path = directory / f"{product}-{start // per_file:04d}.yaml"
        path.write_text(
            yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000),
            encoding="utf-8",
        )


def load_generated(directory: Path) -> Any:
    from knowledge.loader import load_knowledge

    return load_knowledge(directory)


# --- methods -------------------------------------------------------------------------------


class Ranker(Protocol):
    def rank(self, text: str, limit: int) -> list[tuple[str, float]]:
        """Up to ``limit`` (entry id, score 0..100), best first, one per entry."""
        ...


class MatcherRanker:
    """One of the bot's own matchers (``match(text, limit)``), with its default thresholds."""

    def __init__(self, matcher: Any) -> None:
        self._matcher = matcher

    def rank(self, text: str, limit: int) -> list[tuple[str, float]]:
        result = self._matcher.match(text, limit=limit)
        return [(str(c.entry_id), float(c.score)) for c in result.candidates]


class FuzzRanker:
    """A rapidfuzz scorer, ``default_process`` on both sides, max over an entry's phrasings."""

    def __init__(self, knowledge: Any, scorer_name: str) -> None:
        from rapidfuzz import fuzz
        from rapidfuzz.utils import default_process

        self._process = default_process
        self._scorer = {"wratio": fuzz.WRatio, "token_sort": fuzz.token_sort_ratio}[scorer_name]
        self._choices: list[str] = []
        self._owners: list[str] = []
        most = 1
        for entry in knowledge:
            most = max(most, len(entry.symptoms))
            for symptom in entry.symptoms:
                self._choices.append(default_process(symptom))  # once, not per query
                self._owners.append(str(entry.id))
        self._most_phrasings = most

    def rank(self, text: str, limit: int) -> list[tuple[str, float]]:
        from rapidfuzz import process

        # The best `limit` entries are among the best (limit - 1) * K + 1 phrasings.
        hits = process.extract(
            self._process(text),
            self._choices,
            scorer=self._scorer,
            processor=None,
            limit=(limit - 1) * self._most_phrasings + 1,
        )
        best: dict[str, float] = {}
        for _, score, index in hits:
            owner = self._owners[index]
            if owner not in best:
                best[owner] = float(score)
                if len(best) == limit:
                    break
        return list(best.items())


def semantic_missing() -> str | None:
    """Why the semantic method cannot run here, or None when it can."""
    try:
        from knowledge.semantic import INSTALL_HINT, semantic_available
    except ImportError as error:  # pragma: no cover - the module is part of the project
        return str(error)
    if semantic_available():
        return None
    return f"the [semantic] extra is not installed ({INSTALL_HINT})"


def make_ranker(method: str, knowledge: Any) -> Ranker:
    if method == "ours":
        from knowledge.matcher import Matcher

        return MatcherRanker(Matcher(knowledge))
    if method == "semantic":
        from knowledge.semantic import SemanticMatcher

        return MatcherRanker(SemanticMatcher(knowledge))
    return FuzzRanker(knowledge, method)


# --- progress ------------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on stderr; when not a terminal, only the final line."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if self.tty and (now - self._last_draw >= 0.1 or self.done >= self.total):
            self._last_draw = now
            elapsed = now - self.start
            eta = elapsed / self.done * (self.total - self.done) if self.done else 0.0
            width = 24
            filled = int(width * self.done / self.total)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(
                f"\r{self.label} [{bar}] {self.done}/{self.total} {elapsed:5.1f}s eta {eta:5.1f}s "
            )
            self.stream.flush()

    def close(self, note: str = "") -> None:
        elapsed = time.perf_counter() - self.start
        line = f"{self.label}: {self.done}/{self.total} in {elapsed:.1f}s{note}"
        if self.tty:
            self.stream.write("\r" + line + " " * 30 + "\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def knowledge_fingerprint() -> str:
    """A short hash of the matching code, to tell which version a table was measured on."""
    digest = hashlib.sha256()
    for name in ("loader.py", "matcher.py", "schema.py"):
        path = PROJECT_ROOT / "knowledge" / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:12]


def semantic_fingerprint() -> str:
    path = PROJECT_ROOT / "knowledge" / "semantic.py"
    return hashlib.sha256(path.read_bytes() if path.exists() else b"").hexdigest()[:12]


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


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


# --- evaluation ----------------------------------------------------------------------------


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


# --- subprocess workers (clean memory and cold-start measurements) -------------------------


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
        ranked = ranker.rank(text, TOP_LIMIT)
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


# --- scale knowledge: perturbed copies of the CLINC150 train phrasings ---------------------

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


# --- tables --------------------------------------------------------------------------------


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


QualityKey = tuple[str, str, int]  # method, dataset, k


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


# --- main ----------------------------------------------------------------------------------


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
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help=f"replace the results section of {README.relative_to(PROJECT_ROOT)} (Markdown)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure, per seed, here")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        if kind == "cold":
            result = cold_worker()
        elif kind == "cold-semantic":
            result = cold_semantic_worker()
        else:
            kb_dir, method, queries_file, budget = rest
            result = scale_worker(Path(kb_dir), method, Path(queries_file), float(budget))
        print(json.dumps(result))
        return 0

    data_dir: Path = args.data_dir
    if not data_dir.is_dir():
        print(f"benchmark data folder not found: {data_dir} (pass DATA_DIR)", file=sys.stderr)
        return 2
    if args.quick:
        args.seeds = args.seeds[:1]
        args.k = [10]
    semantic_note = ""
    if "semantic" in args.methods:
        why = semantic_missing()
        if why is not None:
            semantic_note = f"semantic: skipped -- {why}."
            log(semantic_note)
            args.methods = [m for m in args.methods if m != "semantic"]
            if not args.methods:
                return 0
    sizes = [s for s in SCALE_SIZES if not (args.quick and s > 10_000)]
    run_started = time.perf_counter()
    fingerprint = knowledge_fingerprint()

    results: dict[QualityKey, list[dict[str, float]]] = {}
    per_seed: list[dict[str, Any]] = []
    baselines_note = ""
    with tempfile.TemporaryDirectory(prefix="supportbot-bench-") as tmp:
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
                    kb_dir = Path(tmp) / f"{name}-k{k}-s{seed}"
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

        scale: dict[tuple[str, int], dict[str, Any]] = {}
        cold: dict[str, Any] = {}
        cold_semantic: dict[str, Any] = {}
        if args.scale:
            clinc = load_clinc150(data_dir)
            queries_file = Path(tmp) / "scale-queries.json"
            queries = random.Random("scale-queries").sample(clinc.test, max(SCALE_QUERIES.values()))
            for size in sizes:
                kb_dir = Path(tmp) / f"scale-{size}"
                log(f"scale {size:,}: writing knowledge ...")
                write_knowledge(
                    kb_dir, f"scale-{size}", scale_entries(clinc.train, size, args.titles)
                )
                queries_file.write_text(json.dumps(queries[: SCALE_QUERIES[size]]), "utf-8")
                for method in args.methods:
                    started = time.perf_counter()
                    scale[(method, size)] = run_worker(
                        ["scale", str(kb_dir), method, str(queries_file), str(SCALE_BUDGET_SECONDS)]
                    )
                    log(
                        f"scale {size:,} {method}: {time.perf_counter() - started:.1f}s"
                        + (
                            f" ERROR {scale[(method, size)]['error']}"
                            if "error" in scale[(method, size)]
                            else ""
                        )
                    )
            runs = [run_worker(["cold"]) for _ in range(3)]
            good = [r for r in runs if "error" not in r]
            if good:
                cold = {
                    key: statistics.median(r[key] for r in good)
                    if isinstance(good[0][key], float)
                    else good[0][key]
                    for key in good[0]
                }
                cold["runs"] = len(good)
            else:
                cold = runs[0]
            if "semantic" in args.methods:
                cold_semantic = median_runs([run_worker(["cold-semantic"]) for _ in range(3)])

    elapsed = time.perf_counter() - run_started
    notes = [n for n in (baselines_note, semantic_note) if n]
    if knowledge_fingerprint() != fingerprint:
        notes.append(
            f"WARNING: knowledge/ changed during the run (was {fingerprint}, now "
            f"{knowledge_fingerprint()}); the figures mix versions -- run again."
        )
        log(notes[-1])
    notes.insert(0, f"knowledge/ (loader, matcher, schema) fingerprint {fingerprint}.")
    if "semantic" in args.methods:
        notes.insert(1, f"knowledge/semantic.py fingerprint {semantic_fingerprint()}.")
    colds = [c for c in (cold, cold_semantic) if c]
    output = render_report(args, results, scale, colds, notes, elapsed, args.markdown)
    print(output)
    if args.update_readme:
        update_readme(render_report(args, results, scale, colds, notes, elapsed, True))
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


if __name__ == "__main__":
    sys.exit(main())
