"""Large generated knowledge (by default 1,000 entries x 10 phrasings), for the reload tests
and ``benchmarks.reload``: each entry a distinct product, part and problem, said ten ways."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

PRODUCTS = [
    "kettle",
    "toaster",
    "blender",
    "speaker",
    "headphones",
    "earbuds",
    "charger",
    "router",
    "printer",
    "camera",
    "watch",
    "tablet",
    "laptop",
    "monitor",
    "keyboard",
    "mouse",
    "drone",
    "scooter",
    "fridge",
    "heater",
    "fan",
    "lamp",
    "doorbell",
    "thermostat",
    "vacuum",
]
PARTS = [
    "battery",
    "screen",
    "button",
    "cable",
    "lid",
    "motor",
    "light",
    "microphone",
    "strap",
    "app",
    "display",
    "plug",
    "port",
    "case",
    "sensor",
    "remote",
    "filter",
    "wheel",
    "hinge",
    "antenna",
]
PROBLEMS = (
    "does not turn on",
    "keeps turning off",
    "makes a loud noise",
    "gets very hot",
    "will not charge",
    "is flickering",
    "stopped working",
    "is leaking",
    "smells of burning",
    "is stuck",
    "does not connect",
    "is very slow",
    "shows an error",
    "rattles when moving",
    "drains too fast",
    "will not pair",
    "is cracked",
    "beeps all the time",
    "is too quiet",
    "feels loose",
)
TEMPLATES = (
    "The {part} of my {product} {problem}",
    "my {product} {part} {problem}",
    "the {part} on the {product} {problem} since yesterday",
    "help, the {product} {part} {problem}",
    "why does my {product} {part} {problem}",
    "our new {product} {part} {problem}",
    "the {product} {part} {problem} after the update",
    "every morning the {product} {part} {problem}",
    "{product} {part} {problem} again",
    "my son's {product} {part} {problem}",
)


def bulk_yaml(
    entries: int = 1000, phrasings: int = 10, *, seed: int = 0, prefix: str = "gadget"
) -> str:
    """One knowledge file: ``entries`` entries, each a title and ``phrasings - 1`` symptoms."""
    combos = list(itertools.product(PRODUCTS, PARTS, PROBLEMS))
    if entries > len(combos) or not 2 <= phrasings <= len(TEMPLATES):
        raise ValueError(f"at most {len(combos)} entries of 2 to {len(TEMPLATES)} phrasings")
    lines = ["product: Gadgets", "entries:"]
    for number, (product, part, problem) in enumerate(random.Random(seed).sample(combos, entries)):
        said = [
            json.dumps(t.format(product=product, part=part, problem=problem))  # YAML-quoted
            for t in TEMPLATES[:phrasings]
        ]
        lines += [
            f"  - id: {prefix}-{number:05d}",
            f"    title: {said[0]}",
            "    symptoms:",
            *(f"      - {text}" for text in said[1:]),
            f"    fix: Reset the {product}'s {part} ({prefix} {number}).",
        ]
    return "\n".join(lines) + "\n"


def write_bulk_knowledge(
    directory: Path,
    entries: int = 1000,
    phrasings: int = 10,
    *,
    seed: int = 0,
    prefix: str = "gadget",
) -> Path:
    """``bulk_yaml`` written to ``directory/<prefix>.yaml``; returns the file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{prefix}.yaml"
    path.write_text(bulk_yaml(entries, phrasings, seed=seed, prefix=prefix), encoding="utf-8")
    return path
