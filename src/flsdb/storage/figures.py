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

What the cells are is handed to storage by the KPI layer (`CellLayout`, given by
`flsdb.kpi.cells.store_layout`): the columns, their signature and the contributions query
compiled for the database; storage never reads the catalogue. `kpi_cells_layout` keeps the
signature and the contributions query of the layout the cells were built under, so a writer
maintains the cells by what the store says they are (no compiler loaded), and a reader whose
catalogue has another signature does not read them (the KPIs are computed from the records)
until `flsdb db rebuild-figures` builds them again. Migration 0010, which first built them,
uses the layout of its day kept beside it as data (`KeptLayout`), so storage never reaches up to
the KPI layer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from flsdb.storage.cell_months import build_months, drop_months
from flsdb.storage.tables import CELLS, LAYOUT, cells_table, layout_table
from flsdb.storage.tables import metadata as models
from flsdb.storage.transactions import write_transaction

BREAKDOWNS = ("age_band", "sex", "care_home")
KEY = ("service_code", "fracture_date", "breakdown", "grp")
# The records a contribution reads: a marker replaced by a subquery of the records written.
SOURCE = "flsdb_cells_source"

Run = Callable[[str], object]
RunRows = Callable[[str], list[tuple[object, ...]]]


def run_rows_of(engine: sa.Engine) -> RunRows:
    """SQL text run on `engine`, its rows as the driver gives them (tuples already: no
    per-row conversion); for the figures' sums, which are many rows of a few numbers."""

    def run(sql: str) -> list[tuple[object, ...]]:
        with engine.connect() as conn:
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(sql)
                return list(cursor.fetchall())
            finally:
                cursor.close()

    return run


class CellLayout(Protocol):
    """What the cells are, as the layer that knows the KPIs hands it to storage."""

    @property
    def signature(self) -> str:
        """Changes whenever the columns would mean something else."""
        ...

    @property
    def columns(self) -> tuple[str, ...]:
        """The count columns, besides `records`."""
        ...

    def contributions(self, dialect: str) -> str:
        """Per FLS, fracture date, year, month and breakdown group (columns named as in
        `BREAKDOWNS`): `records` and each column's count over the records of `SOURCE`."""
        ...


@dataclass(frozen=True)
class KeptLayout:
    """A layout kept as data: what the cells were when a migration was written (a migration
    builds what it was written for, never from the catalogue of the day)."""

    signature: str
    columns: tuple[str, ...]
    queries: dict[str, str]  # the contributions query by dialect ("sqlite", "postgresql")

    def contributions(self, dialect: str) -> str:
        return self.queries[dialect]


def layout_json(layout: CellLayout, dialects: tuple[str, ...] = ("sqlite", "postgresql")) -> str:
    """A layout as JSON, to keep beside a migration (read back by `layout_from_json`)."""
    queries = {d: layout.contributions(d) for d in dialects}
    kept = {"signature": layout.signature, "columns": list(layout.columns), "queries": queries}
    return json.dumps(kept, indent=1) + "\n"


def layout_from_json(text: str) -> KeptLayout:
    kept = json.loads(text)
    return KeptLayout(str(kept["signature"]), tuple(kept["columns"]), dict(kept["queries"]))


def _rollup_sql(fine_sql: str, where: str, sign: int, columns: tuple[str, ...]) -> str:
    """The cells' deltas (times `sign`) from the records matching `where`: all records and
    each breakdown, from one pass over them (`fine_sql`: the contributions query)."""
    source = f"(SELECT * FROM records WHERE {where})"
    fine = fine_sql.replace(f'"{SOURCE}"', source)
    sums = ", ".join(f"{sign} * SUM({c})" for c in ("records", *columns))
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


def _upsert_sql(fine_sql: str, where: str, sign: int, columns: tuple[str, ...]) -> str:
    counts = ("records", *columns)
    names = ", ".join((*KEY, "year", "month", *counts))
    updates = ", ".join(f"{c} = {CELLS}.{c} + excluded.{c}" for c in counts)
    return (
        f"INSERT INTO {CELLS} ({names}) SELECT * FROM "
        f"({_rollup_sql(fine_sql, where, sign, columns)}) "
        f"AS deltas WHERE true ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {updates}"
    )


def ids_where(ids: Iterable[int]) -> str | None:
    """A records filter for these ids (None: no record)."""
    found = sorted({int(i) for i in ids})
    return f"id IN ({', '.join(str(i) for i in found)})" if found else None


def stored_layout(run_rows: RunRows, dialect: str = "sqlite") -> tuple[str, str] | None:
    """The signature and contributions query of the layout the cells were built under; None
    when the store keeps no figures (as a store not migrated to 0010 yet)."""
    exists = (
        f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{LAYOUT}'"
        if dialect == "sqlite"
        else f"SELECT count(*) FROM (SELECT to_regclass('{LAYOUT}') AS found) AS t "
        "WHERE found IS NOT NULL"
    )
    if not run_rows(exists)[0][0]:
        return None
    rows = run_rows(f"SELECT signature, contributions FROM {LAYOUT}")
    if len(rows) != 1:
        return None
    return str(rows[0][0]), str(rows[0][1])


def current(run_rows: RunRows, dialect: str, signature: str) -> bool:
    """Whether the store's figures were built under the layout of this signature."""
    found = stored_layout(run_rows, dialect)
    return found is not None and found[0] == signature


_COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {}  # (dialect, signature): a few at most


def _stored_columns(run_rows: RunRows, dialect: str, signature: str) -> tuple[str, ...]:
    """The cells' count columns, as the store's table has them (the same for a signature)."""
    found = _COLUMNS.get((dialect, signature))
    if found is None:
        sql = (
            f"SELECT name FROM pragma_table_info('{CELLS}') ORDER BY cid"
            if dialect == "sqlite"
            else "SELECT column_name FROM information_schema.columns WHERE table_name = "
            f"'{CELLS}' AND table_schema = current_schema() ORDER BY ordinal_position"
        )
        names = [str(r[0]) for r in run_rows(sql)]
        found = tuple(n for n in names if n.startswith("c") and n[1:].isdigit())
        if len(_COLUMNS) >= 16:
            _COLUMNS.clear()
        _COLUMNS[(dialect, signature)] = found
    return found


# A record's id in the statement a single-record write runs (`Maintainer.before_record`):
# passed as a parameter, so that the statement's text is the same for every record and a
# connection prepares it once (SQLite's planning of its 11,000 characters, some 6 ms, was most
# of an edit's CPU time when its text held the id).
RECORD_ID = "flsdb_record_id"
RunWithId = Callable[[str, int], object]


@lru_cache(maxsize=16)  # a few layouts at most, each with its two signs
def _record_sql(fine: str, sign: int, columns: tuple[str, ...]) -> str:
    return _upsert_sql(fine, f"id = {RECORD_ID}", sign, columns)


class Maintainer:
    """The figures' maintenance inside one write transaction: `before(where)` ahead of changing
    the matching records, `after(where)` once they are written (`before_record` and
    `after_record` for one record), by the layout the store's cells were built under; nothing
    when the store keeps none."""

    def __init__(
        self, run: Run, run_rows: RunRows, dialect: str, run_with_id: RunWithId | None = None
    ) -> None:
        self.run = run
        self.run_with_id = run_with_id
        self.dialect = dialect
        found = stored_layout(run_rows, dialect)
        self.fine = found[1] if found else None
        self.columns = _stored_columns(run_rows, dialect, found[0]) if found else ()

    def before_record(self, record_id: int) -> None:
        """`before` for one record, by its id."""
        self._record(int(record_id), -1)

    def after_record(self, record_id: int) -> None:
        """`after` for one record, by its id."""
        self._record(int(record_id), 1)

    def _record(self, record_id: int, sign: int) -> None:
        if self.fine is None:
            return
        sql = _record_sql(self.fine, sign, self.columns)
        if self.run_with_id is None:
            self.run(sql.replace(RECORD_ID, str(record_id)))
        else:
            self.run_with_id(sql, record_id)

    def before(self, where: str | None) -> None:
        """Subtract the contributions of the records matching `where` (before changing them)."""
        if self.fine is not None and where is not None:
            self.run(_upsert_sql(self.fine, where, -1, self.columns))

    def after(self, where: str | None) -> None:
        """Add the contributions of the records matching `where` (once written)."""
        if self.fine is not None and where is not None:
            self.run(_upsert_sql(self.fine, where, 1, self.columns))


def for_connection(conn: sa.Connection) -> Maintainer:
    """A maintainer running on a SQLAlchemy connection (the form's and API's writes)."""

    def run(sql: str) -> object:
        return conn.exec_driver_sql(_escaped(sql, conn.dialect.name))

    def rows(sql: str) -> list[tuple[object, ...]]:
        return [tuple(r) for r in conn.exec_driver_sql(sql).fetchall()]

    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(conn.dialect.paramstyle)

    def run_with_id(sql: str, record_id: int) -> object:
        return conn.exec_driver_sql(
            _escaped(sql, conn.dialect.name).replace(RECORD_ID, str(mark)), (record_id,)
        )

    return Maintainer(run, rows, conn.dialect.name, run_with_id if mark else None)


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


def rebuild(run: Run, dialect: str, layout: CellLayout, months: bool = True) -> None:
    """Every cell computed afresh from the records, under `layout` (the table is made again:
    its columns follow the layout), and (`months`) their sums by month
    (`storage.cell_months`). In the caller's transaction."""
    drop_months(run, dialect)
    run(f"DROP TABLE IF EXISTS {CELLS}")
    run(f"DROP TABLE IF EXISTS {LAYOUT}")

    metadata = sa.MetaData(naming_convention=models.naming_convention)
    cells = cells_table(layout.columns, metadata)
    dialect_obj = _dialect(dialect)
    for table in (cells, layout_table(metadata)):
        run(str(sa.schema.CreateTable(table).compile(dialect=dialect_obj)))
    if dialect != "sqlite":
        # Writers wait while the figures are rebuilt (their deltas would otherwise be lost).
        run("LOCK TABLE records IN SHARE MODE")
    fine = layout.contributions(dialect)
    run(_escaped(_upsert_sql(fine, "1 = 1", 1, layout.columns), dialect))
    text = fine.replace("'", "''")
    run(_escaped(f"INSERT INTO {LAYOUT} VALUES ('{layout.signature}', '{text}')", dialect))
    if months:
        build_months(run, dialect, layout.columns)


def _dialect(name: str) -> sa.Dialect:
    if name == "sqlite":
        return sqlite.dialect()

    return postgresql.dialect()


def rebuild_figures(engine: sa.Engine, layout: CellLayout) -> int:
    """`flsdb db rebuild-figures`: the cells rebuilt in one transaction; how many there are."""
    with write_transaction(engine) as conn:
        rebuild(lambda sql: conn.exec_driver_sql(sql), engine.dialect.name, layout)
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {CELLS}").scalar_one())
