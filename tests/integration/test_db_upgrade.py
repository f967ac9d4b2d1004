"""`supportbot db upgrade` (and every start-up's migration) on a database that is not
supportbot's: one line that says what was found and what to do, a non-zero exit, and the
database left as it was."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, text

from bot.cli import main
from bot.storage import StorageError, upgrade


@pytest.fixture
def url(bare_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> str:
    shown = bare_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", shown)
    return shown


def tables(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_tables_of_another_application_are_refused_in_one_line(
    bare_engine: Engine, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with bare_engine.begin() as connection:
        connection.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)"))
        connection.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    assert main(["db", "upgrade"]) != 0
    line = one_line(capsys)
    assert "invoices, users" in line and "DATABASE_URL" in line
    assert tables(bare_engine) == {"users", "invoices"}  # nothing of ours added


def test_a_table_named_like_ours_from_another_application_is_refused_too(
    bare_engine: Engine, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with bare_engine.begin() as connection:
        connection.execute(text("CREATE TABLE ticket (id INTEGER PRIMARY KEY, subject TEXT)"))
    assert main(["db", "upgrade"]) != 0
    assert "ticket" in one_line(capsys)
    assert tables(bare_engine) == {"ticket"}


def test_a_revision_this_release_does_not_know_is_refused_in_one_line(
    bare_engine: Engine, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade(bare_engine)
    with bare_engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_from_later'"))
    assert main(["db", "upgrade"]) != 0
    line = one_line(capsys)
    assert "'0099_from_later'" in line and "does not know" in line


def test_start_up_refuses_the_same_way(bare_engine: Engine) -> None:
    with bare_engine.begin() as connection:
        connection.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY)"))
    with pytest.raises(StorageError, match="not supportbot's"):
        upgrade(bare_engine)


def test_an_empty_database_and_our_own_are_upgraded(
    bare_engine: Engine, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.splitlines() == ["database is up to date"] * 2
