"""Entries that say the same thing: a symptom of one entry that is nearly word for word a
symptom of another leaves the matcher no way to tell the two apart, so customers who put it
that way are asked to choose, or shown the wrong fix.

Two symptoms are near-duplicates when, after ``normalise`` and ``stem``, one holds every word of
the other in any order, typos aside (words at least ``TYPO`` alike), adding at most short words
such as "my" or "the"; and their sorted words are at least ``SIMILAR`` alike (rapidfuzz
``ratio``: ``token_sort_ratio`` of the stemmed text). "the cable on the fan is slow" and "the
case on the fan is slow" score 96 on characters alone, but one word is swapped for another
(different parts): not a duplicate.

Symptoms are compared within one language, as its customers' matcher has them
(``Entry.in_language``: a translation's own symptoms, then the default ones); in a translated
language only pairs with at least one symptom of the translation's own are new (two default
symptoms are reported once, for the default language).

Speed: the symptoms are sorted by length, and each is compared (one ``process.extract`` in C)
only with the longer ones that could reach ``SIMILAR`` at all; only those pairs get the word check.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from knowledge.schema import Entry, KnowledgeBase
from knowledge.text import normalise, stem

__all__ = ["NearDuplicate", "near_duplicates"]

SIMILAR = 90.0  # the sorted stemmed words of two symptoms at least this alike (0..100)
TYPO = 85.0  # two words this alike are one word mistyped ("conect", "connect")
_SHORT = 3  # one symptom may add words this short ("my", "the", "at") to the other's


@dataclass(frozen=True)
class NearDuplicate:
    """Two entries, each with a symptom that is nearly the other's (the most alike pair)."""

    language: str | None  # None: the default language
    first: Entry
    second: Entry
    first_symptom: str
    second_symptom: str
    score: float  # 0..100, how alike the two symptoms' sorted stemmed words are
    more: int = 0  # further near-duplicate pairs between the same two entries

    def __str__(self) -> str:
        language = f" ({self.language})" if self.language else ""
        more = f", and {self.more} more" if self.more else ""
        return (
            f"entries {self.first.id} ({self.first.source}) and {self.second.id}"
            f" ({self.second.source}) have near-duplicate symptoms{language}:"
            f" {self.first_symptom!r} ~ {self.second_symptom!r} ({self.score:.0f}){more}"
        )


@dataclass(frozen=True)
class _Symptom:
    owner: int  # the entry's position in the knowledge
    text: str  # as written
    own: bool  # in this language's own list (not a translated entry's fallback to the default)
    words: frozenset[str]  # normalised, stemmed
    key: str  # the stemmed words, sorted: what ``SIMILAR`` is measured on


def near_duplicates(knowledge: KnowledgeBase) -> list[NearDuplicate]:
    """Every pair of entries with near-duplicate symptoms in the same language, by file order
    of the first entry; one line per pair of entries, its most alike symptoms."""
    entries = knowledge.entries
    found = _pairs(entries, ([(s, True) for s in e.symptoms] for e in entries), None)
    for code in knowledge.languages():
        found += _pairs(entries, (_said_in(code, e) for e in entries), code)
    return found


def _said_in(language: str, entry: Entry) -> list[tuple[str, bool]]:
    """The entry's symptoms as ``language``'s matcher has them, each marked True when it is
    the translation's own."""
    translation = entry.translation(language)
    own = translation.symptoms if translation else ()
    return [*((text, True) for text in own), *((text, False) for text in entry.symptoms)]


def _pairs(
    entries: tuple[Entry, ...], symptoms: Iterable[list[tuple[str, bool]]], language: str | None
) -> list[NearDuplicate]:
    by_length = sorted(_symptoms(symptoms), key=lambda s: len(s.key))
    keys = [s.key for s in by_length]
    lengths = [len(key) for key in keys]
    # ratio = 2 M / (n + m) ≥ SIMILAR / 100 needs m ≤ n (1 + c) / (1 - c), c = 1 - SIMILAR / 100
    c = 1.0 - SIMILAR / 100.0
    best: dict[tuple[int, int], tuple[float, _Symptom, _Symptom]] = {}
    counts: dict[tuple[int, int], int] = {}
    for position, symptom in enumerate(by_length):
        longest = math.floor(len(symptom.key) * (1.0 + c) / (1.0 - c) + 1e-9)
        end = bisect.bisect_right(lengths, longest)
        for _, score, index in process.extract(
            symptom.key,
            keys[position + 1 : end],
            scorer=fuzz.ratio,
            processor=None,  # the keys are normalised already
            score_cutoff=SIMILAR,
            limit=None,
        ):
            other = by_length[position + 1 + index]
            if (
                other.owner == symptom.owner
                or not (symptom.own or other.own)
                or not _same_words(symptom.words, other.words)
            ):
                continue
            first, second = sorted((symptom, other), key=lambda s: s.owner)
            pair = (first.owner, second.owner)
            counts[pair] = counts.get(pair, 0) + 1
            if pair not in best or score > best[pair][0]:
                best[pair] = (float(score), first, second)
    return [
        NearDuplicate(
            language=language,
            first=entries[pair[0]],
            second=entries[pair[1]],
            first_symptom=first.text,
            second_symptom=second.text,
            score=score,
            more=counts[pair] - 1,
        )
        for pair, (score, first, second) in sorted(best.items())
    ]


def _symptoms(per_entry: Iterable[list[tuple[str, bool]]]) -> list[_Symptom]:
    """Each entry's symptoms, one per distinct key, the first kept (an entry's own repeats are
    not pairs)."""
    found: list[_Symptom] = []
    for owner, symptoms in enumerate(per_entry):
        seen: set[str] = set()
        for text, own in symptoms:
            words = [stem(word) for word in normalise(text).split()]
            key = " ".join(sorted(words))
            if key and key not in seen:
                seen.add(key)
                found.append(_Symptom(owner, text, own, frozenset(words), key))
    return found


def _same_words(first: frozenset[str], second: frozenset[str]) -> bool:
    """One says all the other says (typos aside), and adds at most short words ("my", "at")."""
    first_only = _unmatched(first - second, second)
    second_only = _unmatched(second - first, first)
    if first_only and second_only:  # a word swapped for another: "app" / "lid", "cable" / "case"
        return False
    return all(len(word) <= _SHORT for word in first_only + second_only)


def _unmatched(words: Iterable[str], other: frozenset[str]) -> list[str]:
    """The words not in ``other``, not even mistyped."""
    return [
        word
        for word in words
        if process.extractOne(word, other, scorer=fuzz.ratio, processor=None, score_cutoff=TYPO)
        is None
    ]
