"""The knowledge base: known problems, their fixes, and matching customer text against them.

Public names::

    load_knowledge(directory) -> KnowledgeBase      raises KnowledgeError
    validate_knowledge(directory, thresholds) -> list[Problem]
    default_knowledge_dir() -> Path                 the shipped demo knowledge
    Matcher(knowledge, thresholds).match(text, limit) -> MatchResult
    Responses.load(path, language) -> Responses   every sentence, checked against Say
    Say                                             the sentence ids the code uses
    add_symptoms(text, [NewSymptom], file=) -> str  new symptoms as new lines, nothing else

Errors::

    KnowledgeBaseError
    ├── KnowledgeError      .problems: list[Problem]
    ├── ResponsesError      .problems: list[str]
    └── EditError           a file that cannot be edited safely
"""

from knowledge.edit import EditError, NewSymptom, add_symptoms
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
    "EditError",
    "Entry",
    "EntryId",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "KnowledgeError",
    "MatchResult",
    "Matcher",
    "NewSymptom",
    "Problem",
    "ReplacementRule",
    "Responses",
    "ResponsesError",
    "Say",
    "Thresholds",
    "add_symptoms",
    "default_knowledge_dir",
    "load_knowledge",
    "validate_knowledge",
]
