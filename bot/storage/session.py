"""What every repository shares: where its session comes from, and dialect-aware INSERT."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.storage.errors import StorageError

SessionSource = Callable[[], Session]


def insert(session: Session, table: Any) -> Any:
    """``INSERT`` with ``ON CONFLICT`` support for the session's dialect."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise StorageError(f"unsupported database dialect: {dialect}")


def due(next_attempt_at: Any, now: datetime) -> Any:
    """A row with no retry time, or one that has come."""
    return or_(next_attempt_at.is_(None), next_attempt_at <= now)
