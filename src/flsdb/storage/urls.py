"""Database URLs without loading SQLAlchemy: which database a command means, and whether it is an
SQLite file (reading one needs nothing heavier than the standard library's sqlite3)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

DEFAULT_URL = "sqlite:///flsdb.db"
# The newest schema revision; a test keeps it equal to Alembic's head.
HEAD_REVISION = "0015"
ENV_VAR = "FLSDB_DATABASE_URL"
# How long an SQLite connection waits for another's lock before giving up.
BUSY_TIMEOUT_MS = 60_000


def resolve_url(url: str | None = None) -> str:
    """The database URL: the option given, else $FLSDB_DATABASE_URL, else ./flsdb.db."""
    url = url or os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in url:  # a plain path means an SQLite file
        url = f"sqlite:///{Path(url)}"
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sqlite_file(url: str) -> str | None:
    """The file of an `sqlite:///path` URL (None for other databases, in-memory or with
    query options, which take the SQLAlchemy path)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = url[len(prefix) :]
    return path if path and path != ":memory:" else None


def no_database(path: str) -> str:
    return (
        f"No database at {path}: give --db (or set {ENV_VAR}), or create it with "
        "'flsdb load-services' and 'flsdb import'."
    )


def not_flsdb(where: str) -> str:
    return (
        f"{where} is not an flsdb database (it has no flsdb schema); create one with "
        "'flsdb load-services'."
    )


def read_only_media(path: str) -> bool:
    """Whether an SQLite file lies on a read-only file system (no one can write to it)."""
    try:
        return bool(os.statvfs(Path(path).parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def sqlite_read_target(path: str) -> tuple[str, bool]:
    """What to open to read an SQLite file, and whether it is a URI. On read-only media the
    file is opened as immutable: a WAL database cannot be opened there otherwise (its
    shared-memory file cannot be created), and nothing can change it."""
    if not read_only_media(path):
        return path, False

    return f"file:{quote(str(Path(path).resolve()))}?immutable=1", True
