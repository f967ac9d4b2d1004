"""The catalogue of every sentence the bot says, read from ``responses.yaml``.

Placeholders are filled with HTML-escaped values, so customer words and knowledge text
always show literally in Telegram's HTML parse mode. Wrap a value in ``Html`` when it is
already safe markup (for example, lines rendered from the catalogue itself).
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping
from pathlib import Path

import yaml

DEFAULT_LANGUAGE = "en"


class ResponsesError(Exception):
    """The responses file is missing, malformed, or lacks an id the flows use."""


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


class Responses:
    """Sentences by id, in one language."""

    def __init__(self, catalogue: Mapping[str, str], *, language: str = DEFAULT_LANGUAGE):
        self._catalogue = dict(catalogue)
        self.language = language

    @classmethod
    def load(cls, path: Path | None = None, *, language: str = DEFAULT_LANGUAGE) -> Responses:
        path = path or default_responses_path()
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ResponsesError(f"{path.name}: cannot be read: {exc}") from exc
        if not isinstance(raw, dict) or not isinstance(raw.get(language), dict):
            raise ResponsesError(f"{path.name}: needs a top-level '{language}:' mapping of ids")
        catalogue: dict[str, str] = {}
        for key, value in raw[language].items():
            if not isinstance(value, str) or not value.strip():
                raise ResponsesError(f"{path.name} › {language} › {key}: must be non-empty text")
            catalogue[str(key)] = value
        return cls(catalogue, language=language)

    def ids(self) -> frozenset[str]:
        return frozenset(self._catalogue)

    def placeholders(self, key: str) -> frozenset[str]:
        """The ``{names}`` a sentence expects."""
        return frozenset(
            name for _, name, _, _ in string.Formatter().parse(self._template(key)) if name
        )

    def text(self, key: str, **params: object) -> Html:
        """The sentence ``key`` as Telegram HTML, placeholders filled and escaped."""
        safe = {name: escape(value) for name, value in params.items()}
        return Html(self._template(key).format_map(safe))

    def label(self, key: str, **params: object) -> str:
        """A button label: plain text, nothing escaped (Telegram shows labels literally)."""
        return self._template(key).format_map({k: str(v) for k, v in params.items()})

    def _template(self, key: str) -> str:
        try:
            return self._catalogue[key]
        except KeyError:
            raise ResponsesError(f"responses.yaml › {self.language} › {key}: missing") from None
