"""Every shipped language of the responses, and which one a customer reads.

The default language's file is ``responses.yaml``; each other language ``xx`` is
``responses.xx.yaml`` beside it. ``Catalogue.for_language`` picks a customer's from
Telegram's ``language_code``, falling back to the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from babel import Locale

from knowledge.responses import (
    DEFAULT_LANGUAGE,
    Responses,
    ResponsesError,
    default_responses_path,
)


def language_code(code: str | None) -> str | None:
    """Telegram's ``language_code`` ("pt-br", "en-GB") as a catalogue language ("pt", "en")."""
    if not code:
        return None
    return code.replace("_", "-").split("-")[0].strip().lower() or None


class Catalogue:
    """Every shipped language's ``Responses``; a customer's is picked with a fallback.

    The default language's file is ``responses.yaml`` (top-level ``en:``); each other
    language ``xx`` is ``responses.xx.yaml`` beside it, top-level ``xx:``. Every file is
    checked against ``Say`` when loaded, so a sentence missing in one language stops the
    bot at start-up, not in front of a customer.
    """

    def __init__(self, by_language: Mapping[str, Responses], default: str = DEFAULT_LANGUAGE):
        if default not in by_language:
            shipped = ", ".join(sorted(by_language))
            raise ResponsesError(
                f"DEFAULT_LANGUAGE is {default!r}, but the responses exist in: {shipped}"
            )
        self._by_language = dict(by_language)
        self.default = by_language[default]

    @classmethod
    def load(cls, directory: Path | None = None, *, default: str = DEFAULT_LANGUAGE) -> Catalogue:
        directory = directory or default_responses_path().parent
        by_language = {DEFAULT_LANGUAGE: Responses.load(directory / "responses.yaml")}
        for path in sorted(directory.glob("responses.*.yaml")):
            code = path.name.split(".")[1]
            by_language[code] = Responses.load(path, language=code)
        return cls(by_language, default)

    @property
    def languages(self) -> tuple[str, ...]:
        """The shipped language codes, the default first."""
        others = sorted(code for code in self._by_language if code != self.default.language)
        return (self.default.language, *others)

    def for_language(self, code: str | None) -> Responses:
        """The customer's language when shipped ("pt-br" finds "pt"), else the default."""
        return self._by_language.get(language_code(code) or "", self.default)

    def name(self, code: str) -> str:
        """A language's own name for itself, for a button: "English", "Русский", "Español"."""
        name = Locale.parse(code).get_display_name(code) or code
        return name[:1].upper() + name[1:]
