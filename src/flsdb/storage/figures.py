"""The maintained figures: KPI counts per FLS and fracture date, kept exact as records change.

`kpi_cells` holds, per FLS, fracture date and breakdown group (all records; each age band, sex
and care home group), how many records satisfy each of the catalogue's counts with no `due` in
it (`flsdb.kpi.terms`: the columns `c0`, `c1`..., and `records`). The "due" conditions are
applied when the figures are read (`flsdb.kpi.stored`), from the fracture dates, so the cells
never depend on the extract date.

Maintenance is by deltas, as incremental view maintenance keeps an aggregate (pg_ivm, DBSP: a
count is a sum of +1 and -1 per record): every write subtracts the contributions of the records
it changes, as they were, and adds them as they are, in the write's own transaction, so a failed
write changes no figure. A contribution is one SQL statement over the records written (compiled
from the catalogue by the KPI compiler, like every KPI query), grouped by cell and upserted, so
an import is maintained set-based too. A cell whose records all left keeps zeros (read as none).

`kpi_cells_layout` holds the signature of the columns' meaning (`Layout.signature`): a store
whose figures were kept under another catalogue has them rebuilt (`flsdb db rebuild-figures`,
run by migrations); until then its figures are not maintained nor read (the KPIs are computed
from the records).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from flsdb.storage.tables import CELLS, LAYOUT, cells_table, layout_table, records
from flsdb.storage.tables import metadata as models

if TYPE_CHECKING:
    pass

BREAKDOWNS = ("age_band", "sex", "care_home")
KEY = ("service_code", "fracture_date", "breakdown", "grp")
# The records a contribution reads: a marker replaced by a subquery of the records written.
_SOURCE = "flsdb_cells_source"

Run = Callable[[str], object]


def _ibis_type(column: sa.Column[Any]) -> Any:
    import ibis.expr.datatypes as dt_types

    kind = column.type
    if isinstance(kind, sa.DateTime):
        return dt_types.timestamp
    if isinstance(kind, sa.Date):
        return dt_types.date
    if isinstance(kind, sa.Integer):
        return dt_types.int64
    if isinstance(kind, sa.Float):
        return dt_types.float64
    if isinstance(kind, sa.Boolean):
        return dt_types.boolean
    return dt_types.string


@cache
def _fine_sql(dialect: str) -> str:
    """Per FLS, fracture date and breakdown groups: the records and each column's count, over
    the records of `_SOURCE` (compiled from the catalogue for this dialect)."""
    import ibis

    from flsdb.kpi.catalogue import load_catalogue
    from flsdb.kpi.compile import FRACTURE, Compiler, year_and_month
    from flsdb.kpi.query import band, breakdown_column
    from flsdb.kpi.terms import catalogue_layout, compile_term

    backend = "sqlite" if dialect == "sqlite" else "postgres"
    layout = catalogue_layout()
    schema = ibis.schema({c.name: _ibis_type(c) for c in records.columns})
    table = ibis.table(schema, name=_SOURCE)
    # Completed years as one integer difference of the dates as YYYYMMDD (the same years as
    # `kpi.compile.whole_years`, computed once per row; SQLite keeps dates as ISO text).
    table = table.mutate(
        _age=(_ymd(table["date_of_birth"], backend) * -1 + _ymd(table[FRACTURE], backend)) // 10000
    )
    # No `due` is left in a layout's terms, so the extract date is never read.
    collector = Compiler.collecting(table, load_catalogue(), dt.date(2000, 1, 1), backend)
    for term in layout.terms:
        compile_term(term, collector)
    compiler = collector.with_leaves()
    rows = compiler.table
    year, month = year_and_month(rows[FRACTURE], backend)
    keys = {
        "service_code": rows["service_code"],
        "fracture_date": rows[FRACTURE],
        "year": year,
        "month": month,
    }
    for name in BREAKDOWNS:
        column = band(rows["_age"]) if name == "age_band" else breakdown_column(rows, name)
        assert column is not None
        keys[name] = column
    counts = {"records": rows.count()}
    for name, term in zip(layout.columns, layout.terms, strict=True):
        counts[name] = compiler.count(compile_term(term, compiler))
    query = rows.group_by(**keys).aggregate(**counts)
    return str(ibis.to_sql(query, dialect=backend))


def _ymd(date: Any, backend: str) -> Any:
    if backend == "sqlite":
        return date.cast("string").replace("-", "").cast("int64")
    return date.year() * 10000 + date.month() * 100 + date.day()


def _rollup_sql(fine_sql: str, where: str, sign: int) -> str:
    """The cells' deltas (times `sign`) from the records matching `where`: all records and
    each breakdown, from one pass over them (`fine_sql`: `_fine_sql`)."""
    from flsdb.kpi.terms import catalogue_layout

    layout = catalogue_layout()
    source = f"(SELECT * FROM records WHERE {where})"
    fine = fine_sql.replace(f'"{_SOURCE}"', source)
    sums = ", ".join(f"{sign} * SUM({c})" for c in ("records", *layout.columns))
    parts = [
        f"SELECT service_code, fracture_date, '' AS breakdown, '' AS grp, year, month, {sums} "
        "FROM fine GROUP BY service_code, fracture_date, year, month"
    ]
    for name in BREAKDOWNS:
        parts.append(
            f"SELECT service_code, fracture_date, '{name}', {name}, year, month, {sums} "
            f"FROM fine GROUP BY service_code, fracture_date, year, month, {name}"
        )
    return f"WITH fine AS MATERIALIZED ({fine}) " + " UNION ALL ".join(parts)


def _upsert_sql(fine_sql: str, where: str, sign: int) -> str:
    from flsdb.kpi.terms import catalogue_layout

    layout = catalogue_layout()
    counts = ("records", *layout.columns)
    columns = ", ".join((*KEY, "year", "month", *counts))
    updates = ", ".join(f"{c} = {CELLS}.{c} + excluded.{c}" for c in counts)
    return (
        f"INSERT INTO {CELLS} ({columns}) SELECT * FROM ({_rollup_sql(fine_sql, where, sign)}) "
        f"AS deltas WHERE true ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {updates}"
    )


def ids_where(ids: Iterable[int]) -> str | None:
    """A records filter for these ids (None: no record)."""
    found = sorted({int(i) for i in ids})
    return f"id IN ({', '.join(str(i) for i in found)})" if found else None


def stored_query(
    run_rows: Callable[[str], list[tuple[object, ...]]], dialect: str = "sqlite"
) -> str | None:
    """The store's contributions query when its figures follow the catalogue; None otherwise
    (then they are neither kept nor read), as in a store not migrated to 0010 yet."""
    from flsdb.kpi.terms import catalogue_layout

    exists = (
        f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{LAYOUT}'"
        if dialect == "sqlite"
        else f"SELECT count(*) FROM (SELECT to_regclass('{LAYOUT}') AS found) AS t "
        "WHERE found IS NOT NULL"
    )
    if not run_rows(exists)[0][0]:
        return None
    rows = run_rows(f"SELECT signature, contributions FROM {LAYOUT}")
    if len(rows) != 1 or str(rows[0][0]) != catalogue_layout().signature:
        return None
    return str(rows[0][1])


def current(run_rows: Callable[[str], list[tuple[object, ...]]], dialect: str = "sqlite") -> bool:
    """Whether the store's figures follow the catalogue."""
    return stored_query(run_rows, dialect) is not None


class Maintainer:
    """The figures' maintenance inside one write transaction: `before(where)` ahead of changing
    the matching records, `after(where)` once they are written; nothing when the store's
    figures do not follow the catalogue (they are rebuilt first)."""

    def __init__(
        self,
        run: Run,
        run_rows: Callable[[str], list[tuple[object, ...]]],
        dialect: str,
    ) -> None:
        self.run = run
        self.dialect = dialect
        self.fine = stored_query(run_rows, dialect)

    def before(self, where: str | None) -> None:
        """Subtract the contributions of the records matching `where` (before changing them)."""
        if self.fine is not None and where is not None:
            self.run(_upsert_sql(self.fine, where, -1))

    def after(self, where: str | None) -> None:
        """Add the contributions of the records matching `where` (once written)."""
        if self.fine is not None and where is not None:
            self.run(_upsert_sql(self.fine, where, 1))


def for_connection(conn: sa.Connection) -> Maintainer:
    """A maintainer running on a SQLAlchemy connection (the form's and API's writes)."""

    def run(sql: str) -> object:
        return conn.exec_driver_sql(_escaped(sql, conn.dialect.name))

    def rows(sql: str) -> list[tuple[object, ...]]:
        return [tuple(r) for r in conn.exec_driver_sql(sql).fetchall()]

    return Maintainer(run, rows, conn.dialect.name)


def _escaped(sql: str, dialect: str) -> str:
    """psycopg reads `%` as a parameter mark even without parameters passed by SQLAlchemy."""
    return sql.replace("%", "%%") if dialect != "sqlite" else sql


def for_session(session: object, dialect: str) -> Maintainer:
    """A maintainer running in a bulk session (imports, deletes by key)."""
    execute = session.execute  # type: ignore[attr-defined]
    pg = dialect != "sqlite"

    def run(sql: str) -> object:
        return execute(sql.replace("%", "%%") if pg else sql)

    return Maintainer(run, lambda sql: list(execute(sql)), dialect)


def rebuild(run: Run, dialect: str) -> None:
    """Every cell computed afresh from the records, under the current catalogue's layout (the
    table is made again: its columns follow the catalogue). In the caller's transaction."""
    from flsdb.kpi.terms import catalogue_layout

    layout = catalogue_layout()
    run(f"DROP TABLE IF EXISTS {CELLS}")
    run(f"DROP TABLE IF EXISTS {LAYOUT}")

    metadata = sa.MetaData(naming_convention=models.naming_convention)
    cells = cells_table(layout, metadata)
    dialect_obj = _dialect(dialect)
    for table in (cells, layout_table(metadata)):
        run(str(sa.schema.CreateTable(table).compile(dialect=dialect_obj)))
    if dialect != "sqlite":
        # Writers wait while the figures are rebuilt (their deltas would otherwise be lost).
        run("LOCK TABLE records IN SHARE MODE")
    fine = _fine_sql(dialect)
    run(_escaped(_upsert_sql(fine, "1 = 1", 1), dialect))
    text = fine.replace("'", "''")
    run(_escaped(f"INSERT INTO {LAYOUT} VALUES ('{layout.signature}', '{text}')", dialect))


def _dialect(name: str) -> sa.Dialect:
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.dialect()
    from sqlalchemy.dialects import postgresql

    return postgresql.dialect()


def rebuild_figures(engine: sa.Engine) -> int:
    """`flsdb db rebuild-figures`: the cells rebuilt in one transaction; how many there are."""
    from flsdb.storage.transactions import write_transaction

    with write_transaction(engine) as conn:
        rebuild(lambda sql: conn.exec_driver_sql(sql), engine.dialect.name)
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {CELLS}").scalar_one())
