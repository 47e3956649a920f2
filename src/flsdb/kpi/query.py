"""One aggregate query per request: every measure's counts per service, sub-period and group."""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd

from flsdb.kpi import count_columns
from flsdb.kpi.catalogue import Catalogue, Measure
from flsdb.kpi.compile import FRACTURE, Compiler, whole_years, year_and_month

AGE_BANDS = ("50-64", "65-74", "75-84", "85+")
NOT_RECORDED = "not_recorded"


def age_band(table: ir.Table) -> ir.StringValue:
    return band(whole_years(table["date_of_birth"], table[FRACTURE]))


def band(age: ir.IntegerValue) -> ir.StringValue:
    """The age band of completed years (an unknown age is in the last band)."""
    return ibis.cases(
        (age < 65, AGE_BANDS[0]),
        (age < 75, AGE_BANDS[1]),
        (age < 85, AGE_BANDS[2]),
        else_=AGE_BANDS[3],
    )


def breakdown_column(table: ir.Table, by: str) -> ir.StringValue | None:
    """The section-5 breakdowns: age band, sex and care home residence."""
    if by == "age_band":
        return age_band(table)
    if by == "sex":
        return table["sex"].fill_null(NOT_RECORDED)
    if by == "care_home":
        return table["care_home_resident"].fill_null(NOT_RECORDED)
    return None


def measure_aggregates(
    measure: Measure, compiler: Compiler, catalogue: Catalogue
) -> dict[str, ir.Scalar]:
    """Named counts for one measure; combined into results downstream."""
    out: dict[str, ir.Scalar] = {}
    if measure.kind == "completeness":
        for key in measure.key_fields:
            missing = compiler.missing(key.column)
            if key.applicable is None:  # applies to every record: the count is `records`
                out[count_columns.missing(measure.id, key.column)] = compiler.count(missing)
                continue
            applicable = compiler(key.applicable)
            out[count_columns.applies(measure.id, key.column)] = compiler.count(applicable)
            out[count_columns.missing(measure.id, key.column)] = compiler.count(
                applicable & missing
            )
        return out
    if measure.kind == "caseload":
        for part_id, part in measure.parts.items():
            out[count_columns.records(part_id)] = compiler.count(compiler(part.records))
        return out
    base = compiler(measure.denominator)
    if measure.due is not None:
        due = compiler.due(measure.due)
        out[count_columns.not_due(measure.id)] = compiler.count(base & ~due)
        base = base & due
    out[count_columns.denominator(measure.id)] = compiler.count(base)
    out[count_columns.numerator(measure.id)] = compiler.count(base & compiler(measure.numerator))
    return out


def count_query(
    table: ir.Table,
    backend: str,
    catalogue: Catalogue,
    measures: tuple[Measure, ...],
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    by: str,
    services: list[str] | None = None,
) -> tuple[ir.Table, dict[str, str]]:
    """The counts as one query, and each count's column in it: several counts are the same
    count (every KPI counting all records, say), computed once and copied."""
    in_period = (table[FRACTURE] >= ibis.literal(start)) & (table[FRACTURE] <= ibis.literal(end))
    scoped = table.filter(in_period)
    if services is not None:
        scoped = scoped.filter(scoped["service_code"].isin(services))
    collector = Compiler.collecting(scoped, catalogue, as_of, backend)
    for measure in measures:
        measure_aggregates(measure, collector, catalogue)
    compiler = collector.with_leaves()
    scoped = compiler.table
    # Counts are additive: the engine groups by month and periods are built from months downstream.
    year, month = year_and_month(scoped[FRACTURE], backend)
    keys: dict[str, ir.Value] = {
        "service_code": scoped["service_code"],
        "year": year,
        "month": month,
    }
    group = breakdown_column(scoped, by)
    if group is not None:
        keys["group"] = group
    aggregates: dict[str, ir.Scalar] = {"records": scoped.count()}
    for measure in measures:
        aggregates.update(measure_aggregates(measure, compiler, catalogue))
    distinct: dict[object, str] = {}
    for name, expr in aggregates.items():
        distinct.setdefault(expr.op(), name)
    query = scoped.group_by(**keys).aggregate(**{n: aggregates[n] for n in distinct.values()})
    return query, {name: distinct[expr.op()] for name, expr in aggregates.items()}


def run_counts(query: ir.Table, columns: dict[str, str]) -> pd.DataFrame:
    """Run a `count_query` inside the engine; one row per service, month and breakdown group,
    with every count as a column."""
    return counts_frame(query.execute(), columns)


def counts_frame(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """A `count_query`'s rows (its result as fetched) with every count as a column, counts as
    whole numbers (an engine's empty sum is 0). The tests run a query compiled once on the
    records of each example (tests/storage/test_figures.py) and shape its rows here."""
    keys = [c for c in frame.columns if c not in columns]
    counts = frame[[c for c in frame.columns if c in columns]].fillna(0).astype("int64")
    # The counts computed once, copied under their other names (in one step: a column added at
    # a time costs pandas a block each, 19 ms instead of 4 for the catalogue's 60-odd counts).
    copies = [name for name in columns if name not in frame.columns]
    copied = counts[[columns[name] for name in copies]].set_axis(copies, axis="columns")
    shaped = pd.concat([frame[keys], counts, copied], axis="columns")
    return shaped[[*frame.columns, *copies]]
