"""Mistakes a new admin makes in knowledge files they wrote themselves: a key given twice, a
value of the wrong type, several problems at once. The files are made from the bundled
knowledge by changing one thing at a time, in every place it can be made, so the checks hold
for files these tests never saw."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from knowledge import KnowledgeError, Problem, default_knowledge_dir, load_knowledge
from knowledge import document as document_module

BUNDLED = sorted(default_knowledge_dir().glob("*.yaml"))


@dataclass(frozen=True)
class Place:
    """A key of a mapping in a file: its value is ``events[start:end]``, the key just before."""

    path: tuple[str | int, ...]  # keys and list positions down to the key
    entry: str | None  # the id of the entry it is in, if it is in one
    start: int
    end: int

    @property
    def key(self) -> str:
        return str(self.path[-1])

    def field(self) -> str:
        """As the loader names it: the path inside the entry (or the file), ' › ' between."""
        inside = self.path[2:] if self.entry is not None else self.path
        return " › ".join(f"item {s + 1}" if isinstance(s, int) else s for s in inside)


def places(events: list[yaml.Event]) -> list[Place]:
    """Every mapping key in a parsed file, at any depth, in file order."""
    found: list[Place] = []

    def walk(index: int, path: tuple[str | int, ...], entry: str | None) -> int:
        """Record the keys in the value that starts at ``index``; the index after it."""
        event = events[index]
        if isinstance(event, yaml.MappingStartEvent):
            index += 1
            while not isinstance(events[index], yaml.MappingEndEvent):
                key = events[index]
                assert isinstance(key, yaml.ScalarEvent)
                here = (*path, str(key.value))
                found.append(Place(here, entry, index + 1, _value_end(events, index + 1)))
                index = walk(index + 1, here, entry)
            return index + 1
        if isinstance(event, yaml.SequenceStartEvent):
            index += 1
            number = 0
            while not isinstance(events[index], yaml.SequenceEndEvent):
                item = _entry_id(events, index) if path == ("entries",) else entry
                index = walk(index, (*path, number), item)
                number += 1
            return index + 1
        return index + 1

    walk(2, (), None)  # after the stream's and the document's start
    return found


def _value_end(events: list[yaml.Event], start: int) -> int:
    depth = 0
    for index in range(start, len(events)):
        if isinstance(events[index], yaml.CollectionStartEvent):
            depth += 1
        elif isinstance(events[index], yaml.CollectionEndEvent):
            depth -= 1
        if depth == 0:
            return index + 1
    raise AssertionError("unbalanced events")


def _entry_id(events: list[yaml.Event], start: int) -> str | None:
    """The ``id`` of the entry whose mapping starts at ``start``."""
    if not isinstance(events[start], yaml.MappingStartEvent):
        return None
    index = start + 1
    while not isinstance(events[index], yaml.MappingEndEvent):
        value = events[index + 1]
        if getattr(events[index], "value", None) == "id" and isinstance(value, yaml.ScalarEvent):
            return str(value.value)
        index = _value_end(events, index + 1)
    return None


def emit(events: list[yaml.Event]) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(yaml.emit(events, Dumper=dumper, allow_unicode=True, width=1000))


def load_problems(directory: Path) -> list[Problem]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory)
    return caught.value.problems


def one_file(tmp_path: Path, name: str, text: str) -> Path:
    directory = tmp_path / name.removesuffix(".yaml")
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")
    return directory


def parsed(path: Path) -> list[yaml.Event]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return list(yaml.parse(path.read_text(encoding="utf-8"), Loader=loader))


# -- a key given twice --------------------------------------------------------------------


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_key_given_twice_is_named_with_both_lines(tmp_path: Path, path: Path) -> None:
    events = parsed(path)
    depths = set()
    for place in places(events):
        key = events[place.start - 1]
        twice = [*events[: place.end], key, *events[place.start : place.end], *events[place.end :]]
        text = emit(twice)
        directory = one_file(tmp_path, path.name, text)

        (problem,) = load_problems(directory)

        assert (problem.file, problem.entry, problem.field) == (
            path.name,
            place.entry,
            place.field(),
        ), problem
        found = re.fullmatch(
            r"given twice \(lines? (\d+)(?: and (\d+))?\); keep one", problem.message
        )
        assert found is not None, problem
        lines = text.splitlines()
        written = [lines[int(n) - 1] for n in found.groups() if n]  # where the key is written
        given = re.compile(rf"(^|[-{{,]) *{re.escape(place.key)}:")
        assert sum(len(given.findall(line)) for line in written) == 2, (problem, written)
        depths.add(len(place.path))
    # product and entries; an entry's keys; translations › ru; translations › ru › title
    assert depths >= {1, 3, 4, 5}


def test_a_second_entries_key_loses_no_entry_without_a_word(tmp_path: Path) -> None:
    """The trial's case: ``entries:`` again before an entry in the middle of speaker.yaml."""
    text = (default_knowledge_dir() / "speaker.yaml").read_text(encoding="utf-8")
    kb = one_file(
        tmp_path,
        "speaker.yaml",
        text.replace("  - id: speaker-no-sound", "entries:\n  - id: speaker-no-sound"),
    )
    line = text.splitlines().index("  - id: speaker-no-sound") + 1
    assert [str(p) for p in load_problems(kb)] == [
        f"speaker.yaml › entries: given twice (lines 2 and {line}); keep one"
    ]


def kettles(tmp_path: Path, rest: str, *, title: str = "Cold") -> list[str]:
    """The problems of one entry, kettle-cold, whose keys after ``title`` and ``symptoms``
    (from line 6) are ``rest``."""
    head = f"product: Kettles\nentries:\n  - id: kettle-cold\n    title: {title}\n"
    kb = one_file(tmp_path, "kettles.yaml", head + "    symptoms: [cold]\n" + rest)
    return [str(p) for p in load_problems(kb)]


def test_a_key_given_three_times_names_every_line(tmp_path: Path) -> None:
    assert kettles(tmp_path, "    fix: a\n    fix: b\n    fix: c\n") == [
        "kettles.yaml › kettle-cold › fix: given 3 times (lines 6, 7 and 8); keep one"
    ]


@pytest.mark.parametrize("loader", [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)])
def test_repeated_keys_are_found_with_and_without_libyaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loader: type[yaml.SafeLoader]
) -> None:
    monkeypatch.setattr(document_module, "_YamlLoader", loader)
    rest = "    fix: a\n    replacement: {within_days: 3, within_days: 5}\n"
    assert kettles(tmp_path, rest) == [
        "kettles.yaml › kettle-cold › replacement › within_days: given twice (line 7); keep one"
    ]


def test_keys_a_merge_overrides_are_not_repeated(tmp_path: Path) -> None:
    kb = one_file(
        tmp_path,
        "kettles.yaml",
        "product: Kettles\nentries:\n  - &cold\n    id: kettle-cold\n    title: Cold\n"
        "    symptoms: [cold]\n    fix: a\n  - <<: *cold\n    id: kettle-colder\n",
    )
    assert [e.id for e in load_knowledge(kb)] == ["kettle-cold", "kettle-colder"]


# -- a value of the wrong type ------------------------------------------------------------

NOT_A_NUMBER = "must be text, not a number (put it in quotes)"
TEXT = ("title", "fix", "product")
PHRASINGS = ("symptoms", "tests")
WRONG: dict[str, tuple[str, ...]] = {  # YAML that reads as anything but what the key takes
    "text": ("5", "2.5", "true", "no", "2024-05-01", "[a, b]", "{a: b}"),
    "phrasings": ("5", "true", "a phrase", "{a: b}"),
    "id": ("true", "2.5", "2024-05-01", "[a]", "{a: b}"),
    "kind": ("5", "true", "[fix]", "{a: b}", "fixed"),
    "replacement": ("30", "true", "always", "[30]", "{within_days: soon}"),
    "translations": ("5", "ru", "[ru]", "{ru: 5}", "{RU: {title: x}}"),
}


def wrong_values(place: Place) -> tuple[str, ...]:
    if place.key in TEXT:
        return WRONG["text"]
    if place.key in PHRASINGS:
        return WRONG["phrasings"]
    if len(place.path) == 3 and place.key in WRONG:
        return WRONG[place.key]
    return ()  # the list of entries, a language code: their values are other places


def replaced(events: list[yaml.Event], place: Place, value: str) -> list[yaml.Event]:
    inner = list(yaml.parse(f"key: {value}\n"))[4:-3]  # the value's own events
    return [*events[: place.start], *inner, *events[place.end :]]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_a_wrong_type_anywhere_is_one_problem_at_its_field_and_never_missing(
    tmp_path: Path, path: Path
) -> None:
    events = parsed(path)
    seen: set[tuple[str, str]] = set()  # (field, value): each once a file is enough
    for place in places(events):
        for value in wrong_values(place):
            if (place.field(), value) in seen:
                continue
            seen.add((place.field(), value))
            directory = one_file(tmp_path, path.name, emit(replaced(events, place, value)))

            (problem,) = load_problems(directory)

            where = (problem.file, problem.field or "")
            assert where[0] == path.name and where[1].startswith(place.field()), (value, problem)
            if place.key == "id":
                assert problem.entry == f"entry #{int(place.path[1]) + 1}", problem
            else:
                assert problem.entry == place.entry, (value, problem)
            assert "missing" not in problem.message, (value, problem)
    assert {field for field, _ in seen} >= {"product", "id", "title", "symptoms", "fix", "tests"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5", "must be text, not a number (put it in quotes)"),
        ("true", "must be text, not yes/no (put it in quotes)"),
        ("2024-05-01", "must be text, not a date (put it in quotes)"),
        ("[a, b]", "must be text, not a list"),
        ("{a: b}", "must be text, not a mapping"),
    ],
)
def test_a_title_that_is_not_text_says_so(tmp_path: Path, value: str, message: str) -> None:
    assert kettles(tmp_path, "    fix: a\n", title=value) == [
        f"kettles.yaml › kettle-cold › title: {message}"
    ]


# -- every problem in one pass ------------------------------------------------------------


def test_every_problem_is_listed_at_once_duplicate_ids_too(tmp_path: Path) -> None:
    """A wrong title no longer hides the id it reuses, in another file or the same one."""
    kb = tmp_path / "kb"
    kb.mkdir()
    for path in BUNDLED:
        (kb / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    headphones = (kb / "headphones.yaml").read_text(encoding="utf-8")
    broken = headphones.replace(
        "  - id: headphones-wont-charge\n    title: Headphones",
        "  - id: headphones-wont-charge\n    title: 5\n    titel: Headphones",
    )
    reused = "  - id: headphones-wont-charge\n    title: 5\n    symptoms: [x]\n    fix: y\n"
    (kb / "headphones.yaml").write_text(broken + reused, encoding="utf-8")
    power = (kb / "power.yaml").read_text(encoding="utf-8")
    (kb / "power.yaml").write_text(power + reused.replace("title: 5", "title: ok"), "utf-8")

    found = [str(p) for p in load_problems(kb)]

    entry = "headphones.yaml › headphones-wont-charge"
    assert found == [
        f"{entry} › titel: unknown key 'titel'; did you mean 'title'?",
        f"{entry} › title: must be text, not a number (put it in quotes)",
        f"{entry} › title: must be text, not a number (put it in quotes)",
        f"{entry} › id: duplicate id, already used earlier in this file",
        "power.yaml › headphones-wont-charge › id: duplicate id, already used in headphones.yaml",
    ]


def test_every_broken_entry_still_claims_its_id(tmp_path: Path) -> None:
    """Every bundled entry's title made a number and its id used again in a later file: each
    entry's two problems, all in one pass."""
    kb = tmp_path / "kb"
    kb.mkdir()
    expected: set[str] = set()
    reused: list[str] = []
    for path in BUNDLED:
        events = parsed(path)
        titles = [p for p in places(events) if len(p.path) == 3 and p.key == "title"]
        for place in reversed(titles):  # from the end: the places before stay where they are
            events = replaced(events, place, "5")
            expected.add(f"{path.name} › {place.entry} › title: " + NOT_A_NUMBER)
            expected.add(
                f"zz-reused.yaml › {place.entry} › id: duplicate id, already used in {path.name}"
            )
            reused.append(f"  - {{id: {place.entry}, title: t, symptoms: [s], fix: f}}\n")
        (kb / path.name).write_text(emit(events), encoding="utf-8")
    (kb / "zz-reused.yaml").write_text("product: P\nentries:\n" + "".join(reused), "utf-8")

    found = [str(p) for p in load_problems(kb)]

    assert len(found) == len(expected) == 2 * len(reused) and set(found) == expected


# -- not a folder -------------------------------------------------------------------------


def test_a_file_given_for_the_folder_says_so() -> None:
    path = default_knowledge_dir() / "speaker.yaml"
    assert [str(p) for p in load_problems(path)] == [
        f"{path}: is a file, not a folder: give the folder that holds the knowledge files (*.yaml)"
    ]
