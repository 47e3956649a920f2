"""The KPI engines timed by benchmarks/run.py, each beside its floor measured the same way.

Every engine computes every KPI by service and quarter for one year of records. Its floor is the
least that engine can do over the same rows: a bare grouped count by service and month with one
day difference from the fracture (SQLite and PostgreSQL over the stored table; DuckDB and Spark
reading the same Parquet file, whose read time is part of both).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Each timing is the best of this many runs (`run.py --repeat`): the machine is shared, and the
# best run is the one least disturbed.
REPEAT = 3


def best(run: Callable[[], float]) -> float:
    return min(run() for _ in range(REPEAT))


PERIOD = "2024"
START, END = "2024-01-01", "2024-12-31"
SERVICES = 77
ROWS = SERVICES * 4 * 19  # services x quarters x KPIs

FLOOR_SQL = {
    "sqlite": (
        "SELECT service_code, substr(date_fracture_diagnosed, 1, 7) AS month, count(*), "
        "sum(julianday(date_dxa) - julianday(date_fracture_diagnosed) BETWEEN 0 AND 90) "
        "FROM records WHERE date_fracture_diagnosed BETWEEN ? AND ? GROUP BY 1, 2"
    ),
    "postgres": (
        "SELECT service_code, extract(month FROM date_fracture_diagnosed) AS month, count(*), "
        "count(*) FILTER (WHERE date_dxa - date_fracture_diagnosed BETWEEN 0 AND 90) "
        "FROM records WHERE date_fracture_diagnosed BETWEEN %s AND %s GROUP BY 1, 2"
    ),
    "duckdb": (
        "SELECT service_code, month(date_fracture_diagnosed) AS month, count(*), "
        "count(*) FILTER (WHERE date_dxa - date_fracture_diagnosed BETWEEN 0 AND 90) "
        "FROM read_parquet('{path}') WHERE date_fracture_diagnosed BETWEEN '{start}' AND '{end}' "
        "GROUP BY 1, 2"
    ),
    "spark": (
        "SELECT service_code, month(date_fracture_diagnosed) AS month, count(*), "
        "count_if(datediff(date_dxa, date_fracture_diagnosed) BETWEEN 0 AND 90) "
        "FROM records WHERE date_fracture_diagnosed BETWEEN DATE'{start}' AND DATE'{end}' "
        "GROUP BY 1, 2"
    ),
}


def services_frame(folder: Path) -> Any:
    from flsdb.ingest import validate_file

    return validate_file(folder / "services.csv", "services").frame.drop("_row").to_pandas()


def kpi_run(source: object, as_of: str) -> float:
    from flsdb.kpi import KpiRequest, compute_kpis, parse_period

    request = KpiRequest(
        parse_period(PERIOD), by="service", interval="quarter", as_of=dt.date.fromisoformat(as_of)
    )
    start = time.perf_counter()
    result = compute_kpis(source, request)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    assert len(result.table) == ROWS, len(result.table)
    return elapsed


def store_kpis(url: str, as_of: str) -> dict[str, float]:
    """SQLite or PostgreSQL: the store's own engine (no copy)."""
    from flsdb.kpi.sources import source_from_database

    source = source_from_database(url)
    return {"seconds": best(lambda: kpi_run(source, as_of))}


def sqlite_floor(path: Path) -> dict[str, float]:
    import sqlite3

    conn = sqlite3.connect(path)

    def once() -> float:
        start = time.perf_counter()
        rows = conn.execute(FLOOR_SQL["sqlite"], (START, END)).fetchall()
        assert rows
        return time.perf_counter() - start

    try:
        return {"seconds": best(once)}
    finally:
        conn.close()


def postgres_floor(url: str) -> dict[str, float]:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:

        def once() -> float:
            start = time.perf_counter()
            rows = conn.execute(FLOOR_SQL["postgres"], (START, END)).fetchall()  # type: ignore[arg-type]
            assert rows
            return time.perf_counter() - start

        return {"seconds": best(once)}


def duckdb_kpis(folder: Path, as_of: str) -> dict[str, float]:
    """Opening the Parquet file (its schema checked) and computing, as `flsdb kpis` does."""
    from flsdb.kpi.sources import RecordSource, check_extract, duckdb_connection

    services = services_frame(folder)

    def once() -> float:
        start = time.perf_counter()
        table = duckdb_connection().read_parquet(str(folder / "records.parquet"), table_name="r")
        check_extract(table, "records.parquet")
        source = RecordSource(table, services, "duckdb", "parquet")
        kpi_run(source, as_of)
        return time.perf_counter() - start

    return {"seconds": best(once)}


def duckdb_floor(folder: Path) -> dict[str, float]:
    import duckdb

    path = folder / "records.parquet"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")

    def once() -> float:
        start = time.perf_counter()
        rows = con.execute(FLOOR_SQL["duckdb"].format(path=path, start=START, end=END)).fetchall()
        assert rows
        return time.perf_counter() - start

    return {"seconds": best(once)}


def spark_kpis(folder: Path, as_of: str) -> dict[str, float]:
    """A local session on every core (its start timed apart), then the KPIs, then the floor
    on the warm session (conservative for the KPIs: they pay the JVM's warm-up)."""
    from flsdb.kpi.sources import RecordSource, check_extract
    from flsdb.kpi.spark import read_parquet, spark_session

    services = services_frame(folder)
    start = time.perf_counter()
    session = spark_session()
    started = time.perf_counter() - start

    def kpis() -> float:
        start = time.perf_counter()
        table = read_parquet(folder / "records.parquet")
        check_extract(table, "records.parquet")
        source = RecordSource(table, services, "spark", "parquet")
        kpi_run(source, as_of)
        return time.perf_counter() - start

    def floor() -> float:
        start = time.perf_counter()
        frame = session.read.parquet(str((folder / "records.parquet").resolve()))
        frame.createOrReplaceTempView("records")
        rows = session.sql(FLOOR_SQL["spark"].format(start=START, end=END)).collect()
        assert rows
        return time.perf_counter() - start

    first = kpis()
    return {
        "seconds": min(first, best(kpis)),
        "first_seconds": first,
        "session_seconds": started,
        "floor": best(floor),
    }


def bulk_load(url: str, folder: Path) -> dict[str, float]:
    """Fill a store with the Parquet records without `flsdb import` (for sizes whose import is
    not timed): ADBC ingest on SQLite, COPY of CSV text on PostgreSQL; the day offsets set as
    every writer sets them."""
    import io

    import polars as pl
    import pyarrow.parquet as pq

    from flsdb.ingest import open_upload, validate
    from flsdb.storage import open_engine, store_services
    from flsdb.storage.bulk import bulk_session
    from flsdb.storage.offsets import offset_exprs

    engine = open_engine(url)
    store_services(engine, validate(open_upload(folder / "services.csv"), "services"))
    now = dt.datetime.now()
    start = time.perf_counter()
    with bulk_session(engine) as session:
        for batch in pq.ParquetFile(folder / "records.parquet").iter_batches(500_000):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            frame = frame.with_columns(
                created_at=pl.lit(now), updated_at=pl.lit(now), version=pl.lit(1), **offset_exprs()
            )
            if engine.dialect.name == "sqlite":
                session.insert("records", frame)
                continue
            text = io.BytesIO()
            frame.write_csv(text, include_header=False, date_format="%Y-%m-%d")
            conn = session.conn.connection.dbapi_connection  # type: ignore[attr-defined]
            columns = ", ".join(f'"{c}"' for c in frame.columns)
            with (
                conn.cursor() as cursor,
                cursor.copy(f"COPY records ({columns}) FROM STDIN WITH (FORMAT csv)") as copy,
            ):
                copy.write(text.getvalue())
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE records")
    # Written behind the writers' backs: the maintained figures are rebuilt, as
    # `flsdb db rebuild-figures` does (every KPI of a store reads them).
    from flsdb.kpi.cells import store_layout
    from flsdb.storage.figures import rebuild_figures

    rebuild_figures(engine, store_layout())
    return {"seconds": time.perf_counter() - start}
