"""Open the store (SQLite file by default, PostgreSQL by URL) and keep its schema migrated."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from flsdb.errors import StorageError

DEFAULT_URL = "sqlite:///flsdb.db"
ENV_VAR = "FLSDB_DATABASE_URL"


def resolve_url(url: str | None = None) -> str:
    """The database URL: the option given, else $FLSDB_DATABASE_URL, else ./flsdb.db."""
    url = url or os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in url:  # a plain path means an SQLite file
        url = f"sqlite:///{Path(url)}"
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: object, _: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-200000")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    location = resources.files("flsdb.storage").joinpath("migrations")
    config.set_main_option("script_location", str(location))
    return config


def open_engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    """Create the engine; create or migrate the schema on first use."""
    resolved = resolve_url(url)
    try:
        parsed = make_url(resolved)
    except ArgumentError:
        raise StorageError(f"Not a database URL: {resolved}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        folder = Path(parsed.database).parent
        if not folder.exists():
            folder.mkdir(parents=True)
    engine = create_engine(resolved)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        upgrade(engine)
    return engine


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(engine: Engine) -> str | None:
    """Bring the schema to the newest migration (no-op when already there)."""
    try:
        if current_revision(engine) == head_revision():
            return head_revision()
        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise StorageError(f"Cannot use the database: {exc.orig}") from None
    return head_revision()
