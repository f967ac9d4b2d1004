"""`supportbot kb suggestions`: customers' words proposed as new symptoms of the entry that
fixed their problem (picked after "Did you mean ...?", or sent by an agent with /fix).

Without options, a table of the pending ones and how the bot's matcher scores the words
against that entry today. ``--apply IDS|all`` writes them into the knowledge files (only new
lines; the rest of each file stays as it was), after checking in a copy of the directory
that the knowledge still validates with the production matcher; ``--reject IDS`` drops them.

Exit status: 0 done, 1 the knowledge would not validate (nothing written), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.table import Table

from bot.app import describe_matcher, localise, make_matcher
from bot.clock import system_clock
from bot.settings import Settings
from bot.storage import SqlUnitOfWork, make_engine, upgrade
from flows.learning import Suggestion, SuggestionSource, SuggestionStatus
from knowledge.catalogue import language_code
from knowledge.edit import EditError, FileChanges, NewSymptom, Written, add_symptoms, phrase
from knowledge.loader import Problem, load_knowledge, validate_knowledge
from knowledge.matcher import DEFAULT_THRESHOLDS, Matcher
from knowledge.schema import Band, Entry, KnowledgeBase, MatchResult
from knowledge.semantic import SemanticMatcher

Selection = Literal["all"] | frozenset[int]

SOURCES = {
    SuggestionSource.PICKED: "picked after “Did you mean”",
    SuggestionSource.AGENT: "agent's /fix",
}
NEXT_STEPS = (
    "Next: commit {files} to git. A running bot reloads the files by itself within seconds."
)


class _Refused(ValueError):
    """Bad usage: one line for the person at the terminal, exit status 2."""


def suggestions(args: argparse.Namespace, settings: Settings) -> int:
    try:
        apply = _selection(args.apply, "--apply")
        reject = _selection(args.reject, "--reject")
        if args.all and (apply or reject):
            raise _Refused("--all lists every suggestion; give it without --apply or --reject")
        if "all" in (apply, reject) and apply and reject:
            raise _Refused("'all' cannot go with the other option: name the ids")
    except _Refused as exc:
        return _refuse(exc)
    directory: Path = args.knowledge or settings.knowledge_dir
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)  # as `run` does: the command works before the bot's first start
        with SqlUnitOfWork(engine) as uow:
            everything = uow.suggestions.list(None)
        if apply is None and reject is None:
            return _show(everything, directory, settings, every_status=args.all)
        try:
            to_apply, to_reject = _chosen(everything, apply, reject)
        except _Refused as exc:
            return _refuse(exc)
        if not to_apply and not to_reject:
            print("No suggestions are waiting; nothing to do.")
            return 0
        applied: _Applied | None = None
        if to_apply:
            outcome = _apply(to_apply, directory, settings)
            if isinstance(outcome, int):
                return outcome
            applied = outcome
        now = system_clock().now()
        try:
            with SqlUnitOfWork(engine) as uow:
                uow.suggestions.decide(_ids(to_apply), SuggestionStatus.APPLIED, now)
                uow.suggestions.decide(_ids(to_reject), SuggestionStatus.REJECTED, now)
                uow.commit()
        except BaseException:
            if applied is not None:  # the files and the database say the same, or neither
                applied.written.restore()
                print("supportbot: the database was not updated; the files were restored")
            raise
    finally:
        engine.dispose()
    if applied is not None:
        applied.report(directory)
        print(f"Marked applied: {_listed(to_apply)}.")
    if to_reject:
        print(f"Rejected: {_listed(to_reject)}.")
    if applied is not None and applied.added:
        files = ", ".join(sorted({file for file, _ in applied.added}))
        print(NEXT_STEPS.format(files=files))
    return 0


def _selection(text: str | None, option: str) -> Selection | None:
    if text is None:
        return None
    if text.strip().lower() == "all":
        return "all"
    try:
        ids = frozenset(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise _Refused(f"{option} takes suggestion ids like 3,5 (or all), not {text!r}") from None
    if not ids:
        raise _Refused(f"{option} takes suggestion ids like 3,5 (or all)")
    return ids


def _chosen(
    everything: Sequence[Suggestion], apply: Selection | None, reject: Selection | None
) -> tuple[list[Suggestion], list[Suggestion]]:
    """The pending suggestions each option names; ``_Refused`` for an id that is not one."""
    pending = [s for s in everything if s.status is SuggestionStatus.PENDING]
    by_id = {s.id: s for s in everything}
    if isinstance(apply, frozenset) and isinstance(reject, frozenset) and apply & reject:
        both = ", ".join(str(i) for i in sorted(apply & reject))
        raise _Refused(f"suggestion {both} cannot be applied and rejected at once")

    def named(selection: Selection | None) -> list[Suggestion]:
        if selection is None:
            return []
        if selection == "all":
            return pending
        for number in sorted(selection):
            found = by_id.get(number)
            if found is None:
                raise _Refused(f"there is no suggestion {number}; see supportbot kb suggestions")
            if found.status is not SuggestionStatus.PENDING:
                raise _Refused(f"suggestion {number} was {found.status.value} already")
        return [s for s in pending if s.id in selection]

    return named(apply), named(reject)


def _ids(chosen: Sequence[Suggestion]) -> list[int]:
    return [s.id for s in chosen if s.id is not None]


def _listed(chosen: Sequence[Suggestion]) -> str:
    return ", ".join(str(i) for i in _ids(chosen))


def _option(chosen: Sequence[Suggestion]) -> str:
    """Ids as --apply and --reject take them."""
    return ",".join(str(i) for i in _ids(chosen))


def _refuse(exc: _Refused) -> int:
    print(f"supportbot: {exc}", file=sys.stderr)
    return 2


# ---- the table -----------------------------------------------------------------------


def _show(
    items: Sequence[Suggestion], directory: Path, settings: Settings, *, every_status: bool
) -> int:
    shown = [s for s in items if every_status or s.status is SuggestionStatus.PENDING]
    if not shown:
        print(
            f"No suggestions{'' if every_status else ' are waiting'}. They come from customers"
            " who confirm a fix they picked after “Did you mean ...?”, and from tickets an"
            " agent answered with /fix."
        )
        return 0
    knowledge = load_knowledge(directory)
    matcher = make_matcher(knowledge, settings)
    today = _today(shown, knowledge, settings, matcher.match_many)
    heading = f"suggestion{'s' if len(shown) != 1 else ''}" + ("" if every_status else " waiting")
    table = Table(
        title=f"{len(shown)} {heading}, oldest first · scored by {describe_matcher(matcher)}",
        title_justify="left",
    )
    table.add_column("ID", no_wrap=True)
    table.add_column("ENTRY", overflow="fold")
    table.add_column("CUSTOMER'S WORDS (LANGUAGE)")
    table.add_column("FROM, WHEN (UTC)")
    table.add_column("MATCHER TODAY")
    if every_status:
        table.add_column("STATUS", no_wrap=True)
    for suggestion, score in zip(shown, today, strict=True):
        entry = knowledge.get(suggestion.entry_id)
        title = entry.title if entry else "(no longer in the knowledge)"
        language = f" ({suggestion.language})" if suggestion.language else ""
        source = SOURCES.get(suggestion.source, suggestion.source.value)
        ticket = f"T-{suggestion.ticket_id:05d}, " if suggestion.ticket_id is not None else ""
        table.add_row(
            str(suggestion.id),
            f"{suggestion.entry_id}\n{title}",
            suggestion.text + language,
            f"{source}\n{ticket}{suggestion.at:%Y-%m-%d %H:%M}",
            score,
            *([suggestion.status.value] if every_status else []),
        )
    Console().print(table)
    pending = [s for s in shown if s.status is SuggestionStatus.PENDING]
    gone = [s for s in pending if not _known(s, knowledge)]
    if gone:
        print(f"Entries gone from the knowledge: drop those with --reject {_option(gone)}")
    if pending:
        print(
            f"Write them into the knowledge files with --apply {_option(pending[:2])} (or all),"
            f" or drop them with --reject {_option(pending[-1:])}."
        )
    return 0


def _known(suggestion: Suggestion, knowledge: KnowledgeBase) -> bool:
    return knowledge.get(suggestion.entry_id) is not None


def _today(
    items: Sequence[Suggestion],
    knowledge: KnowledgeBase,
    settings: Settings,
    match_many: Callable[[Sequence[str], int], list[MatchResult]],
) -> list[str]:
    """How the bot scores each suggestion's words against its entry now, in the customer's
    language (that language's matcher when the knowledge is translated into it)."""
    localised = localise(knowledge, settings)
    results: dict[int, MatchResult] = {}
    groups: dict[str | None, list[int]] = {}
    for index, suggestion in enumerate(items):
        code = language_code(suggestion.language)
        groups.setdefault(code if code in localised else None, []).append(index)
    limit = max(len(knowledge), 1)  # every entry ranked: where does this one stand?
    for code, indexes in groups.items():
        texts = [items[i].text for i in indexes]
        if code is None:
            found = match_many(texts, limit)
        else:  # translated knowledge is matched lexically, one text at a time
            found = [localised[code].matcher.match(text, limit) for text in texts]
        results.update(zip(indexes, found, strict=True))
    return [_score(items[i], results[i], knowledge) for i in range(len(items))]


def _score(suggestion: Suggestion, result: MatchResult, knowledge: KnowledgeBase) -> str:
    if not _known(suggestion, knowledge):
        return "entry not in the knowledge"
    best = result.best
    for rank, candidate in enumerate(result.candidates, start=1):
        if candidate.entry_id != suggestion.entry_id:
            continue
        if rank == 1 and result.band is Band.ANSWER:
            return f"already matched: answer {candidate.score:g}"
        if rank == 1:
            return f"{result.band.value} {candidate.score:g}"
        assert best is not None
        return f"ranked {rank}, {candidate.score:g}; first {best.entry_id} {best.score:g}"
    if best is None:
        return "unknown: nothing matches"
    return f"not matched; first {best.entry_id} ({result.band.value} {best.score:g})"


# ---- applying ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Applied:
    written: Written
    added: list[tuple[str, NewSymptom]]  # (file, symptom)
    present: list[Suggestion]  # already symptoms: nothing written
    checked_with: str

    def report(self, directory: Path) -> None:
        if self.added:
            print(f"Added {len(self.added)} symptom(s) in {directory}:")
            for file, symptom in self.added:
                print(f"  {file} › {symptom.entry_id} › {symptom.field}: {phrase(symptom.text)!r}")
        for suggestion in self.present:
            print(
                f"  suggestion {suggestion.id}: {suggestion.text!r} is a symptom of"
                f" {suggestion.entry_id} already; nothing written"
            )
        print(f"The knowledge validates (tests checked with {self.checked_with}).")


def _apply(chosen: Sequence[Suggestion], directory: Path, settings: Settings) -> _Applied | int:
    """Write the suggestions into the files, if the knowledge validates with them; an
    ``int`` is the exit status of a refusal (printed, nothing written)."""
    validate, used = _production_validator(settings)
    problems = validate(directory)
    if problems:
        return _problems(problems, "The knowledge has problems already; fix them first")
    knowledge = load_knowledge(directory)
    gone = [s for s in chosen if not _known(s, knowledge)]
    if gone:
        print("Nothing was written: these suggestions name entries no longer in the knowledge.")
        for s in gone:
            print(f"  suggestion {s.id}: {s.entry_id}; reject it with --reject {s.id}")
        return 1
    additions, present = _plan(chosen, knowledge, settings.default_language)
    contents: dict[str, bytes] = {}
    read: dict[str, bytes] = {}
    try:
        for file, symptoms in _by_file(additions).items():
            read[file] = (directory / file).read_bytes()
            text = add_symptoms(read[file].decode("utf-8"), symptoms, file=file)
            contents[file] = text.encode("utf-8")
    except EditError as exc:
        print(f"Nothing was written: {exc}")
        return 1
    changes = FileChanges(directory, contents, read)
    if contents:
        with changes.staged() as copy:
            problems = validate(copy)
        if problems:
            return _problems(problems, "With these symptoms the knowledge would not validate")
    try:
        written = changes.write()
    except EditError as exc:  # a file saved by someone else meanwhile
        print(f"Nothing was written: {exc}")
        return 1
    return _Applied(written, additions, present, used[0])


def _production_validator(
    settings: Settings,
) -> tuple[Callable[[Path], list[Problem]], list[str]]:
    """``kb validate`` with the matcher the bot uses; the second build reuses the first's
    model and embeddings. The list receives the matcher's description."""
    built: list[Matcher | SemanticMatcher] = []
    used: list[str] = []

    def production(knowledge: KnowledgeBase) -> Matcher | SemanticMatcher:
        matcher = make_matcher(knowledge, settings, previous=built[-1] if built else None)
        built.append(matcher)
        used.append(describe_matcher(matcher))
        return matcher

    def validate(directory: Path) -> list[Problem]:
        thresholds = settings.thresholds(DEFAULT_THRESHOLDS)
        return validate_knowledge(directory, thresholds, matcher_for=production)

    return validate, used


def _problems(problems: Sequence[Problem], heading: str) -> int:
    print(f"{heading}; nothing was written and the suggestions stay pending.")
    print(f"{len(problems)} problem(s):")
    for problem in problems:
        print(f"  {problem}")
    return 1


def _plan(
    chosen: Sequence[Suggestion], knowledge: KnowledgeBase, default_language: str
) -> tuple[list[tuple[str, NewSymptom]], list[Suggestion]]:
    """What to write where, and the suggestions whose words the entry has already."""
    additions: list[tuple[str, NewSymptom]] = []
    present: list[Suggestion] = []
    seen: set[tuple[str, str | None, str]] = set()
    for suggestion in chosen:
        entry = knowledge.get(suggestion.entry_id)
        assert entry is not None
        code = language_code(suggestion.language)
        language = None if code in (None, default_language) else code
        key = (entry.id, language, _folded(suggestion.text))
        if key[2] in {_folded(s) for s in _symptoms(entry, language)} or key in seen:
            present.append(suggestion)
            continue
        seen.add(key)
        additions.append((entry.source, NewSymptom(entry.id, suggestion.text, language)))
    return additions, present


def _symptoms(entry: Entry, language: str | None) -> tuple[str, ...]:
    """The phrasings a customer writing ``language`` is matched against for ``entry``."""
    return entry.in_language(language).symptoms if language else entry.symptoms


def _by_file(additions: Sequence[tuple[str, NewSymptom]]) -> dict[str, list[NewSymptom]]:
    found: dict[str, list[NewSymptom]] = {}
    for file, symptom in additions:
        found.setdefault(file, []).append(symptom)
    return found


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())
