"""One SQLite transaction at a time in this process, handed from one thread to the next at
once.

SQLite lets one writer in at a time, and every transaction here takes the write lock up front
(``BEGIN IMMEDIATE``). A second thread that finds it taken is put to sleep by SQLite's busy
handler, in steps of milliseconds that grow the longer it waits, and then finds the lock
long free: with the worker handling updates in a thread and the sender claiming rows on
the event loop, the loop slept in that handler for a fifth of the time and the worker waited
on the loop (measured with py-spy under ``benchmarks/throughput.py``). The gate queues the
threads on a lock of their own before ``BEGIN``, so the next one starts as the last one ends.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from sqlalchemy import Engine, event


class WriteGate:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout  # past it, SQLite's own busy timeout decides, as without a gate
        self._lock = threading.Lock()
        self._holder: Any = None  # the DBAPI connection whose transaction holds the gate

    @property
    def held(self) -> bool:
        """A transaction of this process holds the gate."""
        return self._holder is not None

    def enter(self, connection: Any) -> None:
        if self._lock.acquire(timeout=self.timeout):
            self._holder = _raw(connection)

    def leave(self, connection: Any) -> None:
        """The transaction on ``connection`` ended (or the connection is gone): the next one
        may begin. Anything else is left alone."""
        raw = _raw(connection)
        if raw is not None and self._holder is raw:
            self._holder = None
            self._lock.release()


def _raw(connection: Any) -> Any:
    return getattr(connection, "dbapi_connection", connection)


_GATES: weakref.WeakKeyDictionary[Engine, WriteGate] = weakref.WeakKeyDictionary()


def gate_of(engine: Engine) -> WriteGate | None:
    """The gate ``install`` put on ``engine`` (None: it has none, e.g. PostgreSQL)."""
    return _GATES.get(engine)


def install(engine: Engine, gate: WriteGate) -> None:
    """Let ``engine``'s transactions through ``gate``: entered by the "begin" listener (the
    caller's, which calls ``gate.enter`` first), left when the DBAPI commits or rolls back,
    or when the connection is invalidated or closed."""
    _GATES[engine] = gate
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(connection: Any) -> None:
        try:
            commit(connection)
        finally:
            gate.leave(connection)

    def do_rollback(connection: Any) -> None:
        try:
            rollback(connection)
        finally:
            gate.leave(connection)

    setattr(dialect, "do_commit", do_commit)  # noqa: B010 (a method of this instance only)
    setattr(dialect, "do_rollback", do_rollback)  # noqa: B010

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(dbapi_connection: Any, _record: Any, _exception: Any) -> None:
        gate.leave(dbapi_connection)

    @event.listens_for(engine, "close")
    def _on_close(dbapi_connection: Any, _record: Any) -> None:
        gate.leave(dbapi_connection)
