"""One serving process per SQLite file.

SQLite serialises writers inside a process well (``BEGIN IMMEDIATE``), but two bots on one
file would both poll Telegram and fight over the same updates. ``hold_single_process``
takes an exclusive lock on ``<database>.lock`` (beside the file a symlink leads to) for as
long as the process lives and refuses a second one with a message that says what to do.
PostgreSQL needs no such lock here.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

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
