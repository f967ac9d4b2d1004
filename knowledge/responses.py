"""The catalogue of every sentence the bot says, read from ``responses.yaml``.

``Say`` names every sentence the code can ask for, with the ``{placeholders}`` its text
takes. A catalogue (one language of ``responses.yaml``) must have exactly those ids and
exactly those placeholders: ``Responses`` checks it when it is built, so a missing,
misspelt or unused id, or a lost ``{ref}``, stops the bot at start-up with the file, the
language and the id named, never in front of a customer. Every language is checked
against the same ``Say``.

Placeholders are filled with HTML-escaped values, so customer words and knowledge text
always show literally in Telegram's HTML parse mode. Wrap a value in ``Html`` when it is
already safe markup (for example, lines rendered from the catalogue itself).
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

import yaml
from babel.dates import format_date, format_skeleton, format_timedelta

from knowledge.document import read_document, repeated_problems
from knowledge.loader import KnowledgeBaseError
from knowledge.say import Say as Say  # most callers import it from here

DEFAULT_LANGUAGE = "en"


class ResponsesError(KnowledgeBaseError):
    """The responses file is missing or malformed, or does not match ``Say``.

    ``problems`` lists each one as ``file › language › id: what is wrong``.
    """

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


class Html(str):
    """A string that is already safe Telegram HTML; not escaped again."""

    __slots__ = ()


def escape(value: object) -> Html:
    """Escape a value for Telegram's HTML parse mode (``&``, ``<``, ``>``)."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=False))


def default_responses_path() -> Path:
    return Path(__file__).parent / "responses.yaml"


def placeholders_in(template: str) -> frozenset[str]:
    """The ``{names}`` a sentence uses; ``ValueError`` for broken braces or ``{}``."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier():
            raise ValueError(f"{{{name}}} is not a placeholder name")
        names.add(name)
    return frozenset(names)


def check_catalogue(catalogue: Mapping[str, object], *, where: str) -> list[str]:
    """What is wrong with one language's ``{id: text}`` against ``Say``; empty when fine.

    ``where`` prefixes each problem, e.g. ``"responses.yaml › en"``.
    """
    problems: list[str] = []
    known = {member.value for member in Say}
    for key, value in catalogue.items():
        if str(key) not in known:
            problems.append(f"{where} › {key}: unknown id (no knowledge.responses.Say member)")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"{where} › {key}: must be non-empty text")
    for member in Say:
        value = catalogue.get(member.value)
        if member.value not in catalogue:
            problems.append(f"{where} › {member.value}: missing (the code says Say.{member.name})")
            continue
        if not isinstance(value, str) or not value.strip():
            continue  # reported above
        try:
            found = placeholders_in(value)
        except ValueError as exc:
            problems.append(f"{where} › {member.value}: {exc}")
            continue
        if found != member.placeholders:
            problems.append(
                f"{where} › {member.value}: placeholders {_names(found)}, but the code passes "
                f"{_names(member.placeholders)}"
            )
    return problems


def _names(names: frozenset[str]) -> str:
    return "{" + ", ".join(sorted(names)) + "}" if names else "none"


class Responses:
    """Sentences by id, in one language; built only from a catalogue that matches ``Say``."""

    def __init__(
        self,
        catalogue: Mapping[str, object],
        *,
        language: str = DEFAULT_LANGUAGE,
        source: str = "responses.yaml",
    ):
        where = f"{source} › {language}"
        problems = check_catalogue(catalogue, where=where)
        if problems:
            listed = "\n".join(f"  {problem}" for problem in problems)
            raise ResponsesError(
                f"{where} does not match knowledge.responses.Say "
                f"({len(problems)} problem(s)):\n{listed}",
                problems,
            )
        self._catalogue = {member: str(catalogue[member.value]) for member in Say}
        self.language = language

    @classmethod
    def load(cls, path: Path | None = None, *, language: str = DEFAULT_LANGUAGE) -> Responses:
        """One language of a responses file, checked against ``Say``."""
        path = path or default_responses_path()
        try:
            document = read_document(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ResponsesError(f"{path}: cannot be read: {exc}") from exc
        if document.repeated:  # YAML keeps the last silently: a sentence would be lost
            raise ResponsesError("; ".join(repeated_problems(str(path), document)))
        raw = document.data
        if not isinstance(raw, dict) or not isinstance(raw.get(language), dict):
            raise ResponsesError(f"{path}: needs a top-level '{language}:' mapping of ids")
        return cls(raw[language], language=language, source=str(path))

    def text(self, key: Say, **params: object) -> Html:
        """The sentence ``key`` as Telegram HTML, placeholders filled and escaped."""
        self._check(key, params)
        safe = {name: escape(value) for name, value in params.items()}
        return Html(self._catalogue[key].format_map(safe))

    def days(self, count: int) -> str:
        """A number of days, said as days with the language's plural: "1 day", "10 days"."""
        return format_timedelta(
            timedelta(days=count), granularity="day", threshold=10**6, locale=self.language
        )

    def duration(self, value: timedelta) -> str:
        """A span as a customer reads it in this language: "3 hours", "about a day"."""
        return format_timedelta(value, threshold=1.1, locale=self.language)

    def elapsed(self, span: timedelta) -> str:
        """A wait as the team reads it in a queue, short and exact: "45 min", "2 h 5 min",
        "3 days" (each unit in this language, by Babel)."""
        minutes = max(int(span.total_seconds() // 60), 0)

        def unit(count: int, granularity: Literal["minute", "hour"]) -> str:
            seconds = {"minute": 60, "hour": 3600}[granularity] * count
            return format_timedelta(
                timedelta(seconds=seconds),
                granularity=granularity,
                threshold=10**6,
                format="short",
                locale=self.language,
            )

        if minutes < 60:
            return unit(minutes, "minute")
        hours, minutes = divmod(minutes, 60)
        if hours < 48:
            return f"{unit(hours, 'hour')} {unit(minutes, 'minute')}"
        return self.days(hours // 24)

    def weekday(self, moment: datetime) -> str:
        """The day of the week ``moment`` falls on, in its own time zone: "Monday"."""
        return format_date(moment, "EEEE", locale=self.language)

    def clock_time(self, moment: datetime) -> str:
        """``moment``'s time of day on this language's 24-hour clock, in its own time zone:
        "09:00" (the way ``SUPPORT_HOURS`` is written, so it reads the same)."""
        return format_skeleton("Hm", moment, tzinfo=moment.tzinfo, locale=self.language)

    def day(self, value: date) -> str:
        """A day as a customer reads it in this language: "November 5, 2026"."""
        return format_date(value, format="long", locale=self.language)

    def label(self, key: Say, **params: object) -> str:
        """A button label: plain text, nothing escaped (Telegram shows labels literally)."""
        self._check(key, params)
        return self._catalogue[key].format_map({k: str(v) for k, v in params.items()})

    def _check(self, key: Say, params: Mapping[str, object]) -> None:
        if params.keys() != key.placeholders:
            raise ResponsesError(
                f"Say.{key.name} takes {_names(key.placeholders)}, "
                f"but was given {_names(frozenset(params))}"
            )
