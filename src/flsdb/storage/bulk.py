"""Bulk sessions: one transaction that moves whole polars frames in and out of the store.

SQLAlchemy's per-value processing costs seconds per million rows, so bulk work goes to C paths:
Arrow ingest through ADBC on SQLite, COPY through psycopg on PostgreSQL. Everything done in a
session commits together or not at all, and a database failure becomes one `StorageError`.

Writers queue rather than fail or overwrite each other: an SQLite session takes the write lock
at its start (BEGIN IMMEDIATE, waiting up to the busy timeout), so it reads what it compares
under the lock; a PostgreSQL session takes a transaction-scoped advisory lock per service before
reading (`lock`), so two imports of the same service run one after the other and the second
compares against what the first committed.

ADBC's SQLite is a second copy of the SQLite library beside Python's, so the two must never have
one file open at once in one process (`flsdb.storage.sqlite_files`): SQLite engines therefore
pool no connections (NullPool), and SQLite sessions in one process run one at a time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Protocol

import polars as pl
import pyarrow as pa

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

from flsdb.storage.faults import is_database_error, storage_error
from flsdb.storage.sqlite_files import SQLITE_SESSIONS, fetch_arrow, python_sqlite_only
from flsdb.storage.urls import BUSY_TIMEOUT_MS, read_only_media
from flsdb.storage.write_locks import SQLITE_WRITE_LOCK, hold_advisory_locks, sqlite_end


class BulkSession(Protocol):
    """What the writer needs from a store, inside one transaction."""

    mark: str

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]: ...

    def read(
        self, sql: str, schema: dict[str, pl.DataType], params: Sequence[object] = ()
    ) -> pl.DataFrame: ...

    def insert(self, table: str, frame: pl.DataFrame) -> int: ...

    def update(
        self, table: str, frame: pl.DataFrame, key: str, *, versioned: bool = False
    ) -> int: ...

    def lock(self, names: Sequence[str]) -> None: ...

    def matching(
        self, table: str, keys: pl.DataFrame, columns: Sequence[str], schema: dict[str, pl.DataType]
    ) -> pl.DataFrame: ...


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """Enum columns (compact in memory) go to the store as text."""
    return frame.with_columns(
        [
            pl.col(c).cast(pl.String)
            for c, t in frame.schema.items()
            if isinstance(t, pl.Enum | pl.Categorical)
        ]
    )


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """SQLite keeps dates and datetimes as ISO text, as SQLAlchemy does."""
    frame = _plain(frame)
    return frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
        + [
            pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
            for c, t in frame.schema.items()
            if isinstance(t, pl.Datetime)
        ]
    )


def _typed(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return frame.with_columns(
        [
            pl.col(c).cast(pl.String).str.slice(0, 10).str.to_date("%Y-%m-%d")
            for c, t in schema.items()
            if t == pl.Date
        ]
        + [pl.col(c).cast(t, strict=False) for c, t in schema.items() if t != pl.Date]
    )


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _keys_table(table: str) -> str:
    return f"flsdb_keys_{table}"


def _matching_sql(table: str, keys: Sequence[str], columns: Sequence[str]) -> str:
    """The rows of `table` whose key is in the session's key table."""
    join = " AND ".join(f't."{k}" = k."{k}"' for k in keys)
    picked = ", ".join(f't."{c}"' for c in columns)
    return f'SELECT {picked} FROM "{table}" t JOIN {_keys_table(table)} k ON {join}'


def _update_statement(
    table: str, frame: pl.DataFrame, key: str, mark: str, versioned: bool
) -> tuple[str, pl.DataFrame]:
    """UPDATE setting every column but `key`, and the frame with its columns in bind order;
    `versioned`: the rows' version is raised too."""
    columns = [c for c in frame.columns if c != key]
    sets = ", ".join(f'"{c}" = {mark}' for c in columns)
    if versioned:
        sets += ', "version" = "version" + 1'
    return (f'UPDATE "{table}" SET {sets} WHERE "{key}" = {mark}', frame.select([*columns, key]))


class SqliteSession:
    """ADBC connection to the SQLite file: Arrow ingest and Arrow-bound executemany."""

    mark = "?"

    def __init__(self, path: str) -> None:
        # lazy: the ADBC driver (~0.5 s) only for SQLite (PostgreSQL and the web never load it)
        import adbc_driver_sqlite.dbapi as adbc

        # Autocommit on the driver's side, so the transaction is ours: BEGIN IMMEDIATE takes
        # the write lock now, waiting while another writer finishes.
        self.connection = adbc.connect(path, autocommit=True)
        self.cursor = self.connection.cursor()
        try:
            self.cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.cursor.fetchall()
            self.cursor.execute(SQLITE_WRITE_LOCK)
        except BaseException:
            self.cursor.close()
            self.connection.close()
            raise

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        self.cursor.execute(sql, tuple(params) if params else None)
        if not self.cursor.description:  # a statement without a result set
            return []
        return list(self.cursor.fetchall())  # an error met while stepping through rows is raised

    def read_arrow(self, sql: str, params: Sequence[object] = ()) -> pa.Table:
        return fetch_arrow(self.connection, sql, params)

    def read(
        self, sql: str, schema: dict[str, pl.DataType], params: Sequence[object] = ()
    ) -> pl.DataFrame:
        frame = pl.from_arrow(self.read_arrow(sql, params))
        assert isinstance(frame, pl.DataFrame)
        if frame.height == 0:
            return pl.DataFrame(schema=schema)
        return _typed(frame, schema)

    def insert(self, table: str, frame: pl.DataFrame) -> int:
        if frame.height == 0:
            return 0
        self.cursor.adbc_ingest(table, _as_text(frame).to_arrow(), mode="append")
        return frame.height

    def update(self, table: str, frame: pl.DataFrame, key: str, *, versioned: bool = False) -> int:
        if frame.height == 0:
            return 0
        statement, ordered = _update_statement(table, frame, key, self.mark, versioned)
        self.cursor.executemany(statement, self._bound(ordered))
        return frame.height

    def lock(self, names: Sequence[str]) -> None:
        """Nothing to do: BEGIN IMMEDIATE holds the database's write lock already."""

    def matching(
        self, table: str, keys: pl.DataFrame, columns: Sequence[str], schema: dict[str, pl.DataType]
    ) -> pl.DataFrame:
        name = _keys_table(table)
        names = ", ".join(f'"{k}"' for k in keys.columns)
        self.cursor.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS {name} AS SELECT {names} FROM "{table}" WHERE 0'
        )
        self.cursor.execute(f"DELETE FROM {name}")
        if keys.height:
            marks = ", ".join("?" for _ in keys.columns)
            self.cursor.executemany(f"INSERT INTO {name} VALUES ({marks})", self._bound(keys))
        return self.read(_matching_sql(table, keys.columns, columns), schema)

    def _bound(self, frame: pl.DataFrame) -> object:
        """A frame as the driver binds many rows: Arrow for ADBC."""
        return _as_text(frame).to_arrow()

    def close(self, commit: bool) -> None:
        try:
            self.cursor.execute(sqlite_end(commit))
        finally:
            with suppress(Exception):
                self.cursor.close()
            with suppress(Exception):
                self.connection.close()


class PythonSqliteSession(SqliteSession):
    """The same session on the standard library's sqlite3, for a process that keeps other
    sqlite3 connections open (the web application): one SQLite library per process."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(  # type: ignore[assignment]
            path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )
        self.cursor = self.connection.cursor()
        try:
            self.cursor.execute(SQLITE_WRITE_LOCK)
        except BaseException:
            self.connection.close()
            raise

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        return list(self.cursor.execute(sql, tuple(params)).fetchall())

    def read(
        self, sql: str, schema: dict[str, pl.DataType], params: Sequence[object] = ()
    ) -> pl.DataFrame:
        rows = self.cursor.execute(sql, tuple(params)).fetchall()
        names = [d[0] for d in self.cursor.description or ()]
        text = {c: pl.String() for c in names}
        frame = pl.DataFrame(
            [[str(v) if v is not None else None for v in r] for r in rows],
            schema=text,
            orient="row",
        )
        return _typed(frame, {c: schema[c] for c in names if c in schema})

    def insert(self, table: str, frame: pl.DataFrame) -> int:
        if frame.height == 0:
            return 0
        marks = ", ".join("?" for _ in frame.columns)
        self.cursor.executemany(
            f'INSERT INTO "{table}" ({_quoted(frame.columns)}) VALUES ({marks})',
            _as_text(frame).rows(),
        )
        return frame.height

    def _bound(self, frame: pl.DataFrame) -> object:
        return _as_text(frame).rows()


class PostgresSession:
    """The SQLAlchemy connection's psycopg driver: COPY for inserts."""

    mark = "%s"

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        result = self.conn.exec_driver_sql(sql, tuple(params))
        return [tuple(r) for r in result.fetchall()] if result.returns_rows else []

    def read(
        self, sql: str, schema: dict[str, pl.DataType], params: Sequence[object] = ()
    ) -> pl.DataFrame:
        rows = self.conn.exec_driver_sql(sql, tuple(params)).fetchall()
        text = {c: (pl.String() if isinstance(t, pl.Enum) else t) for c, t in schema.items()}
        return _typed(pl.DataFrame(rows, schema=text, orient="row"), schema)

    def insert(self, table: str, frame: pl.DataFrame) -> int:
        if frame.height == 0:
            return 0
        dbapi = self.conn.connection.dbapi_connection
        assert dbapi is not None
        # CSV text written by polars in one call (psycopg's row-by-row encoding was the import's
        # bottleneck). An unquoted empty field is NULL; an empty string would be quoted.
        statement = f'COPY "{table}" ({_quoted(frame.columns)}) FROM STDIN WITH (FORMAT csv)'
        text = _plain(frame).write_csv(
            include_header=False,
            date_format="%Y-%m-%d",
            datetime_format="%Y-%m-%d %H:%M:%S.%6f",
            null_value="",
        )
        with dbapi.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            copy.write(text)
        return frame.height

    def update(self, table: str, frame: pl.DataFrame, key: str, *, versioned: bool = False) -> int:
        if frame.height == 0:
            return 0
        statement, ordered = _update_statement(table, frame, key, self.mark, versioned)
        self.conn.exec_driver_sql(statement, _plain(ordered).rows())
        return frame.height

    def lock(self, names: Sequence[str]) -> None:
        """Transaction-scoped advisory locks, taken in sorted order (no deadlock between two
        sessions wanting overlapping sets); released at commit or rollback."""
        hold_advisory_locks(self.conn, names)

    def matching(
        self, table: str, keys: pl.DataFrame, columns: Sequence[str], schema: dict[str, pl.DataType]
    ) -> pl.DataFrame:
        name = _keys_table(table)
        names = ", ".join(f'"{k}"' for k in keys.columns)
        self.conn.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DROP AS "
            f'SELECT {names} FROM "{table}" WITH NO DATA'
        )
        self.conn.exec_driver_sql(f"TRUNCATE {name}")
        self.insert(name, keys)
        return self.read(_matching_sql(table, keys.columns, columns), schema)


@contextmanager
def bulk_session(engine: Engine, where: str = "") -> Iterator[BulkSession]:
    """One transaction: committed when the block ends, rolled back on any exception; a database
    failure (disk full, read-only, lost connection...) becomes a `StorageError`."""
    sqlite = engine.dialect.name == "sqlite"
    path = str(engine.url.database or ":memory:")
    where = where or (path if sqlite else engine.url.render_as_string(True))
    try:
        if sqlite:
            with SQLITE_SESSIONS:
                yield from _sqlite_session(path)
        else:
            with engine.begin() as conn:
                yield PostgresSession(conn)
    except Exception as exc:
        if is_database_error(exc):
            read_only_disk = sqlite and read_only_media(path)
            raise storage_error(exc, where, read_only_disk=read_only_disk) from None
        raise


def _sqlite_session(path: str) -> Iterator[SqliteSession]:
    session = PythonSqliteSession(path) if python_sqlite_only(path) else SqliteSession(path)
    try:
        yield session
    except BaseException:
        with suppress(Exception):
            session.close(commit=False)
        raise
    session.close(commit=True)
