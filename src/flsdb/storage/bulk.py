"""Bulk sessions: one transaction that moves whole polars frames in and out of the store.

SQLAlchemy's per-value processing costs seconds per million rows, so bulk work goes to C paths:
Arrow ingest through ADBC on SQLite, COPY through psycopg on PostgreSQL. Everything done in a
session commits together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

import polars as pl

if TYPE_CHECKING:
    import pyarrow as pa
from sqlalchemy import Connection, Engine


class BulkSession(Protocol):
    """What the writer needs from a store, inside one transaction."""

    mark: str

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]: ...

    def read(
        self, sql: str, schema: dict[str, pl.DataType], params: Sequence[object] = ()
    ) -> pl.DataFrame: ...

    def insert(self, table: str, frame: pl.DataFrame) -> int: ...

    def update(self, table: str, frame: pl.DataFrame, key: str) -> int: ...


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


def _update_statement(
    table: str, frame: pl.DataFrame, key: str, mark: str
) -> tuple[str, pl.DataFrame]:
    """UPDATE setting every column but `key`, and the frame with its columns in bind order."""
    columns = [c for c in frame.columns if c != key]
    sets = ", ".join(f'"{c}" = {mark}' for c in columns)
    return (f'UPDATE "{table}" SET {sets} WHERE "{key}" = {mark}', frame.select([*columns, key]))


class SqliteSession:
    """ADBC connection to the SQLite file: Arrow ingest and Arrow-bound executemany."""

    mark = "?"

    def __init__(self, path: str) -> None:
        import adbc_driver_sqlite.dbapi as adbc

        self.connection = adbc.connect(path)
        # ADBC opens a transaction at once (so no per-connection pragmas here); the service
        # foreign key is checked by validation before anything is written.
        self.cursor = self.connection.cursor()

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        self.cursor.execute(sql, tuple(params) if params else None)
        try:
            return list(self.cursor.fetchall())
        except Exception:  # statements without a result set
            return []

    def read_arrow(self, sql: str, params: Sequence[object] = ()) -> pa.Table:
        """A query's rows as Arrow. The driver infers each column's type from its first batch
        (a column blank there becomes an integer and a later text value fails), so the whole
        result is one batch."""
        cursor = self.connection.cursor()
        try:
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(1 << 30)})
            cursor.execute(sql, tuple(params) if params else None)
            return cursor.fetch_arrow_table()
        finally:
            cursor.close()

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

    def update(self, table: str, frame: pl.DataFrame, key: str) -> int:
        if frame.height == 0:
            return 0
        statement, ordered = _update_statement(table, frame, key, self.mark)
        self.cursor.executemany(statement, _as_text(ordered).to_arrow())
        return frame.height

    def commit(self) -> None:
        self.connection.commit()

    def close(self, commit: bool) -> None:
        if commit:
            self.connection.commit()
        else:
            self.connection.rollback()
        self.cursor.close()
        self.connection.close()


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
        statement = f'COPY "{table}" ({_quoted(frame.columns)}) FROM STDIN'
        with dbapi.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            for row in _plain(frame).iter_rows():
                copy.write_row(row)
        return frame.height

    def update(self, table: str, frame: pl.DataFrame, key: str) -> int:
        if frame.height == 0:
            return 0
        statement, ordered = _update_statement(table, frame, key, self.mark)
        self.conn.exec_driver_sql(statement, _plain(ordered).rows())
        return frame.height


@contextmanager
def bulk_session(engine: Engine) -> Iterator[BulkSession]:
    """One transaction: committed when the block ends, rolled back on any exception."""
    if engine.dialect.name == "sqlite":
        session = SqliteSession(engine.url.database or ":memory:")
        try:
            yield session
        except BaseException:
            session.close(commit=False)
            raise
        session.close(commit=True)
        return
    with engine.begin() as conn:
        yield PostgresSession(conn)
