"""Rank knowledge entries against what a customer wrote.

The only module that uses rapidfuzz. The score (0..100) mixes two signals, both comparable
across queries so that one pair of thresholds works:

- **coverage**: how much of the query's information (IDF-weighted words, after a light suffix
  stemmer and typo correction towards the knowledge vocabulary) appears in the entry's title and
  symptoms. Words the knowledge has never seen weigh as much as the rarest known word, so an
  out-of-scope question is mostly unexplained and scores low.
- **similarity**: rapidfuzz ``token_sort_ratio`` / ``token_set_ratio`` of the query to the
  entry's closest phrasing, always with ``default_process`` and a score cutoff.

A small BM25 term (relative to the best entry for this query) breaks ties in ranking only.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from knowledge.schema import Band, Candidate, EntryId, KnowledgeBase, MatchResult, Thresholds

__all__ = ["Matcher"]

_APOSTROPHES = re.compile(r"['’`´]")
_MAX_QUERY_CHARS = 1000  # longer text is cut: the start of a message says what it is about
_MAX_QUERY_TOKENS = 120
_TYPO_SIMILARITY = 85.0  # a query word this close to a known word counts as that word
_MIN_TYPO_LENGTH = 4  # shorter words are too easy to confuse ("cat" / "car")
_K1 = 1.2
_B = 0.75
_W_COVERAGE = 0.5
_W_SIMILARITY = 0.5
_W_BM25_TIEBREAK = 5.0
_SIMILARITY_CUTOFF = 30.0
_SHORTLIST = 30  # entries sharing most words with the query get the (slower) fuzzy comparison
_SUFFIXES = ("ing", "ed", "es", "s", "ly")

DEFAULT_THRESHOLDS = Thresholds()


def normalise(text: str) -> str:
    """Lower-case, drop apostrophes ("won't" → "wont"), punctuation to spaces."""
    return str(default_process(_APOSTROPHES.sub("", text)))


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


def _terms(text: str) -> list[str]:
    return [stem(w) for w in normalise(text).split()]


@dataclass(frozen=True)
class _Phrasing:
    entry_index: int
    text: str  # normalised


class Matcher:
    """Index a knowledge base once; then ``match`` a customer's text against it."""

    def __init__(
        self, knowledge: KnowledgeBase, thresholds: Thresholds = DEFAULT_THRESHOLDS
    ) -> None:
        self._thresholds = thresholds
        self._entry_ids: tuple[EntryId, ...] = tuple(e.id for e in knowledge)
        phrasings: list[_Phrasing] = []
        self._doc_tf: list[Counter[str]] = []
        for index, entry in enumerate(knowledge):
            texts = (entry.title, *entry.symptoms)
            tf: Counter[str] = Counter()
            for text in texts:
                phrasings.append(_Phrasing(index, normalise(text)))
                tf.update(_terms(text))
            tf.update(set(_terms(entry.product)))  # "my pulse ..." points at the smartwatch
            self._doc_tf.append(tf)
        self._phrasings = tuple(p for p in phrasings if p.text)
        self._phrasing_texts = [p.text for p in self._phrasings]
        self._entry_phrasings: list[list[int]] = [[] for _ in self._entry_ids]
        for index, phrasing in enumerate(self._phrasings):
            self._entry_phrasings[phrasing.entry_index].append(index)
        n_docs = max(len(self._doc_tf), 1)
        self._doc_len = [sum(tf.values()) for tf in self._doc_tf]
        self._avg_len = (sum(self._doc_len) / n_docs) or 1.0
        df: Counter[str] = Counter()
        for tf in self._doc_tf:
            df.update(tf.keys())
        self._idf = {t: self._idf_of(n, n_docs) for t, n in df.items()}
        self._unknown_idf = self._idf_of(0, n_docs)
        self._vocabulary = sorted(self._idf)
        self._postings: dict[str, list[int]] = {}
        for index, tf in enumerate(self._doc_tf):
            for term in tf:
                self._postings.setdefault(term, []).append(index)
        self._typo_cache: dict[str, tuple[str, float] | None] = {}

    @staticmethod
    def _idf_of(df: int, n_docs: int) -> float:
        return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))

    @property
    def thresholds(self) -> Thresholds:
        return self._thresholds

    def match(self, text: str, limit: int = 3) -> MatchResult:
        """Up to ``limit`` candidates (one per entry, best first) and the confidence band."""
        query = normalise(text[:_MAX_QUERY_CHARS])
        if limit <= 0 or not any(ch.isalpha() for ch in query) or not self._entry_ids:
            return MatchResult(Band.UNKNOWN, ())
        scores = self._scores(query)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[: max(limit, 2)]
        candidates = tuple(
            Candidate(self._entry_ids[i], round(min(max(s, 0.0), 100.0), 1)) for i, s in ranked
        )
        return MatchResult(self._band(candidates), candidates[:limit])

    def _band(self, candidates: Sequence[Candidate]) -> Band:
        if not candidates:
            return Band.UNKNOWN
        best = candidates[0].score
        runner_up = candidates[1].score if len(candidates) > 1 else 0.0
        if best >= self._thresholds.answer and best - runner_up >= self._thresholds.margin:
            return Band.ANSWER
        if best >= self._thresholds.suggest:
            return Band.SUGGEST
        return Band.UNKNOWN

    def _scores(self, query: str) -> dict[int, float]:
        weighted = self._query_terms(query.split()[:_MAX_QUERY_TOKENS])
        total_info = sum(w for _, w, _ in weighted) or 1.0
        coverage: dict[int, float] = {}
        bm25: dict[int, float] = {}
        for term, info, credit in weighted:
            if term is None:
                continue
            for doc in self._postings[term]:
                coverage[doc] = coverage.get(doc, 0.0) + info * credit
                tf = self._doc_tf[doc][term]
                norm = _K1 * (1.0 - _B + _B * self._doc_len[doc] / self._avg_len)
                bm25[doc] = bm25.get(doc, 0.0) + info * credit * tf * (_K1 + 1.0) / (tf + norm)
        shortlist = sorted(coverage, key=lambda d: -coverage[d])[:_SHORTLIST]
        similarity = self._similarity(query, shortlist)
        best_bm25 = max(bm25.values(), default=0.0) or 1.0
        scores: dict[int, float] = {}
        for doc in coverage.keys() | similarity.keys():
            scores[doc] = (
                _W_COVERAGE * 100.0 * coverage.get(doc, 0.0) / total_info
                + _W_SIMILARITY * similarity.get(doc, 0.0)
                + _W_BM25_TIEBREAK * (bm25.get(doc, 0.0) / best_bm25 - 1.0)
            )
        return {doc: s for doc, s in scores.items() if s > 0.0}

    def _query_terms(self, words: Iterable[str]) -> list[tuple[str | None, float, float]]:
        """Each distinct query word as (known term or None, information weight, credit 0..1)."""
        result: list[tuple[str | None, float, float]] = []
        for term in dict.fromkeys(stem(w) for w in words):
            if term in self._idf:
                result.append((term, self._idf[term], 1.0))
                continue
            corrected = self._correct(term)
            if corrected is None:
                result.append((None, self._unknown_idf, 0.0))
            else:
                known, similarity = corrected
                result.append((known, self._idf[known], similarity / 100.0))
        return result

    def _correct(self, term: str) -> tuple[str, float] | None:
        """The closest known word to a misspelt one, if it is close enough."""
        if term in self._typo_cache:
            return self._typo_cache[term]
        found: tuple[str, float] | None = None
        if len(term) >= _MIN_TYPO_LENGTH and self._vocabulary:
            best = process.extractOne(
                term,
                self._vocabulary,
                scorer=fuzz.ratio,
                processor=default_process,
                score_cutoff=_TYPO_SIMILARITY,
            )
            if best is not None:
                found = (str(best[0]), float(best[1]))
        if len(self._typo_cache) > 50_000:
            self._typo_cache.clear()
        self._typo_cache[term] = found
        return found

    def _similarity(self, query: str, docs: Sequence[int]) -> dict[int, float]:
        """Per shortlisted entry, the best fuzzy similarity of the query to one of its phrasings."""
        indexes = [i for d in docs for i in self._entry_phrasings[d]]
        texts = [self._phrasing_texts[i] for i in indexes]
        per_phrasing: dict[int, float] = {}
        for scorer in (fuzz.token_sort_ratio, fuzz.token_set_ratio):
            for _, score, position in process.extract(
                query,
                texts,
                scorer=scorer,
                processor=default_process,
                score_cutoff=_SIMILARITY_CUTOFF,
                limit=None,
            ):
                index = indexes[position]
                per_phrasing[index] = per_phrasing.get(index, 0.0) + float(score) / 2.0
        best: dict[int, float] = {}
        for index, score in per_phrasing.items():
            doc = self._phrasings[index].entry_index
            best[doc] = max(best.get(doc, 0.0), score)
        return best
