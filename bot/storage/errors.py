"""The exceptions of ``bot.storage``, and how to tell a passing failure from a bug.

::

    StorageError                  anything storage raises on purpose
    ├── DatabaseUnavailable       the database cannot be opened or reached
    └── NotFound                  a row that must exist does not (e.g. saving an unknown ticket)

``is_temporary(exc)`` says whether an exception from a unit of work is worth retrying as it
is: a dropped connection, a restarting server, a lock held too long. Callers keep the work
(an update in the inbox, a row in the outbox) and try again later; anything else is a bug.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc


class StorageError(Exception):
    """Base of every error raised on purpose by ``bot.storage``."""


class DatabaseUnavailable(StorageError):
    """The database cannot be opened or reached. The message names the URL without password."""


class NotFound(StorageError):
    """A row that must exist does not."""


# SQLite reports a missing table and a busy database with the same exception class; only
# these mean "try again".
_SQLITE_TEMPORARY = ("locked", "busy", "unable to open", "disk i/o error")


def is_temporary(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) is a passing database failure, not a bug."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _temporary(current):
            return True
        current = current.__cause__ or current.__context__
    return False


# PostgreSQL's serialization_failure and deadlock_detected: another transaction got there first
_CONFLICTS = ("40001", "40P01")


def is_conflict(error: BaseException) -> bool:
    """True when ``error`` says another transaction changed the same rows first (another
    replica): the work is simply done again, at once."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "sqlstate", None) in _CONFLICTS:
            return True
        current = current.__cause__ or current.__context__
    return False


def _temporary(error: BaseException) -> bool:
    if isinstance(error, DatabaseUnavailable):
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.TimeoutError | sa_exc.DisconnectionError | sa_exc.InterfaceError):
        return True
    if isinstance(error, sa_exc.OperationalError):
        if type(error.orig).__module__.startswith("sqlite3"):
            text = str(error.orig).lower()
            return any(word in text for word in _SQLITE_TEMPORARY)
        return True  # PostgreSQL: connection lost, server shutting down, deadlock, serialization
    return False
