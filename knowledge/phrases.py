"""What customers say to the conversation itself, by intent: ``knowledge/phrases.yaml``.

Kept as data, per language, so that a shop can add how its customers talk; matched with
``PhraseMatcher`` in every language at once (a Russian "спасибо" is a
thank-you whatever language the customer's catalogue is).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from knowledge.document import read_document, repeated_problems
from knowledge.loader import KnowledgeBaseError
from knowledge.text import MAX_QUERY_CHARS, normalise

PHRASES_FILE = Path(__file__).with_name("phrases.yaml")


class Intent(StrEnum):
    PERSON = "person"  # "I want to talk to a real person"
    THANKS = "thanks"
    BYE = "bye"
    YES = "yes"
    NO = "no"
    NONE = "none"  # "none of these"
    RESTART = "restart"  # "start over"
    NO_ORDER = "no_order"  # asked for the order number: "I don't have it"
    HELP = "help"  # "help" typed: the same as /help


class PhraseMatcher:
    """Short conversational phrases ("thanks", "talk to a person"), each with a label.

    A message is matched whole (``fuzz.ratio`` after ``normalise``), so "thanks, my
    headphones won't pair" is not taken for a thank-you; a phrase of three words or more
    is also found inside a message at most a few words longer ("i want to speak to a real
    person not a bot"). A short message may also say one intent in several phrases ("no,
    it didn't work"). Emoji-only phrases ("👍") are compared as they are.
    """

    CUTOFF = 86.0
    EXTRA_WORDS = 4  # a long phrase may sit in a message this many words longer
    MAX_PARTS_WORDS = 8  # a longer message is never read as a run of phrases

    def __init__(self, phrases: Sequence[tuple[str, str]], *, courtesy: Collection[str] = ()):
        """``courtesy``: labels that may go along with another's phrases in one message
        ("yes, thank you" says yes)."""
        self._labels = [label for label, _ in phrases]
        self._texts = [normalise(text) for _, text in phrases]
        self._raw = {text.strip(): label for label, text in phrases if not normalise(text)}
        self._courtesy = frozenset(courtesy)

    def match(self, text: str) -> str | None:
        """The label of the phrase the message says, or None."""
        query = normalise(text[:MAX_QUERY_CHARS])
        if not query:
            return self._raw.get(text.strip())
        words = query.split()
        whole = self._whole(query)
        if whole is not None:
            return whole
        padded = f" {query} "
        for label, phrase in zip(self._labels, self._texts, strict=True):
            size = len(phrase.split())
            if size >= 3 and len(words) <= size + self.EXTRA_WORDS and f" {phrase} " in padded:
                return label
        return self._parts(words)

    def _whole(self, query: str) -> str | None:
        best = process.extractOne(
            query, self._texts, scorer=fuzz.ratio, processor=None, score_cutoff=self.CUTOFF
        )
        return self._labels[best[2]] if best is not None else None

    def _parts(self, words: list[str]) -> str | None:
        """The label of a message said in several phrases of one intent, each matched whole:
        "no, it didn't work", "да, помогло", "sí, funcionó" (a courtesy may go along). Every
        word must belong to a phrase, so "no sound from my speaker" is not a "no"; a message
        the phrases read two ways is not read at all."""
        if not 2 <= len(words) <= self.MAX_PARTS_WORDS:
            return None
        # ending[j]: what words[:j] can say, read as phrases ("" : nothing yet)
        ending: list[set[str]] = [{""}] + [set() for _ in words]
        for j in range(1, len(words) + 1):
            for i in range(j):
                if not ending[i] or (i, j) == (0, len(words)):  # whole: tried already
                    continue
                part = self._whole(" ".join(words[i:j]))
                if part is not None:
                    ending[j] |= {m for s in ending[i] if (m := self._with(s, part)) is not None}
        said = ending[-1]
        return next(iter(said)) if len(said) == 1 else None

    def _with(self, so_far: str, part: str) -> str | None:
        """What a message says with ``part`` after ``so_far``; None when they disagree."""
        if not so_far or so_far == part or so_far in self._courtesy:
            return part
        return so_far if part in self._courtesy else None


@dataclass(frozen=True)
class PhraseBook:
    matcher: PhraseMatcher
    languages: tuple[str, ...]

    def intent(self, text: str) -> Intent | None:
        label = self.matcher.match(text)
        return Intent(label) if label is not None else None

    @classmethod
    def load(cls, path: Path = PHRASES_FILE) -> PhraseBook:
        """Read and check the phrases: every language has every intent, and nothing else."""
        try:
            document = read_document(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise KnowledgeBaseError(f"{path}: cannot read the phrases: {exc}") from None
        if document.repeated:  # YAML keeps the last silently: phrases would be lost
            raise KnowledgeBaseError("; ".join(repeated_problems(path.name, document)))
        raw = document.data
        if not isinstance(raw, dict) or not raw:
            raise KnowledgeBaseError(f"{path}: needs one mapping of intents per language")
        problems: list[str] = []
        pairs: list[tuple[str, str]] = []
        known = {i.value for i in Intent}
        for language, intents in raw.items():
            where = f"{path.name} › {language}"
            if not isinstance(intents, dict):
                problems.append(f"{where}: needs a mapping of intents to phrases")
                continue
            for name in sorted(known - set(intents)):
                problems.append(f"{where} › {name}: missing")
            for name, phrases in intents.items():
                if name not in known:
                    problems.append(f"{where} › {name}: unknown intent; known: {', '.join(known)}")
                elif not isinstance(phrases, list) or not phrases:
                    problems.append(f"{where} › {name}: needs a list of phrases")
                else:
                    for phrase in phrases:
                        if not isinstance(phrase, str) or not phrase.strip():
                            problems.append(f"{where} › {name}: {phrase!r} is not a phrase")
                        else:
                            pairs.append((name, phrase))
        if problems:
            raise KnowledgeBaseError("; ".join(problems))
        matcher = PhraseMatcher(pairs, courtesy=(Intent.THANKS.value,))
        return cls(matcher, tuple(str(lang) for lang in raw))
