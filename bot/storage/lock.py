"""One serving process per SQLite file.

SQLite serialises writers inside a process well (``BEGIN IMMEDIATE``), but two bots on one
file would both poll Telegram and fight over the same updates. ``hold_single_process``
takes an exclusive lock on ``<database>.lock`` (beside the file a symlink leads to) for as
long as the process lives and refuses a second one with a message that says what to do.
On PostgreSQL several replicas serve one database; ``PollerLock`` lets one of them poll.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from bot.storage.errors import StorageError

_held: list[IO[str]] = []  # kept open (and locked) until the process ends


class AlreadyRunning(StorageError):
    """Another supportbot process is serving this SQLite database."""


def hold_single_process(url: str) -> Path | None:
    """Lock a SQLite database for this process; returns the lock file, None for others."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    # the file itself, whatever the name used: symlinks (of the file or a folder above it)
    # and relative paths lead every process on one file to one lock
    database = Path(str(parsed.database)).resolve()
    path = database.with_name(database.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise AlreadyRunning(
            f"another supportbot ({holder}) is already serving {parsed.database}: stop it"
            " first, or use PostgreSQL (DATABASE_URL) to run several"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    _held.append(handle)
    return path


POLLER_LOCK = 0x5B_0002  # beside migrate.MIGRATION_LOCK


class PollerLock:
    """One poller among the replicas on a PostgreSQL database: a session-level advisory
    lock, held on a connection of its own for as long as this process polls. When the
    process dies its connection closes and the lock is free for another replica; when the
    connection drops, ``held`` says so and the poller stands by again.

    On SQLite the file lock (``hold_single_process``) already keeps a second process out:
    the lock is always this process's.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._shared = engine.dialect.name == "postgresql"
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        """Take the lock if no other process has it; True when this process holds it."""
        if not self._shared:
            return True
        if self._connection is not None:
            return self.held()
        connection = self._engine.connect()
        try:  # (a connection of its own: closing it, not pooling it, ends the lock)
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": POLLER_LOCK}
            ).scalar()
            connection.commit()
        except Exception:
            connection.invalidate()
            connection.close()
            raise
        if not got:
            connection.close()  # no lock taken: back to the pool
            return False
        self._connection = connection
        return True

    def held(self) -> bool:
        """Whether the lock is still this process's (its connection still answers)."""
        if not self._shared:
            return True
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1")).scalar()
            self._connection.commit()
        except Exception:
            self.release()
            return False
        return True

    def release(self) -> None:
        """Let another replica poll (closing the connection frees the lock)."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):
                # closed for good, not handed back to the pool with the lock still held
                connection.invalidate()
                connection.close()
