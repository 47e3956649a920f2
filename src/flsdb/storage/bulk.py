"""Fast row transfer between polars frames and the store, per database dialect.

SQLAlchemy's per-value type processing costs seconds per million rows, so bulk paths go to the
driver: executemany on SQLite, COPY on PostgreSQL. Both run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from sqlalchemy import Connection


def _driver_ready(conn: Connection, frame: pl.DataFrame) -> pl.DataFrame:
    if conn.dialect.name != "sqlite":
        return frame
    # SQLite keeps dates as ISO text and datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff', as SQLAlchemy does.
    return frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
        + [
            pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
            for c, t in frame.schema.items()
            if isinstance(t, pl.Datetime)
        ]
    )


def insert_frame(conn: Connection, table: str, frame: pl.DataFrame) -> int:
    """Insert every row of `frame` (its column names are the table's)."""
    if frame.height == 0:
        return 0
    frame = _driver_ready(conn, frame)
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    if conn.dialect.name == "postgresql":
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        with dbapi.cursor() as cursor:  # type: ignore[attr-defined]
            with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                for row in frame.iter_rows():
                    copy.write_row(row)
        return frame.height
    marks = ", ".join("?" for _ in frame.columns)
    conn.exec_driver_sql(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', frame.rows())
    return frame.height


def update_frame(conn: Connection, table: str, frame: pl.DataFrame, key: str) -> int:
    """Update rows by `key`, setting every other column of `frame`."""
    if frame.height == 0:
        return 0
    frame = _driver_ready(conn, frame)
    columns = [c for c in frame.columns if c != key]
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sets = ", ".join(f'"{c}" = {mark}' for c in columns)
    ordered = frame.select([*columns, key])
    conn.exec_driver_sql(f'UPDATE "{table}" SET {sets} WHERE "{key}" = {mark}', ordered.rows())
    return frame.height


def read_frame(
    conn: Connection, sql: str, schema: dict[str, pl.DataType | type[pl.DataType]],
    params: Sequence[object] = (),
) -> pl.DataFrame:
    """Run a query on the driver and return a typed frame (dates parsed from SQLite text)."""
    rows = conn.exec_driver_sql(sql, tuple(params)).fetchall()
    text_schema = {c: (pl.String if t in (pl.Date, pl.Datetime) else t) for c, t in schema.items()}
    if conn.dialect.name == "sqlite":
        frame = pl.DataFrame(rows, schema=text_schema, orient="row")
        return frame.with_columns(
            [pl.col(c).str.slice(0, 10).str.to_date("%Y-%m-%d") for c, t in schema.items()
             if t == pl.Date]
        )
    return pl.DataFrame(rows, schema=schema, orient="row")
