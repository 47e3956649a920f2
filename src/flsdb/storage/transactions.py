"""Small writes (one record, one user) in a transaction that queues behind imports.

SQLite: BEGIN IMMEDIATE takes the write lock first, as the bulk sessions do, so what is read is
what is compared. PostgreSQL: the same per-service advisory locks as imports hold (both take
them from storage/write_locks.py). A database failure becomes one `StorageError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Connection, Engine

from flsdb.storage.faults import is_database_error, storage_error
from flsdb.storage.write_locks import SQLITE_WRITE_LOCK, hold_advisory_locks, sqlite_end


@contextmanager
def write_transaction(engine: Engine, locks: Sequence[str] = ()) -> Iterator[Connection]:
    """One transaction, committed when the block ends and rolled back on any exception."""
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            if sqlite:
                dbapi: Any = conn.connection.dbapi_connection
                previous = dbapi.isolation_level
                dbapi.isolation_level = None  # our BEGIN, not the driver's
                try:
                    conn.exec_driver_sql(SQLITE_WRITE_LOCK)
                    try:
                        yield conn
                    except BaseException:
                        with suppress(Exception):
                            conn.exec_driver_sql(sqlite_end(commit=False))
                        raise
                    conn.exec_driver_sql(sqlite_end(commit=True))
                    conn.commit()
                finally:
                    dbapi.isolation_level = previous  # a pooled connection goes back as it came
            else:
                with conn.begin():
                    hold_advisory_locks(conn, locks)
                    yield conn
    except Exception as exc:
        if is_database_error(exc):
            where = str(engine.url.database) if sqlite else engine.url.render_as_string(True)
            raise storage_error(exc, where) from None
        raise
