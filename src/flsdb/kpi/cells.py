"""The maintained figures' layout as the store receives it (`flsdb.storage.figures.CellLayout`):
the catalogue's terms as the cells' columns (`flsdb.kpi.terms`), their signature, and the
contributions query compiled by the KPI compiler for each database. Storage keeps and runs what
it is handed; it never reads the catalogue itself."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

import ibis
import ibis.expr.datatypes as dt_types
import sqlalchemy as sa

from flsdb.kpi.catalogue import load_catalogue
from flsdb.kpi.compile import FRACTURE, Compiler, year_and_month
from flsdb.kpi.query import band, breakdown_column
from flsdb.kpi.results import BREAKDOWNS
from flsdb.kpi.terms import Layout, catalogue_layout, compile_term
from flsdb.storage.figures import BREAKDOWNS as CELL_BREAKDOWNS
from flsdb.storage.figures import SOURCE
from flsdb.storage.tables import records

assert tuple(CELL_BREAKDOWNS) == tuple(BREAKDOWNS)  # the cells' groups are the KPIs' breakdowns


@dataclass(frozen=True)
class StoreLayout:
    """The packaged catalogue's cells, as `flsdb.storage.figures` takes them."""

    layout: Layout

    @property
    def signature(self) -> str:
        return self.layout.signature

    @property
    def columns(self) -> tuple[str, ...]:
        return self.layout.columns

    def contributions(self, dialect: str) -> str:
        return _fine_sql(dialect)


@cache
def store_layout() -> StoreLayout:
    """The layout of the packaged catalogue, for the store."""
    return StoreLayout(catalogue_layout())


def _ibis_type(column: sa.Column[Any]) -> Any:
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
    the records of `SOURCE` (compiled from the catalogue for this dialect)."""
    backend = "sqlite" if dialect == "sqlite" else "postgres"
    layout = catalogue_layout()
    schema = ibis.schema({c.name: _ibis_type(c) for c in records.columns})
    table = ibis.table(schema, name=SOURCE)
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
