"""One engine per process: ``make_engine(url)``.

SQLite (the default) gets WAL, a busy timeout, foreign keys and ``BEGIN IMMEDIATE``: every
transaction takes the write lock up front, so two writers in one process queue up instead of
one failing with "database is locked" when it tries to upgrade a read lock; they queue on a
lock of this process first (``bot.storage.gate``), so each starts as the last one ends.
PostgreSQL URLs use psycopg 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from bot.storage.errors import DatabaseUnavailable, StorageError
from bot.storage.gate import WriteGate, install

SQLITE_BUSY_TIMEOUT_MS = 5000


def make_engine(url: str) -> Engine:
    """Build the engine for ``url`` and check that the database can be opened.

    Raises ``DatabaseUnavailable`` when it cannot, ``StorageError`` for a URL that makes no sense.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        # Not echoed: an unparsable URL may still carry a password.
        raise StorageError(
            "not a database URL (expected e.g. sqlite:///supportbot.db or "
            "postgresql://user@host/dbname)"
        ) from None

    shown = parsed.render_as_string(hide_password=True)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
        elif parsed.get_backend_name() == "postgresql":
            engine = _postgresql_engine(parsed)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StorageError(f"cannot use database {shown}: {exc}") from exc

    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        engine.dispose()
        reason = " ".join(str(exc.orig if exc.orig is not None else exc).split())
        raise DatabaseUnavailable(f"cannot open database {shown}: {reason}") from exc
    return engine


# PostgreSQL ends a session that has waited this many seconds for its client (idle, or idle
# in a transaction). A statement lost on a network that drops traffic silently (no reset,
# no FIN) is never answered: only the server closing the session frees the bot's connection,
# or the poller lock's, which the bot would otherwise wait on for good.
PG_IDLE_TIMEOUT = 60
# ... and the client side of a link that is gone: libpq's own timeouts (the URL may set them)
_PG_TCP = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,  # ms unacknowledged before the connection is dropped
}


def _postgresql_engine(url: URL) -> Engine:
    # No pre-ping: it cost a round trip per transaction (14 % of the event loop's time under
    # benchmarks/throughput.py). A connection that died meanwhile fails its first statement
    # instead, and every caller retries a passing database failure (``is_temporary``);
    # SQLAlchemy then drops the pool's other connections from before the failure. Pooled
    # connections are replaced before the server's idle timeout could have ended them.
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    timeout_ms = int(PG_IDLE_TIMEOUT * 1000)
    engine = create_engine(
        url,
        pool_recycle=PG_IDLE_TIMEOUT * 0.8,
        connect_args={k: v for k, v in _PG_TCP.items() if k not in url.query},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        names = ["idle_in_transaction_session_timeout"]
        if dbapi_connection.info.server_version >= 140000:  # new in PostgreSQL 14
            names.append("idle_session_timeout")
        autocommit, dbapi_connection.autocommit = dbapi_connection.autocommit, True
        try:
            for name in names:
                dbapi_connection.execute(f"SET {name} = {timeout_ms}")
        finally:
            dbapi_connection.autocommit = autocommit

    return engine


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if in_memory:
        # One connection shared by every thread, or each would see its own empty database.
        kwargs["poolclass"] = StaticPool
    elif not database.startswith("file:"):
        try:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            shown = url.render_as_string(hide_password=True)
            raise DatabaseUnavailable(f"cannot open database {shown}: {exc}") from exc

    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 driver (see SQLAlchemy's "Enabling
        # Non-Legacy SQLite Transactional Modes"); "begin" below emits our own BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    gate = WriteGate(SQLITE_BUSY_TIMEOUT_MS / 1000)
    install(engine, gate)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        gate.enter(connection.connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            gate.leave(connection.connection)
            raise

    return engine
