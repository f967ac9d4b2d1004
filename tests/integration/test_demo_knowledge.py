"""The bundled demo knowledge, as the default install matches it: its ``tests:`` are the way
customers write (30 of them annoyed and typo-prone), and most must be answered directly."""

from __future__ import annotations

from collections import Counter

import pytest

from knowledge.loader import default_knowledge_dir, load_knowledge
from knowledge.matcher import Matcher
from knowledge.schema import Band, KnowledgeBase

DEMO = load_knowledge(default_knowledge_dir())


def outcomes(knowledge: KnowledgeBase) -> Counter[str]:
    matcher = Matcher(knowledge)
    seen: Counter[str] = Counter()
    for entry in knowledge:
        for phrasing in entry.tests:
            result = matcher.match(phrasing)
            right = result.best is not None and result.best.entry_id == entry.id
            if result.band is Band.ANSWER:
                seen["answered right" if right else "answered wrong"] += 1
            else:
                seen[result.band.value] += 1
    return seen


@pytest.mark.parametrize(("language", "share"), [(None, 0.8), ("ru", 0.7), ("es", 0.7)])
def test_the_demos_own_phrasings_are_mostly_answered_directly(
    language: str | None, share: float
) -> None:
    knowledge = DEMO.in_language(language) if language else DEMO
    seen = outcomes(knowledge)
    total = sum(seen.values())
    assert total >= (100 if language is None else 70)
    assert seen["answered wrong"] == 0 and seen["unknown"] == 0, seen
    assert seen["answered right"] >= share * total, seen
