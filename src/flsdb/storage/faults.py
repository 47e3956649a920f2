"""Database failures in words: one sentence for the user, never a driver's traceback or detail.

Drivers' details can quote values (PostgreSQL's "Key (...)=(...)" names the NHS number of a
duplicate), so only a known cause or the first line of a message is ever shown. Nothing here
imports a database library: the errors are recognised by their text and class names.
"""

from __future__ import annotations

from flsdb.errors import StorageError

# (words in the driver's message, what it means for the user); first match wins.
_CAUSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("file is not a database", "file is encrypted", "malformed"),
        "it is not an SQLite database file (or it is damaged)",
    ),
    (
        ("database or disk is full", "no space left", "could not extend file", "disk full"),
        "the disk is full (free some space and try again)",
    ),
    (
        ("readonly", "read-only", "read only"),
        "it is read-only (check the file's and its folder's permissions)",
    ),
    (
        ("unable to open",),
        "the file cannot be opened (check the folder exists and its permissions)",
    ),
    (
        ("database is locked", "database table is locked"),
        "another program kept it locked for too long; try again when that work has finished",
    ),
    (
        (
            "server closed the connection",
            "connection is lost",
            "connection refused",
            "terminating connection",
            "consuming input failed",
            "the connection is closed",
            "connection timeout",
            "could not receive data",
            "ssl syscall",
        ),
        "the connection to the database server was lost",
    ),
    (
        ("duplicate key value", "unique constraint failed"),
        "another upload stored the same records at the same moment; upload the file again",
    ),
    (("permission denied", "must be owner"), "the database user may not make this change"),
    (("deadlock detected",), "another upload wanted the same records; upload the file again"),
    (
        ("disk i/o error", "input/output error"),
        "the disk reported an error (it may be failing or full)",
    ),
)


def database_problem(message: str) -> str:
    """What a driver's message means, in words; its first line when the cause is not known."""
    text = message.strip().splitlines()[0] if message.strip() else "unknown error"
    lowered = message.lower()
    for words, meaning in _CAUSES:
        if any(w in lowered for w in words):
            return meaning
    return text.split("DETAIL")[0].strip()[:200]


def is_database_error(exc: BaseException) -> bool:
    """An error raised by SQLite, PostgreSQL or their drivers (by class, without importing them)."""
    modules = {c.__module__.split(".")[0] for c in type(exc).__mro__}
    drivers = {"sqlite3", "psycopg", "adbc_driver_manager", "adbc_driver_sqlite", "_sqlite3"}
    if modules & drivers:
        return True
    return "sqlalchemy" in modules and type(exc).__name__ != "ArgumentError"


READ_ONLY_DISK = "it is on a read-only disk, where nothing can be stored"


def storage_error(
    exc: BaseException, where: str, *, writing: bool = True, read_only_disk: bool = False
) -> StorageError:
    """The error to raise for a database failure while using `where`."""
    cause = getattr(exc, "orig", None) or exc
    problem = READ_ONLY_DISK if read_only_disk else database_problem(str(cause))
    done = " Nothing was stored; the database is as it was." if writing else ""
    return StorageError(f"Cannot use the database {where}: {problem}.{done}")
