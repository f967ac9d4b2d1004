"""Schema migrations, run from code: ``upgrade(engine)`` at start-up, ``downgrade`` for tests.

The migration scripts ship inside the package (``bot/storage/migrations``), so this works
from an installed wheel whatever the current directory.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect, text
from sqlmodel import SQLModel

import bot.storage.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from bot.storage.errors import StorageError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x5B_0001  # advisory lock keys of supportbot: migrations, and the poller


class UnexpectedSchema(StorageError):
    """The database is not one supportbot migrated (or one a newer release did)."""


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (the newest by default), in one transaction.

    Refuses (``UnexpectedSchema``, one line) a database it would mix into: tables and no
    revision of ours (another application's), or a revision this release does not know.
    On PostgreSQL, replicas starting together take turns (an advisory lock held by the
    transaction): one migrates, the others then find the schema at its head.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config = _config(connection)
        _expect_ours(connection, config, engine.url.render_as_string(hide_password=True))
        command.upgrade(config, revision)


def _expect_ours(connection: Connection, config: Config, shown: str) -> None:
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        found = sorted(set(inspect(connection).get_table_names()) - {"alembic_version"})
        if found:
            names = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
            raise UnexpectedSchema(
                f"the database {shown} is not supportbot's: it has tables ({names}) and no"
                " schema revision of ours; point DATABASE_URL at an empty database or"
                " supportbot's own"
            )
        return
    try:
        known = ScriptDirectory.from_config(config).get_revision(current) is not None
    except (CommandError, RevisionError):
        known = False
    if not known:
        raise UnexpectedSchema(
            f"the database {shown} is at schema revision {current!r}, which this supportbot"
            " does not know (a newer release migrated it, or another application did): run"
            " that release, or point DATABASE_URL at this release's database"
        )


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take the schema back to ``revision``; ``"base"`` drops every table."""
    with engine.begin() as connection:
        command.downgrade(_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` for a database never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_drift(engine: Engine) -> list[str]:
    """Differences between the migrated database and ``tables.py``; empty when they agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [repr(diff) for diff in compare_metadata(context, SQLModel.metadata)]


def _config(connection: Connection) -> Config:
    config = Config(attributes={"connection": connection})
    # configparser interpolates "%": escape it in the path.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config
