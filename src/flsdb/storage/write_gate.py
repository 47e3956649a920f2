"""The web application's writers take turns in the process before they ask SQLite for its write
lock (`gate_writes`, for a pooled engine).

SQLite lets a writer that finds the lock taken wait in its busy handler, which sleeps 1, 2, 5,
10 ... up to 100 ms between tries: a waiter often sleeps on long after the lock is free, and
under load the lock sits free while every waiter sleeps (300 staff: of the slow requests' 99 s
waiting for the lock, 82 s with the lock free; `benchmarks/stalls.py`). With the gate, the
threads of one process queue on a Python lock (released the moment the writer before commits
or rolls back) and only the one at its head asks SQLite, which then makes it wait only for
other processes' writers (another server process, the figures' worker, a command).

The gate is taken where a transaction takes SQLite's lock: at `BEGIN IMMEDIATE`, or at the
first write of a deferred transaction; it is let go at the commit or rollback, or at the latest
when the connection goes back to the pool. It only orders what SQLite would order anyway: a
writer that finds the gate held by its own thread (another of its connections), or that has
waited the busy timeout for it, goes on to SQLite as before.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from sqlalchemy import Engine, event

from flsdb.storage.urls import BUSY_TIMEOUT_MS

_TAKES_LOCK = ("BEGIN IMMEDIATE", "INSERT", "UPDATE", "DELETE", "REPLACE")
_ENDS = ("COMMIT", "ROLLBACK", "END")


def _raw(connection: Any) -> Any:
    """The driver's connection (the pool's reset hands over its wrapper)."""
    return getattr(connection, "dbapi_connection", connection)


class WriteGate:
    """One process's turn at its store's write lock, held by one driver connection at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.owner: int | None = None  # the thread holding it
        self.holding: Any = None  # the driver connection holding it

    def take(self, connection: Any) -> None:
        if self.holding is connection:
            return
        me = threading.get_ident()
        if self.owner == me:  # its own other connection: SQLite decides, as without the gate
            return
        if self._lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            self.owner, self.holding = me, connection

    def release(self, connection: Any) -> None:
        if connection is not None and self.holding is connection:
            self.owner = self.holding = None
            self._lock.release()


_GATES: weakref.WeakKeyDictionary[Engine, WriteGate] = weakref.WeakKeyDictionary()


def gate_of(engine: Engine) -> WriteGate | None:
    """The engine's gate, if its writers take turns through one."""
    return _GATES.get(engine)


def gate_writes(engine: Engine) -> WriteGate | None:
    """Queue the engine's writers in the process before SQLite's lock (SQLite engines)."""
    if engine.dialect.name != "sqlite":
        return None
    gate = _GATES[engine] = WriteGate()

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip()[:15].upper().startswith(_TAKES_LOCK):
            gate.take(conn.connection.dbapi_connection)

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        head = statement.lstrip()[:11].upper()
        if head.startswith(_ENDS) and not head.startswith("ROLLBACK TO"):  # not a savepoint's
            gate.release(conn.connection.dbapi_connection)

    # After the driver's commit or rollback (SQLAlchemy's own events come before them).
    dialect: Any = engine.dialect
    for name in ("do_commit", "do_rollback"):
        _release_after(dialect, name, gate)

    @event.listens_for(engine.pool, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:  # at the latest
        gate.release(dbapi_connection)

    return gate


def _release_after(dialect: Any, name: str, gate: WriteGate) -> None:
    ends = getattr(dialect, name)

    def ended(connection: Any) -> None:
        try:
            ends(connection)
        finally:
            gate.release(_raw(connection))

    setattr(dialect, name, ended)
