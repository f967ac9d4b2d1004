"""Rank knowledge entries against what a customer wrote.

Text is seen through ``knowledge.text`` (folding, stemming, n-grams), as in all of ``knowledge``.
The raw score is a fixed weighted sum of three signals,
each already on an absolute 0..1 scale (never relative to the best entry for this query), so
scores are comparable across queries; a per-knowledge calibration then makes them
comparable across knowledge bases (``knowledge.calibration``), so one pair of thresholds works:

- **words** (weight 1): BM25 over one document per entry (its title, symptoms and product; a
  phrasing repeated verbatim counts once), divided by the most the query could score -- the sum
  of its words' IDF times BM25's saturation limit. Query words are stemmed and, when unknown,
  corrected towards the knowledge vocabulary with rapidfuzz. A word the knowledge has never seen
  weighs a little more than the rarest known word, so an out-of-scope question is mostly
  unexplained and scores low.
- **characters** (weight 1/2): cosine of TF-IDF vectors of word-boundary-aware character 3-5-grams,
  the query against the entry's centroid (all its phrasings together): morphology, typos and
  compounds the word signal misses.
- **fuzzy** (weight 1/4): rapidfuzz ``token_sort_ratio`` / ``token_set_ratio`` of the query to the
  entry's closest phrasing (near-duplicates, word order), on the normalised text, with a
  score cutoff.

The band follows the calibrated score (``band_for``), except that an ANSWER also needs words
that pick the entry and no other product named instead, unless the text is a near-duplicate
of one of its phrasings; otherwise it is a SUGGEST (``knowledge.evidence``).

Speed: the word signal runs over an inverted index (only entries sharing a word with the query
are touched); the character and fuzzy signals only for a short list of the best entries by words.
"""

from __future__ import annotations

import heapq
import math
import random
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import repeat

from rapidfuzz import fuzz, process

from knowledge import calibration
from knowledge.evidence import Evidence
from knowledge.schema import (
    Band,
    Candidate,
    EntryId,
    EntryKind,
    KnowledgeBase,
    MatchResult,
    Thresholds,
    band_for,
)
from knowledge.scoring import bm25_idf, cosine, holds
from knowledge.text import MAX_QUERY_CHARS, Vocabulary, char_ngrams, normalise, stem, terms

__all__ = ["DEFAULT_THRESHOLDS", "Matcher", "normalise", "stem"]

_MAX_QUERY_TOKENS = 120
_K1 = 1.2
_B = 0.75
_TF_SCALE = 1.0
_UNKNOWN_WORD_WEIGHT = 1.3  # × the IDF of a word no entry has (the rarest possible)
_W_WORDS = 1.0
_W_CHARS = 0.5
_W_FUZZY = 0.25
_W_NEAR = 1.0  # extra for a near-duplicate of one phrasing (fuzzy above _NEAR)
_NEAR = 0.75
_FUZZY_CUTOFF = 30.0
_DUPLICATE = 90.0  # fuzz.ratio of the sorted words: a near-duplicate needs no more evidence
_SHORTLIST = 30  # best entries by words that get the character and fuzzy comparisons
# A word in more entries than this ("my", "the" in a big knowledge base) only adds to entries
# that rarer query words already found, once there are some: it cannot lift an entry far.
_COMMON_POSTING = 1000

DEFAULT_THRESHOLDS = Thresholds()  # chosen on validation data: see Thresholds


class Matcher:
    """Index a knowledge base once; then ``match`` a customer's text against it."""

    def __init__(
        self, knowledge: KnowledgeBase, thresholds: Thresholds = DEFAULT_THRESHOLDS
    ) -> None:
        self._thresholds = thresholds
        self._entry_ids: tuple[EntryId, ...] = tuple(e.id for e in knowledge)
        texts: list[str] = []  # normalised phrasings, entry by entry
        self._phrasing_range: list[tuple[int, int]] = []
        doc_tf: list[Counter[str]] = []
        for entry in knowledge:
            start = len(texts)
            distinct = dict.fromkeys(normalise(t) for t in (entry.title, *entry.symptoms))
            texts.extend(t for t in distinct if t)
            self._phrasing_range.append((start, len(texts)))
            tf: Counter[str] = Counter()
            for text in texts[start:]:
                tf.update(terms(text))
            tf.update(set(terms(normalise(entry.product))))  # "my pulse ..." → the smartwatch
            doc_tf.append(tf)
        # each phrasing with its words in sorted order: the fuzzy scores are order-free
        # (token_sort_ratio is ratio of the sorted words, sorted once here instead of at every
        # comparison; token_set_ratio works on sets), and so are words and n-grams
        self._texts = [" ".join(sorted(t.split())) for t in texts]
        self._build_words(doc_tf)
        self._evidence = Evidence(
            doc_tf,
            [end - start for start, end in self._phrasing_range],
            [e.product for e in knowledge],
            [e.kind is EntryKind.REPLACEMENT for e in knowledge],
        )
        per_text = self._build_chars(texts)
        # the raw scores mapped to 40, 60 and 95: see ``_calibrate``
        self.calibration: tuple[float, float, float] = self._calibrate(doc_tf, per_text)
        self._scale = calibration.scale(*self.calibration)

    def _build_words(self, doc_tf: Sequence[Counter[str]]) -> None:
        n_docs = max(len(doc_tf), 1)
        lengths = [sum(tf.values()) for tf in doc_tf]
        avg_len = (sum(lengths) / n_docs) or 1.0
        df: Counter[str] = Counter()
        for tf in doc_tf:
            df.update(tf.keys())
        self._idf = {t: bm25_idf(n, n_docs) for t, n in df.items()}
        self._avg_len = avg_len
        self._unknown_idf = _UNKNOWN_WORD_WEIGHT * bm25_idf(0, n_docs)
        postings: dict[str, tuple[array[int], array[float]]] = {}
        for index, (tf, length) in enumerate(zip(doc_tf, lengths, strict=True)):
            norm = _K1 * (1.0 - _B + _B * length / avg_len)
            for term, count in tf.items():
                posting = postings.get(term)
                if posting is None:
                    posting = postings[term] = (array("l"), array("d"))
                posting[0].append(index)
                posting[1].append(min(1.0, _TF_SCALE * count / (count + norm)))
        self._postings = postings
        self._common: dict[str, dict[int, float]] = {
            term: dict(zip(docs, weights, strict=True))
            for term, (docs, weights) in postings.items()
            if len(docs) > _COMMON_POSTING
        }
        self._vocabulary = Vocabulary(self._idf)

    def _build_chars(self, texts: Sequence[str]) -> list[Counter[str]]:
        per_text = [Counter(char_ngrams(t)) for t in texts]
        df: Counter[str] = Counter()
        for grams in per_text:
            df.update(grams.keys())
        n_texts = len(texts)
        self._gram_ids = {g: i for i, g in enumerate(df)}
        self._gram_idf = [math.log((n_texts + 1) / (n + 1)) + 1.0 for n in df.values()]
        self._unknown_gram_idf = math.log(n_texts + 1) + 1.0
        self._centroids: list[tuple[array[int], array[float]]] = []
        for start, end in self._phrasing_range:
            counts: Counter[str] = Counter()
            for grams in per_text[start:end]:
                counts.update(grams)
            self._centroids.append(self._centroid(counts))
        return per_text

    def _centroid(self, counts: Counter[str]) -> tuple[array[int], array[float]]:
        ids = array("l")
        weights = array("d")
        for gram, count in counts.items():
            gram_id = self._gram_ids[gram]
            ids.append(gram_id)
            weights.append((1.0 + math.log(count)) * self._gram_idf[gram_id])
        norm = math.sqrt(sum(w * w for w in weights)) or 1.0
        return ids, array("d", (w / norm for w in weights))

    def _calibrate(
        self, doc_tf: Sequence[Counter[str]], per_text: Sequence[Counter[str]]
    ) -> tuple[float, float, float]:
        """The raw scores mapped to the suggest, answer and exact points (40, 60, 95).

        From a sample of the knowledge's own phrasings: each scored against its entry without it
        (leave-one-out, ``own``), against the full index (``exact``: its own entry) and the best
        other entry (``other``). Entries with a single phrasing cannot be left out; knowledge with
        fewer than a handful of usable phrasings gets defaults measured with two per entry.
        """
        pool = [
            (doc, text)
            for doc, (start, end) in enumerate(self._phrasing_range)
            if end - start >= 2
            for text in range(start, end)
        ]
        if len(pool) < calibration.MIN_CALIBRATION:
            return calibration.DEFAULT_RAW
        if len(pool) > calibration.CALIBRATION_SAMPLE:
            pool = sorted(random.Random(0).sample(pool, calibration.CALIBRATION_SAMPLE))
        other: list[float] = []
        own: list[float] = []
        exact: list[float] = []
        for doc, text in pool:
            query = self._texts[text]
            raw = self._raw_scores(query, 2)
            exact.append(raw.get(doc, 0.0))
            other.append(max((s for d, s in raw.items() if d != doc), default=0.0))
            own.append(self._left_out_score(text, doc, doc_tf[doc], per_text))
        return calibration.points(own, other, exact)

    def _left_out_score(
        self, text: int, doc: int, tf: Counter[str], per_text: Sequence[Counter[str]]
    ) -> float:
        """The raw score of one of an entry's phrasings against the entry without it."""
        query = self._texts[text]
        start, end = self._phrasing_range[doc]
        left_out = Counter(terms(query))
        length = sum(tf.values()) - sum(left_out.values())
        norm = _K1 * (1.0 - _B + _B * length / self._avg_len)
        weighted = self._query_terms(query.split())
        words = 0.0
        for term, idf, credit in weighted:
            count = tf[term] - left_out[term] if term is not None else 0
            if count > 0:
                words += idf * credit * min(1.0, _TF_SCALE * count / (count + norm))
        words /= sum(idf for _, idf, _ in weighted) or 1.0
        counts: Counter[str] = Counter()
        for other in range(start, end):
            if other != text:
                counts.update(per_text[other])
        vector, vector_norm = self._char_vector(query)
        chars = cosine(vector, vector_norm, self._centroid(counts)) if vector else 0.0
        closest = 0.0
        for other in range(start, end):
            if other != text:
                similarity = sum(
                    scorer(query, self._texts[other], processor=None, score_cutoff=_FUZZY_CUTOFF)
                    for scorer in (fuzz.ratio, fuzz.token_set_ratio)  # (both sorted)
                )
                closest = max(closest, similarity / 200.0)
        return _combine(words, chars, closest)

    @property
    def thresholds(self) -> Thresholds:
        return self._thresholds

    def match_many(self, texts: Sequence[str], limit: int = 3) -> list[MatchResult]:
        """``match`` for each text (the same interface as the semantic matcher's batch)."""
        return [self.match(text, limit) for text in texts]

    def match(self, text: str, limit: int = 3) -> MatchResult:
        """Up to ``limit`` candidates (one per entry, best first) and the confidence band."""
        query = normalise(text[:MAX_QUERY_CHARS])
        if limit <= 0 or not any(ch.isalpha() for ch in query) or not self._entry_ids:
            return MatchResult(Band.UNKNOWN, ())
        query = " ".join(query.split()[:_MAX_QUERY_TOKENS])
        scores = self._scores(query, max(limit, 2))
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[: max(limit, 2)]
        candidates = tuple(
            Candidate(self._entry_ids[i], round(min(max(s, 0.0), 100.0), 1)) for i, s in ranked
        )
        band = band_for(candidates, self._thresholds)
        if band is Band.ANSWER and not self._backed(query, ranked[0][0]):
            band = Band.SUGGEST  # a high score from too little: see knowledge.evidence
        return MatchResult(band, candidates[:limit])

    def _backed(self, query: str, doc: int) -> bool:
        """Whether the query's words back an ANSWER with ``doc`` (``knowledge.evidence``);
        a near-duplicate of one of its phrasings always does."""
        start, end = self._phrasing_range[doc]
        ordered = " ".join(sorted(query.split()))
        texts = self._texts[start:end]
        # processor=None: both sides are normalised, default_process is in it
        if process.extractOne(
            ordered, texts, scorer=fuzz.ratio, processor=None, score_cutoff=_DUPLICATE
        ):
            return True
        known, shared = self._known_and_shared(query, doc)
        return self._evidence.supports(doc, known, shared)

    def products_fit(self, text: str, doc: int) -> bool:
        """Whether the products ``text`` names allow an ANSWER with entry ``doc`` (its place
        in the knowledge), for the semantic matcher: ``knowledge.evidence``."""
        query = " ".join(normalise(text[:MAX_QUERY_CHARS]).split()[:_MAX_QUERY_TOKENS])
        return self._evidence.products_fit(doc, *self._known_and_shared(query, doc))

    def _known_and_shared(self, query: str, doc: int) -> tuple[list[str], list[str]]:
        known = [t for t, _, _ in self._query_terms(query.split()) if t is not None]
        return known, [t for t in known if holds(self._postings[t][0], doc)]

    def _scores(self, query: str, wanted: int) -> dict[int, float]:
        """Calibrated scores (0..100) of the best entries by words."""
        scale = self._scale
        return {
            doc: calibration.interpolate(scale, raw)
            for doc, raw in self._raw_scores(query, wanted).items()
        }

    def _raw_scores(self, query: str, wanted: int) -> dict[int, float]:
        words = self._word_scores(query)
        if not words:
            return {}
        shortlist = heapq.nlargest(max(_SHORTLIST, wanted), words, key=words.__getitem__)
        chars = self._char_similarity(query, shortlist)
        fuzzy = self._fuzzy_similarity(query, shortlist)
        scores: dict[int, float] = {}
        for doc in shortlist:
            score = _combine(words[doc], chars[doc], fuzzy.get(doc, 0.0))
            if score > 0.0:
                scores[doc] = score
        return scores

    def _word_scores(self, query: str) -> dict[int, float]:
        """BM25 per entry sharing a word with the query, over the most the query could score."""
        weighted = self._query_terms(query.split())
        total = sum(idf for _, idf, _ in weighted) or 1.0
        accumulated: dict[int, float] = {}
        get = accumulated.get
        known = [(t, idf * credit / total) for t, idf, credit in weighted if t is not None]
        known.sort(key=lambda item: len(self._postings[item[0]][0]))  # rarest words first
        for term, weight in known:
            docs, term_weights = self._postings[term]
            if accumulated and len(docs) > _COMMON_POSTING and len(docs) > 2 * len(accumulated):
                common = self._common[term]
                for doc in accumulated:
                    accumulated[doc] += weight * common.get(doc, 0.0)
                continue
            for doc, term_weight in zip(docs, term_weights, strict=True):
                accumulated[doc] = get(doc, 0.0) + weight * term_weight
        return accumulated

    def _query_terms(self, words: Iterable[str]) -> list[tuple[str | None, float, float]]:
        """Each distinct query word as (known term or None, IDF weight, credit 0..1)."""
        result: list[tuple[str | None, float, float]] = []
        for term in dict.fromkeys(stem(w) for w in words):
            idf = self._idf.get(term)
            if idf is not None:
                result.append((term, idf, 1.0))
                continue
            corrected = self._vocabulary.correct(term)
            if corrected is None:
                result.append((None, self._unknown_idf, 0.0))
            else:
                known, similarity = corrected
                result.append((known, self._idf[known], similarity / 100.0))
        return result

    def _char_vector(self, query: str) -> tuple[dict[int, float], float]:
        """The query's character n-gram TF-IDF weights by known n-gram, and the vector's norm."""
        vector: dict[int, float] = {}
        squares = 0.0
        for gram, count in Counter(char_ngrams(query)).items():
            gram_id = self._gram_ids.get(gram)
            idf = self._unknown_gram_idf if gram_id is None else self._gram_idf[gram_id]
            weight = (1.0 + math.log(count)) * idf
            squares += weight * weight
            if gram_id is not None:
                vector[gram_id] = weight
        return vector, math.sqrt(squares)

    def _char_similarity(self, query: str, docs: Sequence[int]) -> dict[int, float]:
        """Per entry, cosine of character n-gram TF-IDF: the query against the entry centroid."""
        vector, norm = self._char_vector(query)
        if not vector:
            return dict.fromkeys(docs, 0.0)
        return {doc: cosine(vector, norm, self._centroids[doc]) for doc in docs}

    def _fuzzy_similarity(self, query: str, docs: Sequence[int]) -> dict[int, float]:
        """Per entry, 0..1: the best fuzzy similarity of the query to one of its phrasings."""
        owners: list[int] = []
        texts: list[str] = []
        for doc in docs:
            start, end = self._phrasing_range[doc]
            owners.extend(repeat(doc, end - start))
            texts.extend(self._texts[start:end])
        per_phrasing = [0.0] * len(texts)
        ordered = " ".join(sorted(query.split()))  # token_sort_ratio: ratio of sorted words
        for scorer, side in ((fuzz.ratio, ordered), (fuzz.token_set_ratio, query)):
            for _, score, position in process.extract(
                side,
                texts,
                scorer=scorer,
                processor=None,  # both sides are normalised: default_process is in it
                score_cutoff=_FUZZY_CUTOFF,
                limit=None,
            ):
                per_phrasing[position] += float(score) / 200.0
        best: dict[int, float] = {}
        for doc, score in zip(owners, per_phrasing, strict=True):
            if score > best.get(doc, 0.0):
                best[doc] = score
        return best


def _combine(words: float, chars: float, closest: float) -> float:
    """The raw score (0..100) from the three signals, each 0..1."""
    near = max(0.0, closest - _NEAR) / (1.0 - _NEAR)
    score = _W_WORDS * words + _W_CHARS * chars + _W_FUZZY * closest + _W_NEAR * near
    return 100.0 * score / (_W_WORDS + _W_CHARS + _W_FUZZY + _W_NEAR)
