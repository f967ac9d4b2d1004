"""The questions the knowledge missed, grouped (``knowledge.clustering``), each group with the
knowledge entry that comes closest, by the matcher the bot uses.

Questions are grouped per matcher language: a language the knowledge is translated into is
grouped by words and matched by its own (lexical) matcher, as the bot does; every other
question is grouped by meaning when the semantic matcher is in use (its sentence
embeddings), else by words. At most ``GROUPED_AT_MOST`` questions are grouped, the latest
(the rest are counted, and the report says how many were grouped).

A group's verdict: the entry whose mean score over the group's examples is highest is the
closest; below the matcher's suggest threshold the group is a *candidate for a new entry*,
else its questions are *new symptoms* for that entry.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from flows.learning import Unmatched, UnmatchedReason
from flows.turn import Localised
from knowledge.catalogue import language_code
from knowledge.clustering import group_texts
from knowledge.schema import KnowledgeBase, MatchResult, Thresholds
from knowledge.semantic import SemanticMatcher

GROUPED_AT_MOST = 2000
EXAMPLES = 3
_ENCODE_CHUNK = 128  # questions embedded between two progress notes


class AnyMatcher(Protocol):
    """What is asked of a matcher here (``knowledge.matcher.Matcher`` and the semantic one)."""

    @property
    def thresholds(self) -> Thresholds: ...

    def match(self, text: str, limit: int = 3) -> MatchResult: ...


@dataclass(frozen=True)
class Closest:
    entry_id: str
    title: str
    score: float  # the matcher's mean score over the group's examples, 0..100


@dataclass(frozen=True)
class Group:
    """Similar questions: how many, up to three of them, and what the knowledge has closest."""

    size: int
    examples: tuple[str, ...]  # the most often asked first
    reasons: Mapping[UnmatchedReason, int]
    closest: Closest | None
    new_entry: bool  # True: a candidate for a new entry; False: new symptoms for ``closest``
    method: str  # "meaning" or "words": how the group was formed
    language: str | None  # the knowledge language it was matched in; None: the default

    @property
    def advice(self) -> str:
        if self.new_entry or self.closest is None:
            return "candidate for a new entry"
        return f"new symptoms for {self.closest.entry_id}"


@dataclass(frozen=True)
class UnmatchedFigures:
    count: int
    by_reason: Mapping[UnmatchedReason, int]
    grouped: int  # how many of them were grouped (the latest GROUPED_AT_MOST)
    groups: tuple[Group, ...]  # biggest first, the top ones only


Progress = Callable[[str], None]


def group_unmatched(
    unmatched: Sequence[Unmatched],
    *,
    knowledge: KnowledgeBase,
    matcher: AnyMatcher,
    localised: Mapping[str, Localised] | None = None,
    top: int = 10,
    progress: Progress | None = None,
) -> UnmatchedFigures:
    """Count ``unmatched`` (oldest first), group the latest, and describe the ``top`` groups."""
    note = progress or (lambda _: None)
    latest = list(unmatched)[-GROUPED_AT_MOST:]
    by_language: dict[str, list[str]] = defaultdict(list)
    for question in latest:
        code = language_code(question.language) or ""
        by_language[code if code in (localised or {}) else ""].append(question.text)
    reasons_of: dict[str, Counter[UnmatchedReason]] = defaultdict(Counter)
    for question in latest:
        reasons_of[question.text][question.reason] += 1
    groups: list[Group] = []
    for code, texts in sorted(by_language.items()):
        vectors = None
        if not code and isinstance(matcher, SemanticMatcher):
            vectors = _embed(matcher, texts, note)
        note(f"grouping {len(texts):,} unmatched questions")
        for indices in group_texts(texts, vectors=vectors):
            groups.append(_describe([texts[i] for i in indices], reasons_of, code or None, vectors))
    groups.sort(key=lambda g: -g.size)  # stable: within a language, as grouped
    shown = groups[: max(top, 0)]
    note(f"finding the closest entries for {len(shown)} groups")
    return UnmatchedFigures(
        count=len(unmatched),
        by_reason={r: sum(q.reason is r for q in unmatched) for r in UnmatchedReason},
        grouped=len(latest),
        groups=tuple(_closest(group, matcher, knowledge, localised or {}) for group in shown),
    )


def _embed(matcher: SemanticMatcher, texts: Sequence[str], note: Progress) -> Any:
    import numpy as np

    encoder = matcher.embeddings.encoder
    rows = []
    for start in range(0, len(texts), _ENCODE_CHUNK):
        note(f"reading {start:,} of {len(texts):,} unmatched questions for their meaning")
        rows.append(encoder.encode(texts[start : start + _ENCODE_CHUNK]))
    return np.concatenate(rows) if rows else None


def _describe(
    texts: Sequence[str],
    reasons_of: Mapping[str, Counter[UnmatchedReason]],
    language: str | None,
    vectors: Any,
) -> Group:
    counted = Counter(texts)
    first = {text: index for index, text in reversed(list(enumerate(texts)))}
    examples = sorted(counted, key=lambda text: (-counted[text], first[text]))[:EXAMPLES]
    reasons: Counter[UnmatchedReason] = Counter()
    for text in counted:
        reasons.update(reasons_of[text])
    return Group(
        size=len(texts),
        examples=tuple(examples),
        reasons={r: reasons[r] for r in UnmatchedReason},
        closest=None,
        new_entry=True,
        method="meaning" if vectors is not None else "words",
        language=language,
    )


def _closest(
    group: Group,
    matcher: AnyMatcher,
    knowledge: KnowledgeBase,
    localised: Mapping[str, Localised],
) -> Group:
    translated = localised.get(group.language or "")
    if translated is not None:
        knowledge, match, thresholds = (
            translated.knowledge,
            translated.matcher.match,
            translated.thresholds,
        )
    else:
        match, thresholds = matcher.match, matcher.thresholds
    totals: defaultdict[str, float] = defaultdict(float)
    for example in group.examples:
        for candidate in match(example, 3).candidates:
            totals[str(candidate.entry_id)] += candidate.score
    if not totals:
        return group
    entry_id, total = min(totals.items(), key=lambda item: (-item[1], item[0]))
    entry = knowledge.get(entry_id)
    score = round(total / len(group.examples), 1)
    closest = Closest(entry_id, entry.title if entry else entry_id, score)
    return replace(group, closest=closest, new_entry=score < thresholds.suggest)
