"""The bulk sessions' own failures: an error met while reading a statement's rows is raised
(on SQLite the driver steps through rows after `execute` returns), never taken for a statement
without rows."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine

from flsdb.errors import StorageError
from flsdb.storage import sqlite_files
from flsdb.storage.bulk import bulk_session
from flsdb.storage.transactions import write_transaction
from flsdb.storage.write_locks import record_locks

# Rows 1 to 4999, then an integer overflow: SQLite meets it while fetching, past the first batch.
OVERFLOW = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) "
    "SELECT CASE WHEN i < 5000 THEN i ELSE abs(-9223372036854775807 - 1) END FROM n"
)


def test_an_error_while_reading_rows_is_raised(engine: Engine) -> None:
    with bulk_session(engine) as session:
        assert session.execute("CREATE TEMP TABLE t (a integer)") == []
        assert session.execute("SELECT 1 + 1") == [(2,)]
    with pytest.raises((StorageError, OSError)) as raised, bulk_session(engine) as session:
        session.execute(OVERFLOW)
    sqlite = engine.dialect.name == "sqlite"
    assert ("integer overflow" if sqlite else "out of range") in str(raised.value)


def test_a_small_write_and_an_import_of_one_fls_exclude_each_other(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same lock (storage/write_locks.py) for both writers: while a small write holds an
    FLS's records, an import of that FLS waits for it (on PostgreSQL seen waiting: an advisory
    lock not granted), and goes on once it commits. SQLite: one SQLite library in the process,
    as in the web application (two would not see each other's locks)."""
    monkeypatch.setattr(sqlite_files, "_PYTHON_SQLITE_ONLY", threading.Event())
    sqlite_files.use_python_sqlite()
    holding, release = threading.Event(), threading.Event()

    def small_write() -> None:
        with write_transaction(engine, record_locks(["FLS01"])):
            holding.set()
            assert release.wait(60)

    writer = threading.Thread(target=small_write)
    writer.start()
    assert holding.wait(60)
    entered = threading.Event()

    def bulk_import() -> None:
        with bulk_session(engine) as session:
            session.lock(record_locks(["FLS01"]))
            entered.set()

    importer = threading.Thread(target=bulk_import)
    importer.start()
    try:
        waited = _seen_waiting(engine) if engine.dialect.name == "postgresql" else True
        assert not entered.wait(0.5)  # still held by the small write
    finally:
        release.set()
    writer.join(60)
    importer.join(60)
    assert waited and entered.is_set()


def _seen_waiting(engine: Engine) -> bool:
    """An advisory lock asked for and not granted, polled for up to a minute."""
    from sqlalchemy import text

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            waiting = conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar_one()
        if waiting:
            return True
        time.sleep(0.05)
    return False
