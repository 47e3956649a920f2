"""SQLite files reached outside SQLAlchemy: which copy of the SQLite library a process may use
on a file, and reads of a file as Arrow.

ADBC's SQLite is a second copy of the SQLite library beside Python's: POSIX file locks are per
process, so the two copies must never have the file open at once in one process (one closing its
file would drop the other's locks). A process uses Python's sqlite3 alone on a file that a pooled
engine keeps open (`flsdb.storage.held_open`) or after `use_python_sqlite`; otherwise ADBC
(Arrow without per-value Python), one session or read at a time (`SQLITE_SESSIONS`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

import pyarrow as pa

from flsdb.storage.faults import is_database_error, storage_error
from flsdb.storage.held_open import held_open
from flsdb.storage.urls import BUSY_TIMEOUT_MS, sqlite_read_target

__all__ = [
    "SQLITE_SESSIONS",
    "fetch_arrow",
    "python_sqlite_only",
    "read_sqlite",
    "use_python_sqlite",
]

SQLITE_SESSIONS = threading.Lock()  # one ADBC session or read at a time in this process


_PYTHON_SQLITE_ONLY = threading.Event()


def use_python_sqlite() -> None:
    """From now on this process writes SQLite through the standard library's sqlite3 only
    (slower for big imports; safe beside the process's other sqlite3 connections)."""
    _PYTHON_SQLITE_ONLY.set()


def python_sqlite_only(path: str) -> bool:
    """Whether this process must reach the SQLite file through Python's sqlite3 alone."""
    return _PYTHON_SQLITE_ONLY.is_set() or held_open(path)


def fetch_arrow(connection: object, sql: str, params: Sequence[object]) -> pa.Table:
    """A query's rows as Arrow. The driver infers each column's type from its first batch (a
    column blank there becomes an integer and a later text value fails), so the whole result is
    one batch."""
    cursor = connection.cursor()  # type: ignore[attr-defined]
    try:
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(1 << 30)})
        cursor.execute(sql, tuple(params) if params else None)
        return cursor.fetch_arrow_table()
    finally:
        cursor.close()


def read_sqlite(path: str, sql: str, params: Sequence[object] = ()) -> pa.Table:
    """Rows of an SQLite file as Arrow, read without taking the write lock (in WAL mode a
    reader waits for a writer only in the moments it holds the file exclusively). No other
    SQLite connection to the file may be open in this process meanwhile (see above)."""
    # lazy: the ADBC driver (~0.5 s) only for SQLite (PostgreSQL and the web never load it)
    import adbc_driver_sqlite.dbapi as adbc

    target, uri = sqlite_read_target(path)
    if python_sqlite_only(path):
        return _read_python_sqlite(target, uri, sql, params)
    with SQLITE_SESSIONS:
        connection = adbc.connect(target, autocommit=True)
        try:
            # The driver's connection has no busy timeout of its own: without one, a read that
            # meets a writer's brief exclusive lock (the checkpoint and WAL reset as a writer's
            # last connection closes) fails at once with "database is locked", not waiting.
            fetch_arrow(connection, f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", ())
            return fetch_arrow(connection, sql, params)
        except Exception as exc:
            if is_database_error(exc):
                raise storage_error(exc, path, writing=False) from None
            raise
        finally:
            connection.close()


def _read_python_sqlite(target: str, uri: bool, sql: str, params: Sequence[object]) -> pa.Table:
    """`read_sqlite` in a process that keeps to Python's sqlite3 (see `use_python_sqlite`)."""
    connection = sqlite3.connect(target, uri=uri, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        cursor = connection.execute(sql, tuple(params))
        names = [d[0] for d in cursor.description or ()]
        rows = cursor.fetchall()
    finally:
        connection.close()
    return pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})
