"""The knowledge's own ``tests:``: each phrasing through the matcher its customers meet,
and why one does not find its entry (file › entry › field). ``kb validate``, ``kb test`` and
the bot's start-up and reload checks all use this one rule."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from knowledge.loader import Problem
from knowledge.schema import Band, Entry, KnowledgeBase, MatchResult, Thresholds


class Ranker(Protocol):
    def match(self, text: str, limit: int = 3) -> MatchResult: ...


@dataclass(frozen=True)
class LanguageTests:
    """The ``tests:`` of one language: the knowledge as its customers meet it, and the matcher
    that serves them (``language`` None: the default language, with the bot's own matcher)."""

    language: str | None
    knowledge: KnowledgeBase
    matcher: Ranker

    @property
    def field(self) -> str:
        return f"translations › {self.language} › tests" if self.language else "tests"

    def __len__(self) -> int:
        return sum(len(entry.tests) for entry in self.knowledge)

    def run(self) -> Iterator[TestOutcome]:
        """Each phrasing matched, in file order."""
        for entry in self.knowledge:
            for phrasing in entry.tests:
                yield TestOutcome(self, entry, phrasing, self.matcher.match(phrasing))


@dataclass(frozen=True)
class TestOutcome:
    """One ``tests:`` phrasing and what the matcher made of it."""

    __test__ = False  # not a pytest test class, whatever its name

    tests: LanguageTests
    entry: Entry
    phrasing: str
    result: MatchResult

    @property
    def passed(self) -> bool:
        """The phrasing finds its entry: ranked first, and not in the "unknown" band."""
        best = self.result.best
        return (
            best is not None and best.entry_id == self.entry.id and self.result.band != Band.UNKNOWN
        )

    def problem(self) -> Problem | None:
        """Why the phrasing does not find its entry, as file › entry › field; None when it does."""
        if self.passed:
            return None
        best = self.result.best
        if best is None:
            found = "nothing matched"
        elif best.entry_id == self.entry.id:
            found = f"it matched with score {best.score:g}, below the suggest threshold"
        else:
            found = f"{best.entry_id!r} ranked first with score {best.score:g}"
        message = (
            f"{self.phrasing!r} should match this entry, but {found}; add a symptom phrased like it"
        )
        return Problem(self.entry.source, self.entry.id, self.tests.field, message)


def language_tests(
    knowledge: KnowledgeBase, matcher: Ranker, thresholds: Thresholds
) -> list[LanguageTests]:
    """The default language's tests with ``matcher``, then each translated language's with the
    lexical matcher over the knowledge as that language has it (as the bot matches them)."""
    from knowledge.matcher import Matcher

    found = [LanguageTests(None, knowledge, matcher)]
    for code in knowledge.languages():
        translated = knowledge.in_language(code)
        found.append(LanguageTests(code, translated, Matcher(translated, thresholds)))
    return found


def check_tests(knowledge: KnowledgeBase, matcher: Ranker, thresholds: Thresholds) -> list[Problem]:
    """Every ``tests:`` phrasing that does not find its entry (``language_tests``)."""
    return [
        problem
        for tests in language_tests(knowledge, matcher, thresholds)
        for outcome in tests.run()
        if (problem := outcome.problem()) is not None
    ]
