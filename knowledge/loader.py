"""Read knowledge files (YAML, one per product area) into a ``KnowledgeBase``.

Every problem is collected, across all files, and named file › entry › field, so an admin can
fix them all in one go. Exceptions::

    KnowledgeBaseError          base of this package's errors
    └── KnowledgeError          the files do not load; ``problems`` lists why
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from knowledge.checks import Ranker

from knowledge.document import RepeatedKey, read_document, what_yaml_read
from knowledge.schema import (
    Entry,
    EntryId,
    EntryKind,
    KnowledgeBase,
    ReplacementRule,
    Thresholds,
    Translation,
)

__all__ = [
    "KnowledgeBaseError",
    "KnowledgeError",
    "Problem",
    "default_knowledge_dir",
    "load_knowledge",
    "validate_knowledge",
]

MAX_ID_LENGTH = 200  # ids appear in agents' cards and in logs, never in buttons
_ID_PATTERN = re.compile(r"^[^\s\x00-\x1f]+$")  # one word: letters, digits, - _ . : / ...
_ENTRY_KEYS = ("id", "title", "symptoms", "fix", "kind", "replacement", "tests", "translations")
_TRANSLATION_KEYS = ("title", "fix", "symptoms", "tests")
_LANGUAGE_CODE = re.compile(
    r"^[a-z]{2,3}$"
)  # "ru", "es", "pt": what Telegram's language_code starts with
_FILE_KEYS = ("product", "entries")

_Report = Callable[[str, str], None]  # (field, message) → records a problem


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the knowledge files, located as file › entry › field."""

    file: str
    entry: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = " › ".join(p for p in (self.file, self.entry, self.field) if p)
        return f"{where}: {self.message}" if where else self.message


class KnowledgeBaseError(Exception):
    """Base of the errors raised by the ``knowledge`` package."""


class KnowledgeError(KnowledgeBaseError):
    """The knowledge files do not load; ``problems`` says where and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        count = len(self.problems)
        heading = f"The knowledge files have {count} problem{'s' if count != 1 else ''}:"
        super().__init__("\n".join([heading, *(f"  {p}" for p in self.problems)]))


def default_knowledge_dir() -> Path:
    """The demo knowledge shipped with the package."""
    return Path(__file__).parent / "entries"


def load_knowledge(directory: Path) -> KnowledgeBase:
    """Load every ``*.yaml`` / ``*.yml`` file in ``directory``; raise ``KnowledgeError``."""
    knowledge, problems = _load(directory)
    if problems or knowledge is None:
        raise KnowledgeError(problems)
    return knowledge


def validate_knowledge(
    directory: Path,
    thresholds: Thresholds | None = None,
    *,
    matcher_for: Callable[[KnowledgeBase], Ranker] | None = None,
) -> list[Problem]:
    """All load problems; if it loads, also every ``tests:`` phrasing that misses its entry.

    ``matcher_for`` builds the matcher the bot will use (the semantic one, say); without it,
    the lexical ``Matcher`` with ``thresholds``. Translations are checked lexically, as the
    bot matches them.
    """
    knowledge, problems = _load(directory)
    if problems or knowledge is None:
        return problems
    # the matcher and the checks are only needed once the files load
    from knowledge.checks import check_tests
    from knowledge.matcher import Matcher

    thresholds = thresholds or Thresholds()
    matcher = matcher_for(knowledge) if matcher_for else Matcher(knowledge, thresholds)
    return check_tests(knowledge, matcher, thresholds)


def _load(directory: Path) -> tuple[KnowledgeBase | None, list[Problem]]:
    name = str(directory)
    if directory.is_file():
        return None, [
            Problem(
                name,
                None,
                None,
                "is a file, not a folder: give the folder that holds the knowledge files (*.yaml)",
            )
        ]
    if not directory.is_dir():
        return None, [Problem(name, None, None, "no such directory")]
    files = sorted(
        p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in (".yaml", ".yml")
    )
    if not files:
        return None, [Problem(name, None, None, "no knowledge files (*.yaml) in this directory")]
    problems: list[Problem] = []
    entries: list[Entry] = []
    seen: dict[str, str] = {}  # id → file that defined it first
    for path in files:
        # an entry with problems of its own still claims its id: a reused one is said at once
        for entry_id, entry in _read_file(path, problems):
            if entry_id in seen:
                first = seen[entry_id]
                where = "earlier in this file" if first == path.name else f"in {first}"
                problems.append(
                    Problem(path.name, entry_id, "id", f"duplicate id, already used {where}")
                )
                continue
            if entry_id:
                seen[entry_id] = path.name
            if entry is not None:
                entries.append(entry)
    if problems:
        return None, problems
    return KnowledgeBase(tuple(entries)), []


def _read_file(path: Path, problems: list[Problem]) -> list[tuple[str, Entry | None]]:
    """Each entry's id ("" when it has none) and the entry, None when it has problems."""
    file = path.name
    try:
        document = read_document(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        reason = getattr(error, "problem", None) or "not valid YAML"
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problems.append(Problem(file, None, None, f"{line}{reason} (not valid YAML)"))
        return []
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(file, None, None, f"cannot read the file ({error})"))
        return []
    problems.extend(_repeated_key(file, repeated) for repeated in document.repeated)
    data = document.data
    if not isinstance(data, Mapping):
        problems.append(
            Problem(file, None, None, "must be a mapping with 'product' and 'entries' keys")
        )
        return []
    for key in data:
        if key not in _FILE_KEYS:
            problems.append(Problem(file, None, str(key), _unknown_key(str(key), _FILE_KEYS)))
    product = data.get("product")
    if isinstance(product, str) and product.strip():
        product = product.strip()
    else:
        problems.append(
            Problem(file, None, "product", _not_text(product, "must name the product or area"))
        )
        product = ""
    raw_entries = data.get("entries")
    if raw_entries is None:
        problems.append(Problem(file, None, "entries", "missing; list the entries here"))
        return []
    if not isinstance(raw_entries, list):
        problems.append(Problem(file, None, "entries", "must be a list of entries"))
        return []
    return [
        _read_entry(file, number, raw, product, problems)
        for number, raw in enumerate(raw_entries, start=1)
    ]


def _repeated_key(file: str, repeated: RepeatedKey) -> Problem:
    """``symptoms: given twice (lines 12 and 20); keep one``, at file › entry › field."""
    path, ids = repeated.path, repeated.ids
    entry = None
    if len(path) >= 2 and path[0] == "entries" and isinstance(path[1], int):
        entry = ids[1] or f"entry #{path[1] + 1}"
        path = path[2:]
    field = " › ".join(
        [*(f"item {step + 1}" if isinstance(step, int) else step for step in path), repeated.key]
    )
    return Problem(file, entry, field, repeated.message)


def _read_entry(
    file: str, number: int, raw: object, product: str, problems: list[Problem]
) -> tuple[str, Entry | None]:
    """The entry's id ("" when it has none) and the entry, None when it has problems."""
    label = f"entry #{number}"
    if not isinstance(raw, Mapping):
        problems.append(Problem(file, label, None, "must be a mapping (id, title, symptoms, fix)"))
        return "", None
    before = len(problems)

    raw_id = raw.get("id")
    entry_id = ""
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        problems.append(Problem(file, label, "id", "missing; give the entry a stable id"))
    elif not isinstance(raw_id, str | int) or isinstance(raw_id, bool):
        problems.append(Problem(file, label, "id", _not_text(raw_id, "")))
    else:
        entry_id = str(raw_id).strip()
        label = entry_id
        if len(entry_id) > MAX_ID_LENGTH:
            problems.append(
                Problem(file, label, "id", f"too long: at most {MAX_ID_LENGTH} characters")
            )
        if not _ID_PATTERN.match(entry_id):
            problems.append(
                Problem(
                    file,
                    label,
                    "id",
                    "must be one word without spaces, like 'headphones-bluetooth-pairing'",
                )
            )

    def problem(field: str, message: str) -> None:
        problems.append(Problem(file, label, field, message))

    for key in raw:
        if key not in _ENTRY_KEYS:
            problem(str(key), _unknown_key(str(key), _ENTRY_KEYS))

    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        problem("title", _not_text(title, "missing; give a short title customers will recognise"))
        title = ""

    symptoms = _phrasings(raw.get("symptoms"), "symptoms", required=True, report=problem)
    tests = _phrasings(raw.get("tests"), "tests", required=False, report=problem)

    fix = raw.get("fix")
    if not isinstance(fix, str) or not fix.strip():
        problem("fix", _not_text(fix, "missing or blank; write the steps that fix the problem"))
        fix = ""

    replacement: ReplacementRule | None = None
    if "replacement" in raw and raw["replacement"] is not None:
        rule = raw["replacement"]
        if not isinstance(rule, Mapping):
            problem("replacement", "must be a mapping like {within_days: 30}")
        else:
            days = rule.get("within_days")
            if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
                problem("replacement", "within_days must be a whole number of days above 0")
            else:
                replacement = ReplacementRule(within_days=days)
            for key in rule:
                if key != "within_days":
                    problem("replacement", _unknown_key(str(key), ("within_days",)))

    kind = EntryKind.FIX
    if raw.get("kind") is not None:
        kinds = tuple(k.value for k in EntryKind)
        if not isinstance(raw["kind"], str):
            problem("kind", f"must be one of {', '.join(kinds)}")
        elif raw["kind"] not in kinds:
            problem("kind", f"{raw['kind']!r} is not one of {', '.join(kinds)}")
        else:
            kind = EntryKind(raw["kind"])
    if kind is EntryKind.REPLACEMENT and "replacement" not in raw:
        problem("kind", "kind: replacement needs a rule, like replacement: {within_days: 30}")

    translations = _translations(raw.get("translations"), problem)

    if len(problems) > before:
        return entry_id, None
    return entry_id, Entry(
        id=EntryId(entry_id),
        title=str(title).strip(),
        product=product,
        symptoms=symptoms,
        fix=str(fix).strip() + "\n",
        replacement=replacement,
        tests=tests,
        source=file,
        kind=kind,
        translations=translations,
    )


def _translations(value: object, report: _Report) -> tuple[Translation, ...]:
    """``translations: {ru: {title, fix, symptoms, tests}}``: each field optional, none unknown."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        report("translations", "must map a language code to its text, like ru: {title: ...}")
        return ()
    found: list[Translation] = []
    for code, raw in value.items():
        where = f"translations › {code}"
        if not isinstance(code, str) or not _LANGUAGE_CODE.match(code):
            report(where, "must be a lower-case language code, like ru, es or pt")
            continue
        if not isinstance(raw, Mapping) or not raw:
            report(where, "must be a mapping with title, fix, symptoms or tests")
            continue
        for key in raw:
            if key not in _TRANSLATION_KEYS:
                report(where, _unknown_key(str(key), _TRANSLATION_KEYS))
        texts: dict[str, str] = {}
        for key in ("title", "fix"):
            text = raw.get(key)
            if text is not None and (not isinstance(text, str) or not text.strip()):
                blank = "must be text (or left out to use the default)"
                report(f"{where} › {key}", _not_text(text, blank))
            elif text is not None:
                texts[key] = text.strip() + ("\n" if key == "fix" else "")

        def nested(field: str, message: str, _where: str = where) -> None:
            report(f"{_where} › {field}", message)

        found.append(
            Translation(
                language=code,
                title=texts.get("title", ""),
                fix=texts.get("fix", ""),
                symptoms=_phrasings(raw.get("symptoms"), "symptoms", required=False, report=nested),
                tests=_phrasings(raw.get("tests"), "tests", required=False, report=nested),
            )
        )
    return tuple(found)


def _phrasings(value: object, field: str, *, required: bool, report: _Report) -> tuple[str, ...]:
    if value is None:
        if required:
            report(field, "must have at least one phrasing")
        return ()
    if not isinstance(value, list):
        report(field, "must be a list of phrasings, one per line starting with '- '")
        return ()
    if required and not value:
        report(field, "must have at least one phrasing")
        return ()
    result: list[str] = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, str):
            report(field, f"item {number} must be text (put it in quotes)")
        elif not item.strip():
            report(field, f"item {number} is blank")
        else:
            result.append(item.strip())
    return tuple(result)


def _not_text(value: object, missing: str) -> str:
    """``missing`` when ``value`` is absent or blank; else what YAML read instead of text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return missing
    return f"must be text, not {what_yaml_read(value)}"


def _unknown_key(key: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(known)}"
    return f"unknown key '{key}'{hint}"
