"""Where records are read from: the store (SQLite, PostgreSQL) or files through DuckDB."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import pandas as pd
import polars as pl
from sqlalchemy import select

from flsdb.dictionary import load_dictionary
from flsdb.errors import ConfigurationError, StorageError, ValidationFailed
from flsdb.ingest import open_upload, validate
from flsdb.ingest.issues import ROW
from flsdb.kpi.spark import from_arrow, read_parquet
from flsdb.storage.database import open_existing
from flsdb.storage.faults import database_problem
from flsdb.storage.parquet import write_frames
from flsdb.storage.sqlite_files import read_sqlite
from flsdb.storage.tables import RECORD_COLUMNS, SERVICE_COLUMNS, services
from flsdb.storage.urls import (
    HEAD_REVISION,
    no_database,
    not_flsdb,
    resolve_url,
    sqlite_file,
    sqlite_read_target,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from sqlalchemy import Engine

# Columns no KPI reads: identifiers stay in the store when records are copied for queries.
IDENTIFIERS = ("nhs_number", "postcode")


@dataclass(frozen=True)
class RecordSource:
    """A records table in some engine, with the services table as a small frame."""

    table: ir.Table
    services: pd.DataFrame
    backend: str
    description: str
    # The SQLite file, when the records are in one (for `in_memory`).
    sqlite_path: str | None = None


def stored_services(engine: Engine) -> pd.DataFrame:
    """The services table as a KPI source holds it (the columns the catalogue's queries use)."""
    with engine.connect() as conn:
        rows = conn.execute(select(*[services.c[c] for c in SERVICE_COLUMNS])).all()
    return pd.DataFrame(rows, columns=list(SERVICE_COLUMNS))


def ibis_connection(engine: Engine) -> ibis.BaseBackend:
    """An Ibis connection to the same database as a SQLAlchemy engine."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return ibis.sqlite.connect(url.database or ":memory:")
    if url.get_backend_name() == "postgresql":
        return ibis.postgres.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
        )
    raise ConfigurationError(f"KPIs cannot run on {url.get_backend_name()} databases")


def _sqlite_source(path: str) -> RecordSource | None:
    """An SQLite store opened with the standard library (SQLAlchemy and Alembic take a second
    to load): None when its schema needs migrating, which the SQLAlchemy path does."""
    if not Path(path).is_file():
        raise StorageError(no_database(path))
    target, uri = sqlite_read_target(path)
    try:
        with closing(sqlite3.connect(target, uri=uri, timeout=60)) as conn:
            found = conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'"
            ).fetchone()
            if not found:
                raise StorageError(not_flsdb(path))
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            if not revision or revision[0] != HEAD_REVISION:
                return None
            columns = [f.name for f in load_dictionary().services]
            services_frame = pd.read_sql_query(f"SELECT {', '.join(columns)} FROM services", conn)
    except sqlite3.DatabaseError as exc:
        raise StorageError(
            f"Cannot use the database {path}: {database_problem(str(exc))}."
        ) from None
    con = ibis.sqlite.from_connection(sqlite3.connect(target, uri=uri, timeout=60))
    return RecordSource(
        table=con.table("records"),
        services=services_frame,
        backend="sqlite",
        description=f"sqlite database sqlite:///{path}",
        sqlite_path=path,
    )


def source_from_database(url: str | None = None, engine: Engine | None = None) -> RecordSource:
    """The store's records; the database must exist (it is not created for reading)."""
    if engine is None:
        path = sqlite_file(resolve_url(url))
        fast = _sqlite_source(path) if path is not None else None
        if fast is not None:
            return fast

    engine = engine or open_existing(url)
    con = ibis_connection(engine)
    backend = "sqlite" if engine.dialect.name == "sqlite" else "postgres"
    return RecordSource(
        table=con.table("records"),
        services=stored_services(engine),
        backend=backend,
        description=f"{engine.dialect.name} database "
        f"{engine.url.render_as_string(hide_password=True)}",
        sqlite_path=engine.url.database if backend == "sqlite" else None,
    )


def duckdb_connection() -> ibis.BaseBackend:
    """An in-memory DuckDB for queries: no progress bar (DuckDB draws one on the terminal for
    queries over two seconds, which would interleave with a command's own output)."""
    con = ibis.duckdb.connect()
    con.raw_sql("SET enable_progress_bar = false")
    return con


def source_from_frames(
    records: pl.DataFrame,
    services_frame: pd.DataFrame,
    name: str,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> RecordSource:
    """Typed, validated records held in memory, queried by DuckDB (or sent to Spark)."""
    arrow = plain_records(records).to_arrow()
    if engine == "spark":
        return RecordSource(from_arrow(arrow, spark_master), services_frame, "spark", name)
    con = duckdb_connection()
    table = con.create_table("records", arrow)
    return RecordSource(table=table, services=services_frame, backend="duckdb", description=name)


def plain_records(records: pl.DataFrame, columns: tuple[str, ...] | None = None) -> pl.DataFrame:
    """The record columns with codes as plain text (validation keeps them as compact Enums)."""
    frame = records.select(columns or RECORD_COLUMNS)
    return frame.with_columns(
        [pl.col(c).cast(pl.String) for c, t in frame.schema.items() if isinstance(t, pl.Enum)]
    )


def in_memory(source: RecordSource, start: dt.date, end: dt.date) -> RecordSource:
    """The records of a date range copied into DuckDB, for work that runs many queries (the
    report set): SQLite evaluates each query row by row, DuckDB in vectors. Identifiers are not
    copied. Other sources are returned as they are."""
    if source.backend != "sqlite" or source.sqlite_path is None:
        return source

    fields = load_dictionary().record_fields
    columns = [c for c in RECORD_COLUMNS if c not in IDENTIFIERS]
    # The source's own SQLite connection is closed first: the copy is read by a second SQLite
    # library (ADBC's), which must not share the file with it in one process.
    source.table._find_backend().disconnect()
    arrow = read_sqlite(
        source.sqlite_path,
        f"SELECT {', '.join(columns)} FROM records "
        "WHERE date_fracture_diagnosed >= ? AND date_fracture_diagnosed <= ?",
        (start.isoformat(), end.isoformat()),
    )
    con = duckdb_connection()
    con.con.register("records_copied", arrow)
    types = {"date": "DATE", "integer": "BIGINT", "number": "DOUBLE"}
    select = [
        f"CAST(NULL AS VARCHAR) AS {c}"
        if c in IDENTIFIERS
        else f"CAST({c} AS {types.get(fields[c].type, 'VARCHAR')}) AS {c}"
        for c in RECORD_COLUMNS
    ]
    con.con.execute(f"CREATE VIEW records AS SELECT {', '.join(select)} FROM records_copied")
    return RecordSource(
        table=con.table("records"),
        services=source.services,
        backend="duckdb",
        description=f"{source.description} (queried in DuckDB)",
    )


def write_extract(records: pl.DataFrame, path: Path) -> Path:
    """Write validated records as an flsdb Parquet extract (read back by `source_from_files`)."""
    return write_frames([plain_records(records)], path)


FILE_ENGINES = {"duckdb": "DuckDB", "spark": "Spark"}


def check_extract(table: ir.Table, name: str) -> None:
    """A Parquet records file must have every record column with its type: it is taken as the
    already validated output of `flsdb synth --format parquet` (or `write_extract`), so its
    values are not checked again, but a date stored as text would be compared wrongly."""
    missing = [c for c in RECORD_COLUMNS if c not in table.columns]
    if missing:
        raise ConfigurationError(f"{name} is not an flsdb records extract: missing {missing}")
    fields = load_dictionary().record_fields
    schema = table.schema()
    expected = {"date": "is_date", "integer": "is_integer", "number": "is_numeric"}
    wrong = [
        f"{c} ({schema[c]})"
        for c in RECORD_COLUMNS
        if not getattr(schema[c], expected.get(fields[c].type, "is_string"))()
        and not schema[c].is_null()
    ]
    if wrong:
        raise ConfigurationError(
            f"{name} is not an flsdb records extract: wrong types for {', '.join(wrong)}"
        )


def _read_parquet(path: Path, engine: str, spark_master: str | None) -> ir.Table:
    if engine == "spark":
        return read_parquet(path, spark_master)
    # lazy: duckdb only for files; a store's KPIs never load it
    import duckdb

    try:
        return duckdb_connection().read_parquet(str(path), table_name="records")
    except (duckdb.IOException, duckdb.InvalidInputException):  # the file, not the engine
        raise ConfigurationError(f"{path.name} is not a readable Parquet file.") from None


def source_from_files(
    records_path: Path,
    services_path: Path,
    upload_date: dt.date | None = None,
    *,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> RecordSource:
    """Validate a records file and a services file the same way as an upload, then query them
    with DuckDB (default) or Spark.

    A Parquet records file is taken as an flsdb extract (already validated and typed: its
    columns and their types are checked, its values are not).
    """
    if engine not in FILE_ENGINES:
        raise ConfigurationError(
            f"files are queried with {' or '.join(FILE_ENGINES)}, not '{engine}'"
        )
    if spark_master is not None and engine != "spark":
        raise ConfigurationError("--spark-master goes with --engine spark.")
    checked_services = validate(open_upload(services_path), "services", upload_date=upload_date)
    if not checked_services.ok:
        raise ValidationFailed(checked_services.issues)
    services_frame = checked_services.frame.drop(ROW).to_pandas()
    name = f"{FILE_ENGINES[engine]} over {records_path.name}"
    if records_path.suffix.lower() == ".parquet":
        if not records_path.is_file():
            raise ConfigurationError(f"There is no file {records_path}.")
        table = _read_parquet(records_path, engine, spark_master)
        check_extract(table, records_path.name)
        return RecordSource(table, services_frame, engine, name)
    known = set(services_frame["service_code"])
    checked = validate(
        open_upload(records_path), "records", known_services=known, upload_date=upload_date
    )
    if not checked.ok:
        raise ValidationFailed(checked.issues)
    return source_from_frames(checked.frame, services_frame, name, engine, spark_master)
