"""A read of an SQLite store waits out another process's brief lock instead of failing.

A writer's connection takes the WAL store's exclusive lock for a moment now and then (the
checkpoint and WAL reset as a process's last connection closes, which an import's short-lived
connections do often). A reader that meets it must wait (the busy timeout), as every connection
flsdb opens does: the report set once failed with "database is locked" beside an import because
ADBC's connections had no busy timeout (the driver sets none).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import QueuePool

from flsdb.storage import sqlite_files
from flsdb.storage.held_open import hold_open

HOLD_S = 1.0

# Another process writes holding the file's exclusive lock, says so, holds it HOLD_S and lets
# it go (closing its connection).
LOCKER = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA locking_mode = EXCLUSIVE")
c.execute("INSERT INTO t VALUES (10)")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
c.close()
print("released", flush=True)
"""


def _store(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (v INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(10)])
    conn.commit()
    conn.close()


@pytest.mark.parametrize("driver", ["adbc", "python sqlite3"])
def test_a_read_waits_for_another_process_s_exclusive_lock(tmp_path: Path, driver: str) -> None:
    path = tmp_path / "store.db"
    _store(path)
    engine = create_engine(f"sqlite:///{path}", poolclass=QueuePool)
    if driver == "python sqlite3":
        hold_open(engine)  # as the web application's pooled engine makes reads use sqlite3
    assert sqlite_files.python_sqlite_only(str(path)) is (driver == "python sqlite3")
    # A first read loads the driver (a second of imports: the lock must be met, not missed).
    first = sqlite_files.read_sqlite(str(path), "SELECT count(*) AS n FROM t")
    assert first.column("n").to_pylist() == [10]
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path), str(HOLD_S)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert locker.stdout is not None
        assert locker.stdout.readline().strip() == "locked"
        started = time.monotonic()
        table = sqlite_files.read_sqlite(str(path), "SELECT sum(v) AS total FROM t")
        waited = time.monotonic() - started
    finally:
        out, _ = locker.communicate(timeout=30)
    assert table.column("total").to_pylist() == [55]  # the writer's row too
    assert "released" in out
    # It read after the lock was let go (not before, and not by failing at once).
    assert waited >= HOLD_S * 0.8
    del engine
