"""How the matchers see text: folded to plain lower-case words, stemmed, cut into n-grams.

Shared by ``knowledge.matcher``, ``knowledge.overlap`` and ``knowledge.clustering`` so that the
knowledge checks compare phrasings exactly as customers' messages are compared.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz.utils import default_process

__all__ = ["MAX_QUERY_CHARS", "char_ngrams", "normalise", "stem", "terms"]

MAX_QUERY_CHARS = 1000  # longer text is cut: the start of a message says what it is about

_APOSTROPHES = re.compile(r"['’`´]")
_SUFFIXES = ("ing", "ed", "es", "s", "ly")
_NGRAM_SIZES = (3, 4, 5)


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
