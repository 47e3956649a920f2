"""Open the store (SQLite file by default, PostgreSQL by URL) and keep its schema migrated.

An SQLite store is kept in WAL mode, so readers (KPIs, reports) and one writer work at once, and
its connections wait (a busy timeout) rather than fail when another holds the lock. They are not
pooled: see `flsdb.storage.bulk` for why no SQLite connection may stay open. Alembic
(slow to import) is loaded only when a schema must change: the revision is checked with one
query against `HEAD_REVISION`, which a test keeps equal to Alembic's head.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlalchemy.pool import NullPool, QueuePool

from flsdb.errors import StorageError
from flsdb.storage.faults import READ_ONLY_DISK, database_problem
from flsdb.storage.held_open import hold_open
from flsdb.storage.urls import (
    BUSY_TIMEOUT_MS,
    ENV_VAR,
    HEAD_REVISION,
    no_database,
    not_flsdb,
    read_only_media,
    resolve_url,
)

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["ENV_VAR", "HEAD_REVISION", "open_engine", "open_existing", "resolve_url", "upgrade"]


def _sqlite_pragmas(dbapi_connection: object, _: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-200000")
    cursor.close()


def alembic_config() -> Config:
    # lazy: alembic (~0.2 s beyond SQLAlchemy) only to migrate or read the migrations
    from alembic.config import Config

    config = Config()
    location = resources.files("flsdb.storage").joinpath("migrations")
    config.set_main_option("script_location", str(location))
    return config


def _where(engine: Engine) -> str:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def _engine(resolved: str, pooled: bool = False) -> Engine:
    try:
        parsed = make_url(resolved)
    except ArgumentError:
        raise StorageError(
            f"'{resolved}' is not a database URL: give an SQLite file or "
            "postgresql://user@host/database."
        ) from None
    try:
        if parsed.get_backend_name() == "sqlite":
            if pooled:
                engine = create_engine(parsed, poolclass=QueuePool, pool_size=10, max_overflow=20)
            else:
                engine = create_engine(parsed, poolclass=NullPool)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise StorageError(f"Cannot use the database {resolved}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def open_engine(url: str | None = None, *, migrate: bool = True, pooled: bool = False) -> Engine:
    """The store for writing: the SQLite file is created if missing; schema created or migrated.
    `pooled` keeps SQLite connections open between uses: only for a process that never uses
    ADBC's SQLite (the web application; see `flsdb.storage.bulk`)."""
    resolved = resolve_url(url)
    engine = _engine(resolved, pooled)
    if engine.dialect.name == "sqlite" and engine.url.database:
        folder = Path(engine.url.database).parent
        if not folder.exists():
            try:
                folder.mkdir(parents=True)
            except OSError as exc:
                raise StorageError(f"Cannot create the folder {folder}: {exc.strerror}.") from None
    if migrate:
        upgrade(engine)
    if engine.dialect.name == "sqlite":
        _write_ahead_log(engine)
        if pooled:  # its connections stay open: ADBC's SQLite must keep off the file meanwhile
            hold_open(engine)
    return engine


def _write_ahead_log(engine: Engine) -> None:
    """Put the SQLite file in WAL mode (kept in the file; a no-op once done)."""
    try:
        with engine.connect() as conn:
            if conn.exec_driver_sql("PRAGMA journal_mode").scalar() != "wal":
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    except (OperationalError, DatabaseError) as exc:
        raise _unusable(engine, exc) from None


def open_existing(url: str | None = None, *, migrate: bool = True) -> Engine:
    """The store for reading: it must exist already (nothing is created to be read empty)."""
    resolved = resolve_url(url)
    engine = _engine(resolved)
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if not path or not Path(path).is_file():
            raise StorageError(no_database(str(path)))
    if current_revision(engine) is None:
        raise StorageError(not_flsdb(_where(engine)))
    if migrate:
        upgrade(engine)
    return engine


def current_revision(engine: Engine) -> str | None:
    """The schema revision, or None for an empty database; StorageError if unusable."""
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                found = conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'"
                ).first()
            else:
                found = conn.execute(text("SELECT to_regclass('alembic_version')")).scalar()
            if not found:
                return None
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except (OperationalError, DatabaseError) as exc:
        raise _unusable(engine, exc) from None


def _unusable(engine: Engine, exc: DatabaseError) -> StorageError:
    return StorageError(f"Cannot use the database {_where(engine)}: {_reason(exc, engine)}.")


def _reason(exc: DatabaseError, engine: Engine) -> str:
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if path and read_only_media(path):
        return READ_ONLY_DISK
    return database_problem(str(exc.orig) if exc.orig else str(exc))


def head_revision() -> str | None:
    # lazy: alembic (~0.2 s beyond SQLAlchemy) only to migrate or read the migrations
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(engine: Engine) -> str | None:
    """Bring the schema to the newest migration (no-op when already there)."""
    if current_revision(engine) == HEAD_REVISION:
        return HEAD_REVISION
    # lazy: alembic (~0.2 s beyond SQLAlchemy) only to migrate or read the migrations
    from alembic import command

    try:
        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except (OperationalError, DatabaseError) as exc:
        raise _unusable(engine, exc) from None
    return HEAD_REVISION
