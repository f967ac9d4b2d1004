"""One serving process per SQLite file (bot.storage.lock), however the file is named: a
symlink or a relative path to a database another process serves is refused too."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage import lock
from bot.storage.lock import AlreadyRunning, hold_single_process

HOLD = (
    "import sys; from bot.storage.lock import hold_single_process;"
    " hold_single_process(sys.argv[1]); print('held', flush=True); sys.stdin.read()"
)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Path]:
    """Another process serving ``real/bot.db``; yields that file."""
    database = tmp_path / "real" / "bot.db"
    database.parent.mkdir()
    database.touch()
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, f"sqlite:///{database}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "held"
        yield database
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(10)


@pytest.fixture(autouse=True)
def let_go() -> Iterator[None]:
    """Release the locks this test process took (they are meant to last a process)."""
    yield
    while lock._held:
        lock._held.pop().close()


def test_a_symlink_with_another_name_is_the_same_database(holder: Path, tmp_path: Path) -> None:
    link = tmp_path / "support.sqlite"
    link.symlink_to(holder)
    with pytest.raises(AlreadyRunning, match="already serving"):
        hold_single_process(f"sqlite:///{link}")


def test_a_symlinked_folder_is_the_same_database(holder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.symlink_to(holder.parent)
    with pytest.raises(AlreadyRunning):
        hold_single_process(f"sqlite:///{folder / 'bot.db'}")


def test_a_relative_path_is_the_same_database(
    holder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path / "real")
    with pytest.raises(AlreadyRunning):
        hold_single_process("sqlite:///bot.db")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AlreadyRunning):
        hold_single_process(f"sqlite:///{os.path.join('.', 'real', '..', 'real', 'bot.db')}")


def test_another_database_is_not_held(holder: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    held = hold_single_process(f"sqlite:///{other}")
    assert held == other.with_name("other.db.lock")
