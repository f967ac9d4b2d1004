"""What every part of the matching benchmark shares: paths, names, progress lines, fingerprints."""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path
from typing import TextIO

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"
README = PROJECT_ROOT / "benchmarks" / "README.md"

DATASETS = ("clinc150", "hwu64")
DATASET_LABELS = {"clinc150": "CLINC150", "hwu64": "HWU64"}
METHODS = ("ours", "wratio", "token_sort", "semantic")
DEFAULT_METHODS = ("ours", "wratio", "token_sort")  # semantic needs the [semantic] extra
MATCHER_METHODS = ("ours", "semantic")  # the bot's own matchers: they say a band
METHOD_LABELS = {
    "ours": "ours (knowledge.matcher)",
    "wratio": "rapidfuzz WRatio",
    "token_sort": "rapidfuzz token_sort_ratio",
    "semantic": "semantic (knowledge.semantic)",
}
TARGET_OOS_RECALL = 0.9
TOP_LIMIT = 3  # what the bot asks the matcher for: at most three "Did you mean" buttons
QUICK_TEST_QUERIES = 1_000
QUICK_OOS_QUERIES = 300

# K is a number of phrasings per intent, or None: every train phrasing (one draw, no seeds).
K = int | None
QualityKey = tuple[str, str, K]  # method, dataset, k
BAND_KS: tuple[K, ...] = (2, 5, 10, None)


def k_label(k: K) -> str:
    return "all" if k is None else str(k)


def k_order(k: K) -> float:
    return float("inf") if k is None else float(k)


def parse_k(text: str) -> K:
    """``--band-k`` values: a positive number of phrasings, or ``all``."""
    if text == "all":
        return None
    value = int(text)
    if value < 1:
        raise ValueError(f"K must be at least 1: {value}")
    return value


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


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def knowledge_fingerprint() -> str:
    """A short hash of the matching code, to tell which version a table was measured on."""
    digest = hashlib.sha256()
    # matcher.py's text handling and calibration moved to text.py and calibration.py; what an
    # ANSWER needs besides the score is evidence.py; the arithmetic of scores is scoring.py
    names = (
        "loader.py",
        "matcher.py",
        "schema.py",
        "text.py",
        "calibration.py",
        "evidence.py",
        "scoring.py",
    )
    for name in names:
        path = PROJECT_ROOT / "knowledge" / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:12]


def semantic_fingerprint() -> str:
    path = PROJECT_ROOT / "knowledge" / "semantic.py"
    return hashlib.sha256(path.read_bytes() if path.exists() else b"").hexdigest()[:12]
