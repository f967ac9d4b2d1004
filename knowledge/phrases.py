"""What customers say to the conversation itself, by intent: ``knowledge/phrases.yaml``.

Kept as data, per language, so that a shop can add how its customers talk; matched with
``knowledge.matcher.PhraseMatcher`` in every language at once (a Russian "спасибо" is a
thank-you whatever language the customer's catalogue is).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

from knowledge.loader import KnowledgeBaseError
from knowledge.matcher import PhraseMatcher

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
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise KnowledgeBaseError(f"{path}: cannot read the phrases: {exc}") from None
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
        return cls(PhraseMatcher(pairs), tuple(str(lang) for lang in raw))
