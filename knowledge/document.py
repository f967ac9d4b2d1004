"""One YAML document, read with libyaml, and every key that a mapping in it gives twice.

PyYAML, like most YAML loaders, keeps the last value of a repeated key and says nothing: a
second ``symptoms:`` pasted into an entry silently drops the first list, a second
``entries:`` whole entries. ``read_document`` composes the node tree, finds each repeated key
in it (at any depth, with its path and lines), and then builds the Python values from that
same tree, so the file is parsed once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import yaml

__all__ = ["Document", "RepeatedKey", "read_document", "repeated_problems", "what_yaml_read"]

# libyaml's C loader when PyYAML was built with it (about 5x faster), else the pure-Python one
_YamlLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"  # '<<: *defaults' may override keys: that is its point
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"


@dataclass(frozen=True)
class RepeatedKey:
    """A key given more than once in one mapping; only its last value would be read."""

    path: tuple[str | int, ...]  # to the mapping: its keys, and list positions from 0
    ids: tuple[str | None, ...]  # beside each list position: that item's ``id``, if it has one
    key: str
    lines: tuple[int, ...]  # where each is given, from 1

    @property
    def message(self) -> str:
        """``given twice (lines 12 and 20); keep one``"""
        count = "twice" if len(self.lines) == 2 else f"{len(self.lines)} times"
        lines = [str(line) for line in sorted(set(self.lines))]  # {a: 1, a: 2} is one line
        where = (
            f"lines {', '.join(lines[:-1])} and {lines[-1]}" if lines[1:] else f"line {lines[0]}"
        )
        return f"given {count} ({where}); keep one"


@dataclass(frozen=True)
class Document:
    data: object  # what yaml.safe_load would return
    repeated: tuple[RepeatedKey, ...]  # in the order of their first lines


def read_document(text: str) -> Document:
    """The document in ``text`` and its repeated keys; raises ``yaml.YAMLError``."""
    loader = _YamlLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(None, ())
        repeated = sorted(_repeated(loader, node), key=lambda found: found.lines)
        return Document(loader.construct_document(node), tuple(repeated))
    finally:
        loader.dispose()


def repeated_problems(source: str, document: Document) -> list[str]:
    """Each repeated key of a document that is not knowledge (the responses and phrases
    catalogues) as ``source › its › path › key: given twice (lines 3 and 9); keep one``."""
    return [
        " › ".join([source, *map(str, found.path), found.key]) + f": {found.message}"
        for found in document.repeated
    ]


def what_yaml_read(value: object) -> str:
    """What a value that should have been text is, as its author would say it."""
    if isinstance(value, bool):  # yes, no, true, false, on, off
        return "yes/no (put it in quotes)"
    if isinstance(value, int | float):
        return "a number (put it in quotes)"
    if isinstance(value, datetime.date):  # 2024-05-01
        return "a date (put it in quotes)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


def _repeated(loader: yaml.SafeLoader, root: yaml.Node) -> Iterator[RepeatedKey]:
    """Every repeated key under ``root``; each node is looked at once, even behind aliases."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[str | int, ...], tuple[str | None, ...]]] = [(root, (), ())]
    while stack:
        node, path, ids = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                if isinstance(item, yaml.CollectionNode):  # a phrasing has no keys
                    stack.append((item, (*path, index), (*ids, _item_id(item))))
        elif isinstance(node, yaml.MappingNode):
            lines: dict[object, list[int]] = {}
            names: dict[object, str] = {}
            for key_node, value_node in node.value:
                below = (value_node, path, ids)  # under a key that is itself a list or mapping
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE:
                    # as the loader reads it: 'yes' and 'true' are one key, 1 and '1' two
                    key: object = key_node.value
                    if key_node.tag != _STR:
                        key = loader.construct_object(key_node)
                    lines.setdefault(key, []).append(key_node.start_mark.line + 1)
                    names.setdefault(key, key_node.value)
                    below = (value_node, (*path, key_node.value), (*ids, None))
                if isinstance(value_node, yaml.CollectionNode):
                    stack.append(below)
            for key, found in lines.items():
                if len(found) > 1:
                    yield RepeatedKey(path, ids, names[key], tuple(found))


def _item_id(node: yaml.Node) -> str | None:
    """The ``id`` of a list item, as the loader names the entry it is."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, yaml.ScalarNode)
                and key_node.value == "id"
                and isinstance(value_node, yaml.ScalarNode)
                and value_node.tag in (_STR, _INT)  # as the loader takes ids
                and value_node.value.strip()
            ):
                return str(value_node.value).strip()
    return None
