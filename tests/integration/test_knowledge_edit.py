"""knowledge.edit on real files: the shipped knowledge edited entry by entry, and writes that
are all or nothing."""

from __future__ import annotations

import difflib
import os
import stat
from pathlib import Path

import pytest

from knowledge.edit import EditError, FileChanges, NewSymptom, add_symptoms, write_atomically
from knowledge.loader import default_knowledge_dir, load_knowledge


@pytest.mark.parametrize(
    "path", sorted(default_knowledge_dir().glob("*.yaml")), ids=lambda p: p.name
)
def test_every_shipped_entry_takes_a_symptom_in_each_place_as_inserted_lines_only(
    path: Path, tmp_path: Path
) -> None:
    text = path.read_text(encoding="utf-8")
    ids = [
        entry.id for entry in load_knowledge(default_knowledge_dir()) if entry.source == path.name
    ]
    additions = [
        NewSymptom(entry_id, f"{where} words for {entry_id}", language)
        for entry_id in ids
        for where, language in (("own", None), ("russian", "ru"), ("german", "de"))
    ]
    after = add_symptoms(text, additions, file=path.name)
    old, new = text.splitlines(keepends=True), after.splitlines(keepends=True)
    opcodes = difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes()
    assert {op for op, *_ in opcodes} == {"equal", "insert"}
    assert len(new) - len(old) == len(ids) * (2 + 3)  # own + ru items; de: 3 lines and the item

    (tmp_path / path.name).write_text(after, encoding="utf-8")
    for entry in load_knowledge(tmp_path):
        assert entry.symptoms[-1] == f"own words for {entry.id}"
        ru, de = entry.translation("ru"), entry.translation("de")
        assert ru is not None and ru.symptoms[-1] == f"russian words for {entry.id}"
        assert de is not None and de.symptoms == (f"german words for {entry.id}",)


def test_a_file_is_replaced_whole_keeping_its_mode_and_a_failed_write_leaves_it_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kettles.yaml"
    path.write_bytes(b"old\n")
    path.chmod(0o640)
    write_atomically(path, b"new\n")
    assert path.read_bytes() == b"new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640

    def crash(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, b"half of the new")
    assert path.read_bytes() == b"new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kettles.yaml"]  # no temporary file left


def test_a_linked_file_is_written_where_the_link_points(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "kettles.yaml"
    target.write_bytes(b"old\n")
    link = tmp_path / "kettles.yaml"
    link.symlink_to(target)
    write_atomically(link, b"new\n")
    assert link.is_symlink() and target.read_bytes() == b"new\n"


def test_when_one_file_cannot_be_written_those_written_before_are_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.yaml").write_bytes(b"a\n")
    (tmp_path / "b.yaml").write_bytes(b"b\n")
    changes = FileChanges(tmp_path, {"a.yaml": b"a2\n", "b.yaml": b"b2\n"})
    real = os.replace

    def fail_on_b(source: str, target: str) -> None:
        if Path(target).name == "b.yaml":
            raise OSError("no space")
        real(source, target)

    monkeypatch.setattr(os, "replace", fail_on_b)
    with pytest.raises(OSError):
        changes.write()
    monkeypatch.setattr(os, "replace", real)
    assert (tmp_path / "a.yaml").read_bytes() == b"a\n"
    assert (tmp_path / "b.yaml").read_bytes() == b"b\n"

    written = changes.write()
    assert (tmp_path / "b.yaml").read_bytes() == b"b2\n"
    written.restore()
    assert [(tmp_path / n).read_bytes() for n in ("a.yaml", "b.yaml")] == [b"a\n", b"b\n"]


def test_a_file_saved_by_someone_else_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"edited meanwhile\n")
    changes = FileChanges(tmp_path, {"a.yaml": b"ours\n"}, read={"a.yaml": b"as we read it\n"})
    with pytest.raises(EditError, match=r"a\.yaml changed while"):
        changes.write()
    assert (tmp_path / "a.yaml").read_bytes() == b"edited meanwhile\n"


def test_the_staged_copy_has_every_knowledge_file_with_the_changes(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"a\n")
    (tmp_path / "b.yml").write_bytes(b"b\n")
    (tmp_path / "notes.txt").write_bytes(b"not knowledge\n")
    with FileChanges(tmp_path, {"a.yaml": b"a2\n"}).staged() as copy:
        assert copy != tmp_path
        assert {p.name: p.read_bytes() for p in copy.iterdir()} == {
            "a.yaml": b"a2\n",
            "b.yml": b"b\n",
        }
    assert not copy.exists()
    assert (tmp_path / "a.yaml").read_bytes() == b"a\n"
