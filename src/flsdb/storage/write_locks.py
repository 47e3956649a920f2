"""The write locks every writer of the store takes, named and written in one place so that
imports (storage/bulk.py) and small writes (storage/transactions.py) always exclude each other:
the lock names (`record_locks`, `SERVICES_LOCK`), SQLite's transaction statements and
PostgreSQL's advisory locks.

- SQLite: `SQLITE_WRITE_LOCK` begins the transaction holding the database's one write lock
  (waiting up to the busy timeout while another writer finishes), so what is read is what is
  compared.
- PostgreSQL: transaction-scoped advisory locks, one per name (`records:FLS01` for an FLS's
  records, `services`), taken in sorted order so that two writers wanting overlapping sets never
  deadlock; released at commit or rollback.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection

SQLITE_WRITE_LOCK = "BEGIN IMMEDIATE"
SERVICES_LOCK = "services"
ADVISORY_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"


def advisory_key(name: str) -> str:
    """The text an advisory lock's key is hashed from."""
    return f"flsdb:{name}"


def hold_advisory_locks(conn: Connection, names: Iterable[str]) -> None:
    """Take the named advisory locks in this transaction, in sorted order."""
    for name in sorted(set(names)):
        conn.exec_driver_sql(ADVISORY_LOCK_SQL, (advisory_key(name),))


def sqlite_end(commit: bool) -> str:
    """The statement that ends a transaction begun with `SQLITE_WRITE_LOCK`, releasing it."""
    return "COMMIT" if commit else "ROLLBACK"


def record_locks(codes: Iterable[str]) -> list[str]:
    """The lock names that writers of these services' records hold."""
    return [f"records:{code}" for code in sorted(set(codes))]
