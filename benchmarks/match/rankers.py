"""The methods compared: the bot's own matchers and rapidfuzz baselines, behind one interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Ranked:
    """What a method made of one query."""

    candidates: list[tuple[str, float]]  # up to ``limit`` (entry id, score 0..100), best first
    band: str | None = None  # the bot's matchers only: "answer", "suggest" or "unknown"
    suggest: float = 0.0  # ... and their suggest threshold (the bot shows no button below it)


class Ranker(Protocol):
    def rank(self, text: str, limit: int) -> Ranked:
        """Up to ``limit`` candidates, one per entry, best first."""
        ...


class MatcherRanker:
    """One of the bot's own matchers (``match(text, limit)``), with its own thresholds: the
    band is whatever ``match()`` says, however the matcher decides it."""

    def __init__(self, matcher: Any) -> None:
        self._matcher = matcher

    @property
    def thresholds(self) -> Any:
        return self._matcher.thresholds

    def rank(self, text: str, limit: int) -> Ranked:
        result = self._matcher.match(text, limit=limit)
        return Ranked(
            [(str(c.entry_id), float(c.score)) for c in result.candidates],
            str(result.band.value),
            float(self._matcher.thresholds.suggest),
        )


class FuzzRanker:
    """A rapidfuzz scorer, ``default_process`` on both sides, max over an entry's phrasings."""

    def __init__(self, knowledge: Any, scorer_name: str) -> None:
        from rapidfuzz import fuzz
        from rapidfuzz.utils import default_process

        self._process = default_process
        self._scorer = {"wratio": fuzz.WRatio, "token_sort": fuzz.token_sort_ratio}[scorer_name]
        self._choices: list[str] = []
        self._owners: list[str] = []
        most = 1
        for entry in knowledge:
            most = max(most, len(entry.symptoms))
            for symptom in entry.symptoms:
                self._choices.append(default_process(symptom))  # once, not per query
                self._owners.append(str(entry.id))
        self._most_phrasings = most

    def rank(self, text: str, limit: int) -> Ranked:
        from rapidfuzz import process

        # The best `limit` entries are among the best (limit - 1) * K + 1 phrasings.
        hits = process.extract(
            self._process(text),
            self._choices,
            scorer=self._scorer,
            processor=None,
            limit=(limit - 1) * self._most_phrasings + 1,
        )
        best: dict[str, float] = {}
        for _, score, index in hits:
            owner = self._owners[index]
            if owner not in best:
                best[owner] = float(score)
                if len(best) == limit:
                    break
        return Ranked(list(best.items()))


def semantic_missing() -> str | None:
    """Why the semantic method cannot run here, or None when it can."""
    try:
        from knowledge.semantic import INSTALL_HINT, semantic_available
    except ImportError as error:  # pragma: no cover - the module is part of the project
        return str(error)
    if semantic_available():
        return None
    return f"the [semantic] extra is not installed ({INSTALL_HINT})"


def make_ranker(method: str, knowledge: Any) -> Ranker:
    if method == "ours":
        from knowledge.matcher import Matcher

        return MatcherRanker(Matcher(knowledge))
    if method == "semantic":
        from knowledge.semantic import SemanticMatcher

        return MatcherRanker(SemanticMatcher(knowledge))
    return FuzzRanker(knowledge, method)
