"""Group similar short texts: the questions the knowledge missed, for ``supportbot report``.

Uses rapidfuzz for the words similarity, as the matchers do (the layering test keeps it to
``knowledge``).

Grouping is average-linkage agglomeration: every text starts as a group of its own, and the
two groups whose texts are most similar on average merge, again and again, while that average
is at least the threshold. (A chain of texts each close to the next, single linkage, ends far
from where it began: "watch strap broke" ... "watch will not charge"; a leader pass depends on
the order of the texts.) Texts that read the same once normalised are one text with a weight.
Two similarities, each on 0..100:

- **meaning** (``vectors`` given: the semantic matcher's sentence embeddings, unit length):
  100 × cosine. The average similarity of two groups is exactly the dot product of their
  vectors' sums over the product of their sizes, so linkage is exact; only groups joined by a
  pair among either text's ``_NEIGHBOURS`` closest (at or above the threshold: a group
  average can only be that high if some pair is) are compared, and those pairs come from
  numpy, a block of rows at a time.
- **words** (any install): rapidfuzz ``token_set_ratio`` of the texts' stemmed words (the
  matcher's ``normalise`` and ``stem``: case, accents, apostrophes, "charging"/"charged").
  Only texts sharing a word are compared (an inverted index; a word in more than
  ``_COMMON_SHARE`` of the texts, "my", "the", makes no candidates by itself), and each text
  keeps its ``_NEIGHBOURS`` closest from ``_FLOOR_BELOW`` under the threshold up; pairs not
  kept count as 0 in a group's average.

The work grows with the number of similar pairs kept, at most ``_NEIGHBOURS`` a text, not with
the square of the texts (callers cap how many texts they group: ``bot.reports``).

Measured on ``tests/data/unmatched_groups.yaml`` (8 groups of paraphrases and 16 questions of
their own; pairwise precision / recall / F1, and groups found exactly), at the default
thresholds: meaning 0.98 / 0.88 / 0.93, 6 of 8 groups; words 0.70 / 0.66 / 0.68, 3 of 8
(other word similarities, each at its best threshold with average linkage over the full
matrix, reached F1 0.63 for ``token_set_ratio`` without stemming, 0.54 ``token_sort_ratio``,
0.26 ``WRatio``, 0.62 a TF-IDF cosine of words and character n-grams).
Paraphrases share few words ("my smartwatch band snapped" / "the watch strap broke"), so the
embeddings group much better; words are the fallback when the [semantic] extra is missing,
and for the languages the packaged model does not read.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from rapidfuzz import fuzz, process

from knowledge.text import normalise, stem

__all__ = ["MEANING_THRESHOLD", "WORDS_THRESHOLD", "group_texts", "words_key"]

MEANING_THRESHOLD = 50.0
WORDS_THRESHOLD = 50.0
_NEIGHBOURS = 30  # similar pairs kept per text: its closest
# Words: pairs this far under the threshold are kept too; they lift a group's average, which
# otherwise counts them as 0 and splits groups of paraphrases (F1 0.58 instead of 0.68).
_FLOOR_BELOW = 20.0
_COMMON_SHARE = 0.05  # a word in more of the texts than this makes no candidates by itself ...
_MIN_COMMON = 50  # ... when it is in more texts than this
_BLOCK = 512  # rows of the cosine matrix at once


def words_key(text: str) -> str:
    """The text as the words similarity compares it: normalised, each word stemmed."""
    return " ".join(stem(word) for word in normalise(text).split())


def group_texts(
    texts: Sequence[str], *, vectors: Any = None, threshold: float | None = None
) -> list[list[int]]:
    """Indices of ``texts`` in groups of similar ones, biggest group first (ties: the group
    with the earliest text first), each group's indices in order. Every index is in exactly
    one group; a text like no other is a group of one.

    ``vectors``: a numpy array, one unit-length row per text, to compare meaning; None
    compares words. ``threshold``: the least average similarity (0..100) within a group;
    default ``MEANING_THRESHOLD`` or ``WORDS_THRESHOLD``.
    """
    keys = [words_key(text) for text in texts]
    position: dict[str, int] = {}
    same: list[list[int]] = []  # per distinct text: the indices that read like it
    for index, key in enumerate(keys):
        if key not in position:
            position[key] = len(same)
            same.append([])
        same[position[key]].append(index)
    firsts = [indices[0] for indices in same]
    if vectors is not None:
        limit = MEANING_THRESHOLD if threshold is None else threshold
        labels = _meaning_groups(vectors[firsts], limit)
    else:
        limit = WORDS_THRESHOLD if threshold is None else threshold
        labels = _words_groups([keys[i] for i in firsts], limit)
    grouped: dict[int, list[int]] = defaultdict(list)
    for node, label in enumerate(labels):
        grouped[label].extend(same[node])
    groups = [sorted(group) for group in grouped.values()]
    groups.sort(key=lambda group: (-len(group), group[0]))
    return groups


# ---- meaning -------------------------------------------------------------------------


def _meaning_groups(vectors: Any, threshold: float) -> list[int]:
    import numpy as np

    matrix = np.asarray(vectors, dtype=np.float32)
    n = len(matrix)
    pairs: dict[tuple[int, int], float] = {}
    keep = min(_NEIGHBOURS, n - 1)
    for start in range(0, n if keep > 0 else 0, _BLOCK):  # one text alone has no pairs
        block = 100.0 * (matrix[start : start + _BLOCK] @ matrix.T)
        rows = np.arange(len(block))
        block[rows, rows + start] = -1.0  # not a pair with itself
        closest = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
        scores = block[rows[:, None], closest]
        for row, column in zip(*np.nonzero(scores >= threshold), strict=True):
            i, j = start + int(row), int(closest[row, column])
            pairs[(min(i, j), max(i, j))] = float(scores[row, column])
    # a group's sum of vectors; merged groups get new ids n, n + 1, ...
    sums = np.zeros((2 * n, matrix.shape[1] if n else 0), dtype=np.float64)
    sums[:n] = matrix

    def linkage(a: int, b: int, size_a: int, size_b: int) -> float:
        return float(100.0 * (sums[a] @ sums[b]) / (size_a * size_b))

    def merged(new: int, a: int, b: int, others: set[int]) -> None:
        sums[new] = sums[a] + sums[b]

    return _agglomerate(n, pairs, threshold, linkage, merged)


# ---- words ---------------------------------------------------------------------------


def _words_groups(keys: Sequence[str], threshold: float) -> list[int]:
    totals = _words_pairs(keys, threshold - _FLOOR_BELOW)  # sums of scores between groups

    def linkage(a: int, b: int, size_a: int, size_b: int) -> float:
        return totals.get((min(a, b), max(a, b)), 0.0) / (size_a * size_b)

    def merged(new: int, a: int, b: int, others: set[int]) -> None:
        for other in others:
            totals[(other, new)] = sum(
                totals.pop((min(old, other), max(old, other)), 0.0) for old in (a, b)
            )

    return _agglomerate(len(keys), dict(totals), threshold, linkage, merged)


def _words_pairs(keys: Sequence[str], floor: float) -> dict[tuple[int, int], float]:
    """(i, j) with i < j: ``token_set_ratio`` at least ``floor``, among each text's closest."""
    words = [set(key.split()) for key in keys]
    df: Counter[str] = Counter(word for found in words for word in found)
    common = max(_MIN_COMMON, int(_COMMON_SHARE * len(keys)))
    index: dict[str, list[int]] = defaultdict(list)
    for i, found in enumerate(words):
        usable = [word for word in found if df[word] <= common]
        if not usable and found:  # only common words: the rarest of them, all the same
            usable = [min(found, key=lambda word: (df[word], word))]
        for word in usable:
            index[word].append(i)
    pairs: dict[tuple[int, int], float] = {}
    for i, key in enumerate(keys):
        candidates = {j: keys[j] for word in words[i] for j in index.get(word, ()) if j != i}
        # the keys are normalised already (``normalise`` applies rapidfuzz's default_process)
        for _, score, j in process.extract(
            key,
            candidates,
            scorer=fuzz.token_set_ratio,
            processor=None,
            score_cutoff=floor,
            limit=_NEIGHBOURS,
        ):
            pairs[(min(i, j), max(i, j))] = float(score)
    return pairs


# ---- average linkage -------------------------------------------------------------------


def _agglomerate(
    n: int,
    pairs: dict[tuple[int, int], float],
    threshold: float,
    linkage: Callable[[int, int, int, int], float],
    merged: Callable[[int, int, int, set[int]], None],
) -> list[int]:
    """A group label per node: merge the two neighbouring groups of the best average while it
    is at least ``threshold``. Groups are neighbours when a pair of ``pairs`` joins them; a
    merged group gets a new id (n, n + 1, ...) and ``merged(new, a, b, neighbours)`` is told,
    so that ``linkage(a, b, size_a, size_b)`` (the average similarity) can answer for it.
    Deterministic: ties go to the lower ids."""
    size = dict.fromkeys(range(n), 1)
    near: dict[int, set[int]] = defaultdict(set)
    for i, j in pairs:
        near[i].add(j)
        near[j].add(i)
    heap = [(-linkage(i, j, 1, 1), i, j) for i, j in pairs]
    heap = [item for item in heap if -item[0] >= threshold]
    heapq.heapify(heap)
    into: dict[int, int] = {}  # a merged group's id -> the group it went into
    new = n
    while heap:
        _, a, b = heapq.heappop(heap)
        if a in into or b in into:
            continue  # one of them merged since: its pairs were pushed again
        others = (near.pop(a) | near.pop(b)) - {a, b}
        merged(new, a, b, others)
        size[new] = size.pop(a) + size.pop(b)
        into[a] = into[b] = new
        for other in sorted(others):
            near[other] -= {a, b}
            near[other].add(new)
            near[new].add(other)
            average = linkage(new, other, size[new], size[other])
            if average >= threshold:
                heapq.heappush(heap, (-average, other, new))
        new += 1
    return [_final(node, into) for node in range(n)]


def _final(group: int, into: dict[int, int]) -> int:
    """The group ``group`` ended up in; shortens the path it walked."""
    path = []
    while group in into:
        path.append(group)
        group = into[group]
    for step in path:
        into[step] = group
    return group
