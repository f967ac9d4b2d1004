"""How the matchers see text: folded to plain lower-case words, stemmed, cut into n-grams, and
misspelt words taken for the closest word the knowledge knows (``Vocabulary``).

Shared by ``knowledge.matcher``, ``knowledge.overlap`` and ``knowledge.clustering`` so that the
knowledge checks compare phrasings exactly as customers' messages are compared.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

__all__ = ["MAX_QUERY_CHARS", "Vocabulary", "char_ngrams", "normalise", "stem", "terms"]

MAX_QUERY_CHARS = 1000  # longer text is cut: the start of a message says what it is about

_APOSTROPHES = re.compile(r"['’`´]")
_SUFFIXES = ("ing", "ed", "es", "s", "ly")
_NGRAM_SIZES = (3, 4, 5)
_TYPO_SIMILARITY = 85.0  # a query word this close to a known word counts as that word
_MIN_TYPO_LENGTH = 4  # shorter words are too easy to confuse ("cat" / "car")
_TYPO_CACHE = 50_000


def normalise(text: str) -> str:
    """Lower-case, drop apostrophes ("won't" → "wont") and accents ("batería" → "bateria",
    "ещё" → "еще": customers often type without them), punctuation to spaces."""
    folded = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    return str(default_process(_APOSTROPHES.sub("", folded)))


def stem(word: str) -> str:
    """A light suffix stemmer: "pairing", "paired", "pairs", "pair" → "pair"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            word = word[: -len(suffix)]
            if suffix in ("ing", "ed") and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # "stopped" → "stop"
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]  # "charge" and "charging" → "charg"
    return word


def terms(normalised: str) -> list[str]:
    """Stemmed words of already normalised text."""
    return [stem(w) for w in normalised.split()]


def char_ngrams(normalised: str) -> list[str]:
    """3- to 5-character n-grams inside each word padded with spaces (" pair", "air ", ...);
    a word too short for the smallest n-gram counts as one n-gram of its own."""
    grams: list[str] = []
    smallest = _NGRAM_SIZES[0]
    for word in normalised.split():
        padded = f" {word} "
        length = len(padded)
        if length < smallest:
            grams.append(padded)
            continue
        for n in _NGRAM_SIZES:
            grams.extend(padded[i : i + n] for i in range(length - n + 1))
    return grams


class Vocabulary:
    """The words a knowledge base knows, for correcting a customer's misspelt ones."""

    def __init__(self, words: Iterable[str]) -> None:
        self._words = sorted(words, key=lambda t: (len(t), t))  # by length
        self._first_of_length: list[int] = []  # [n]: index of the first word n or more long
        for index, word in enumerate(self._words):
            while len(self._first_of_length) <= len(word):
                self._first_of_length.append(index)
        self._cache: dict[str, tuple[str, float] | None] = {}

    def correct(self, term: str) -> tuple[str, float] | None:
        """The closest known word to a misspelt one and its similarity, if it is close enough."""
        if term in self._cache:
            return self._cache[term]
        found: tuple[str, float] | None = None
        if len(term) >= _MIN_TYPO_LENGTH and self._words:
            # fuzz.ratio = 100 * (1 - indel distance / (n + m)) >= 85 bounds the other length
            # with c = 1 - 85 / 100: |n - m| <= c (n + m), so m lies in n (1 ∓ c) / (1 ± c)
            c = 1.0 - _TYPO_SIMILARITY / 100.0
            shortest = math.ceil(len(term) * (1.0 - c) / (1.0 + c) - 1e-9)
            longest = math.floor(len(term) * (1.0 + c) / (1.0 - c) + 1e-9)
            lengths = self._first_of_length
            start = lengths[shortest] if shortest < len(lengths) else len(self._words)
            end = lengths[longest + 1] if longest + 1 < len(lengths) else len(self._words)
            best = process.extractOne(
                term,
                self._words[start:end],
                scorer=fuzz.ratio,
                processor=None,  # both sides are normalised: default_process is in it
                score_cutoff=_TYPO_SIMILARITY,
            )
            if best is not None:
                found = (str(best[0]), float(best[1]))
        if len(self._cache) > _TYPO_CACHE:
            self._cache.clear()
        self._cache[term] = found
        return found
