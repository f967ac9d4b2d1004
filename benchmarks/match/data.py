"""The datasets, the phrasings drawn from them, and knowledge written in our own YAML format."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def entry_id_for(intent: str) -> str:
    """Intent name to entry id: lower-case, anything but [a-z0-9] becomes '-'."""
    return re.sub(r"[^a-z0-9]", "-", intent.lower())


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


def draw_phrasings(train: dict[str, list[str]], k: int | None, seed: int) -> dict[str, list[str]]:
    """K phrasings per intent, with a fixed seed per intent (independent of the others);
    K=None: all of them, in file order (the seed does not matter)."""
    if k is None:
        return {intent: list(texts) for intent, texts in train.items()}
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
