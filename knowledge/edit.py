"""Add symptoms to knowledge files without touching anything else in them.

An admin's YAML keeps its comments, key order, quoting, blank lines and layout byte for
byte: the new phrasings are *inserted* as lines (or, in a flow list like ``[a, b]``, as
one more item before the bracket), at the place and indentation the file already uses.
PyYAML's parser says where each node starts and ends; the text around is never
re-emitted. (A round-trip through ruamel.yaml was tried first: it drops a ``---`` line,
trailing spaces and a missing final newline, and re-flows multi-line plain scalars.)

::

    text = add_symptoms(text, [NewSymptom("kettle-cold", "it stays cold")], file="kettles.yaml")
    changes = FileChanges(directory, {"kettles.yaml": text.encode()})
    with changes.staged() as copy:      # the whole directory with the changes, to validate
        ...
    written = changes.write()           # each file atomically (temp file + rename)
    written.restore()                   # every file back as it was

Errors: ``EditError`` (a ``KnowledgeBaseError``) names the file and entry it could not edit.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge.loader import KnowledgeBaseError

__all__ = ["EditError", "FileChanges", "NewSymptom", "Written", "add_symptoms", "write_atomically"]

# YAML's line breaks; str.splitlines() would also split at form feeds and the like.
_LINES = re.compile(r"(?<=\r\n)|(?<=[\n\x85\u2028\u2029])|(?<=\r)(?!\n)")
_BREAKS = "\r\n\x85\u2028\u2029"


@dataclass(frozen=True)
class NewSymptom:
    """A phrasing to add to an entry: to its own ``symptoms`` (``language`` None), or to
    ``translations › language › symptoms``."""

    entry_id: str
    text: str
    language: str | None = None

    @property
    def field(self) -> str:
        """Where it goes, as ``kb validate`` names fields."""
        return f"translations › {self.language} › symptoms" if self.language else "symptoms"


class EditError(KnowledgeBaseError):
    """A knowledge file that cannot be edited safely; the message says which, and why."""


def add_symptoms(text: str, additions: Sequence[NewSymptom], *, file: str) -> str:
    """``text`` (one knowledge file) with each addition's words appended to its list.

    Whitespace in the words is folded to single spaces. Every byte of ``text`` stays; the
    result is checked to read as ``text`` plus the additions. Raises ``EditError``.
    """
    before = _load(text, file)
    for addition in additions:
        text = _Document(text, file).add(addition)
    if _load(text, file) != _expected(before, additions):
        raise EditError(f"{file}: the new symptoms could not be added without changing more")
    return text


def phrase(text: str) -> str:
    """A phrasing as it is written into a file: one line, spaces folded."""
    return " ".join(text.split())


# ---- one file's text, edited in place ------------------------------------------------


class _Document:
    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.lines = [line for line in _LINES.split(text) if line]
        self.newline = "\r\n" if "\r\n" in text else "\n"
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as error:
            raise EditError(f"{file}: not valid YAML ({error})") from error
        if not isinstance(root, yaml.MappingNode):
            raise EditError(f"{file}: must be a mapping with 'product' and 'entries' keys")
        self.root: yaml.MappingNode = root

    def add(self, addition: NewSymptom) -> str:
        entry = self._entry(addition.entry_id)
        words = phrase(addition.text)
        if addition.language is None:
            self._append_item(self._value(entry, "symptoms", addition), words)
        else:
            self._add_translated(entry, addition.language, words, addition)
        return "".join(self.lines)

    def _add_translated(
        self, entry: yaml.MappingNode, language: str, words: str, addition: NewSymptom
    ) -> None:
        translations = self._value(entry, "translations", addition)
        if translations is None:
            self._add_key(entry, "translations", {language: {"symptoms": [words]}})
            return
        translation = self._value(translations, language, addition)
        if translation is None:
            self._add_key(translations, language, {"symptoms": [words]})
            return
        symptoms = self._value(translation, "symptoms", addition)
        if symptoms is None:
            self._add_key(translation, "symptoms", [words], after="title")
        else:
            self._append_item(symptoms, words)

    # ---- finding nodes

    def _entry(self, entry_id: str) -> yaml.MappingNode:
        entries = self._child(self.root, "entries")
        if isinstance(entries, yaml.SequenceNode):
            for node in entries.value:
                if not isinstance(node, yaml.MappingNode):
                    continue
                found = self._child(node, "id")
                if isinstance(found, yaml.ScalarNode) and found.value.strip() == entry_id:
                    return node
        raise EditError(f"{self.file} › {entry_id}: the entry is not in this file")

    @staticmethod
    def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                    assert isinstance(value, yaml.Node)
                    return value
        return None

    def _value(self, node: yaml.Node, key: str, addition: NewSymptom) -> Any:
        """The value under ``key``: a mapping or a list, or None when the key is absent."""
        value = self._child(node, key)
        if value is None or isinstance(value, yaml.MappingNode | yaml.SequenceNode):
            return value
        raise EditError(
            f"{self.file} › {addition.entry_id} › {addition.field}: {key!r} holds no list or"
            " mapping to add to; add the symptom by hand"
        )

    # ---- inserting text

    def _append_item(self, sequence: yaml.SequenceNode, words: str) -> None:
        if sequence.flow_style:
            self._insert_in_flow(sequence, _flow_scalar(words))
            return
        last = sequence.value[-1]
        line = self.lines[last.start_mark.line]
        dash = line.rfind("-", 0, last.start_mark.column)
        if dash < 0 or line[:dash].strip():
            raise EditError(f"{self.file}: line {last.start_mark.line + 1} is not a '- ' item")
        prefix = line[dash : last.start_mark.column]
        self._insert_lines(self._last_line(last), [" " * dash + prefix + _block_scalar(words)])

    def _add_key(
        self, mapping: yaml.MappingNode, key: str, value: Any, *, after: str | None = None
    ) -> None:
        if mapping.flow_style:
            self._insert_in_flow(mapping, f"{key}: {_flow(value)}")
            return
        pairs = mapping.value
        column = pairs[0][0].start_mark.column
        lines = _block(key, value, column, *self._layout())
        keys = [k.value for k, _ in pairs if isinstance(k, yaml.ScalarNode)]
        if after is None or after in keys:
            index = keys.index(after) if after is not None else len(pairs) - 1
            self._insert_lines(self._last_line(pairs[index][1]), lines)
        else:  # the first key, on the line the mapping's first key had
            first = pairs[0][0].start_mark
            if self.lines[first.line][: first.column].strip():
                raise EditError(f"{self.file}: line {first.line + 1} has no room for a new key")
            self._insert_lines(first.line - 1, lines)

    def _insert_in_flow(self, node: yaml.Node, text: str) -> None:
        end = node.end_mark  # just after the closing bracket
        line = self.lines[end.line]
        cut = end.column - 1
        separator = ", " if node.value else ""
        self.lines[end.line] = line[:cut] + separator + text + line[cut:]

    def _insert_lines(self, after: int, lines: Sequence[str]) -> None:
        """Insert ``lines`` after line ``after`` (-1: at the top)."""
        if after >= 0 and not self.lines[after].endswith(tuple(_BREAKS)):
            self.lines[after] += self.newline  # the file's last line had no line break
        self.lines[after + 1 : after + 1] = [line + self.newline for line in lines]

    def _last_line(self, node: yaml.Node) -> int:
        """The last line that holds ``node``'s own text (not the blank lines or comments after)."""
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style:
            last = node.value[-1]
            return self._last_line(last[1] if isinstance(last, tuple) else last)
        end = node.end_mark
        line = end.line if end.column > 0 else end.line - 1
        if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
            while line > node.start_mark.line and not self.lines[line].strip():
                line -= 1
        return line

    def _layout(self) -> tuple[int, int]:
        """How far this file indents a nested mapping, and a list's dashes under its key
        (2 and 2 unless the file shows otherwise)."""
        step = offset = None
        for node in _walk(self.root):
            if not isinstance(node, yaml.MappingNode) or node.flow_style:
                continue
            for key, value in node.value:
                below = value.start_mark.line > key.start_mark.line
                shift = int(value.start_mark.column - key.start_mark.column)
                if below and isinstance(value, yaml.MappingNode) and not value.flow_style:
                    step = shift if step is None else step
                elif below and isinstance(value, yaml.SequenceNode) and not value.flow_style:
                    offset = shift if offset is None else offset
        return (2 if step is None else step), (2 if offset is None else offset)


def _walk(node: yaml.Node) -> Iterator[yaml.Node]:
    yield node
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _walk(key)
            yield from _walk(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item)


def _block(key: str, value: Any, column: int, step: int, offset: int) -> list[str]:
    """``key: value`` as block YAML lines at ``column``."""
    indent = " " * column
    if isinstance(value, dict):
        lines = [f"{indent}{key}:"]
        for child, nested in value.items():
            lines += _block(child, nested, column + step, step, offset)
        return lines
    dash = " " * (column + offset)
    return [f"{indent}{key}:", *(f"{dash}- {_block_scalar(item)}" for item in value)]


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(_flow_scalar(v) for v in value) + "]"


def _block_scalar(words: str) -> str:
    """Plain when YAML reads it back as the same text (not ``no``, ``1.5``, ``a: b``)."""
    return words if _reads_as(f"- {words}", [words]) else json.dumps(words, ensure_ascii=False)


def _flow_scalar(words: str) -> str:
    return words if _reads_as(f"[{words}]", [words]) else json.dumps(words, ensure_ascii=False)


def _reads_as(text: str, value: object) -> bool:
    try:
        return bool(yaml.safe_load(text) == value)
    except yaml.YAMLError:
        return False


def _load(text: str, file: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise EditError(f"{file}: not valid YAML ({error})") from error


def _expected(document: Any, additions: Sequence[NewSymptom]) -> Any:
    """What the file should read as after the additions (checks the text edit)."""
    for addition in additions:
        entry = next(
            e for e in document["entries"] if str(e.get("id")).strip() == addition.entry_id
        )
        target = entry
        if addition.language:
            translations = entry.setdefault("translations", {})
            target = translations.setdefault(addition.language, {})
        target.setdefault("symptoms", []).append(phrase(addition.text))
    return document


# ---- writing files -------------------------------------------------------------------


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: a crash leaves the old file or the new one.

    A link is followed (the file it points to is replaced); the file's mode is kept.
    """
    path = path.resolve()
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


@dataclass(frozen=True)
class Written:
    """Files replaced, with what they held before."""

    originals: Mapping[Path, bytes]

    def restore(self) -> None:
        """Put every file back as it was (atomically, each)."""
        for path, data in self.originals.items():
            write_atomically(path, data)


@dataclass(frozen=True)
class FileChanges:
    """New contents for some knowledge files of ``directory``, by file name."""

    directory: Path
    contents: Mapping[str, bytes]
    # what each file held when the changes were made from it; a file changed since then
    # (someone saving it meanwhile) is not overwritten
    read: Mapping[str, bytes] | None = None

    @contextmanager
    def staged(self) -> Iterator[Path]:
        """A temporary copy of the directory's knowledge files with the changes made."""
        with tempfile.TemporaryDirectory(prefix="supportbot-kb-") as copy:
            for path in sorted(self.directory.iterdir()):
                if path.is_file() and path.suffix.lower() in (".yaml", ".yml"):
                    data = self.contents.get(path.name)
                    (Path(copy) / path.name).write_bytes(
                        path.read_bytes() if data is None else data
                    )
            yield Path(copy)

    def write(self) -> Written:
        """Write each changed file atomically; if one fails, those written are restored."""
        originals: dict[Path, bytes] = {}
        try:
            for name, data in self.contents.items():
                path = self.directory / name
                before = path.read_bytes()
                if self.read is not None and before != self.read.get(name):
                    raise EditError(f"{name} changed while the symptoms were added; run it again")
                write_atomically(path, data)
                originals[path] = before
        except BaseException:
            Written(originals).restore()
            raise
        return Written(originals)
