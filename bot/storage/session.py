"""What every repository shares: where its session comes from, and dialect-aware INSERT."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.storage.errors import StorageError

SessionSource = Callable[[], Session]


def insert(session: Session, table: Any) -> Any:
    """``INSERT`` with ``ON CONFLICT`` support for the session's dialect."""
    return dialect_insert(session.get_bind().dialect.name, table)


def dialect_insert(dialect: str, table: Any) -> Any:
    """``INSERT`` with ``ON CONFLICT`` support for the dialect named."""
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise StorageError(f"unsupported database dialect: {dialect}")


_BUILT: dict[tuple[Callable[[str], Any], str], Any] = {}


def built(session: Session, make: Callable[[str], Any]) -> Any:
    """``make(dialect)``'s statement for the session's dialect, built once: building a
    statement on every call cost as much as running it (values go in as parameters)."""
    key = (make, session.get_bind().dialect.name)
    statement = _BUILT.get(key)
    if statement is None:
        statement = _BUILT[key] = make(key[1])
    return statement


def due(next_attempt_at: Any, now: Any) -> Any:
    """A row with no retry time, or one that has come (``now``: a time or a bound parameter)."""
    return or_(next_attempt_at.is_(None), next_attempt_at <= now)
