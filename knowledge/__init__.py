"""The knowledge base: known problems, their fixes, and matching customer text against them.

Public names::

    load_knowledge(directory) -> KnowledgeBase      raises KnowledgeError
    validate_knowledge(directory, thresholds) -> list[Problem]
    default_knowledge_dir() -> Path                 the shipped demo knowledge
    Matcher(knowledge, thresholds).match(text, limit) -> MatchResult
    Responses.load(path, language) -> Responses   every sentence, checked against Say
    Say                                             the sentence ids the code uses

Errors::

    KnowledgeBaseError
    ├── KnowledgeError      .problems: list[Problem]
    └── ResponsesError      .problems: list[str]
"""

from knowledge.loader import (
    KnowledgeBaseError,
    KnowledgeError,
    Problem,
    default_knowledge_dir,
    load_knowledge,
    validate_knowledge,
)
from knowledge.matcher import Matcher
from knowledge.responses import Responses, ResponsesError, Say
from knowledge.schema import (
    Band,
    Candidate,
    Entry,
    EntryId,
    KnowledgeBase,
    MatchResult,
    ReplacementRule,
    Thresholds,
)

__all__ = [
    "Band",
    "Candidate",
    "Entry",
    "EntryId",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "KnowledgeError",
    "MatchResult",
    "Matcher",
    "Problem",
    "ReplacementRule",
    "Responses",
    "ResponsesError",
    "Say",
    "Thresholds",
    "default_knowledge_dir",
    "load_knowledge",
    "validate_knowledge",
]
