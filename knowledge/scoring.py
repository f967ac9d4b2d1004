"""The lexical matcher's arithmetic on postings and vectors (``knowledge.matcher``)."""

from __future__ import annotations

import bisect
import math
from array import array
from itertools import repeat
from operator import mul


def holds(docs: array[int], doc: int) -> bool:
    """Whether a posting's sorted entry numbers hold ``doc``."""
    position = bisect.bisect_left(docs, doc)
    return position < len(docs) and docs[position] == doc


def bm25_idf(df: int, n_docs: int) -> float:
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def cosine(
    vector: dict[int, float], norm: float, centroid: tuple[array[int], array[float]]
) -> float:
    """The cosine of a sparse query vector (by n-gram id; ``norm`` its length) and a
    centroid (its n-gram ids, and their weights with length 1)."""
    ids, weights = centroid
    return float(sum(map(mul, map(vector.get, ids, repeat(0.0)), weights))) / norm
