"""The engine's counts read from a store's maintained figures (`flsdb.storage.figures`).

The cells hold, per FLS, fracture date and breakdown group, the records satisfying each of the
layout's terms (`flsdb.kpi.terms`). A count for an extract date reads, for each fracture date,
the column of its due state: which windows (90 days, 16 and 52 weeks) have passed between the
fracture and the extract date. So every KPI for any period and extract date is one small sum
over the cells of the period, with the same columns as `kpi.query.run_counts` gives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import closing
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flsdb.kpi.results import BREAKDOWNS
from flsdb.kpi.terms import Layout, catalogue_layout
from flsdb.storage.figures import current

if TYPE_CHECKING:
    from flsdb.kpi.sources import RecordSource

Fetch = Callable[[str], list[tuple[Any, ...]]]


def _day(value: dt.date, dialect: str) -> str:
    text = f"'{value.isoformat()}'"
    return text if dialect == "sqlite" else f"DATE {text}"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _column(index: int | None) -> str:
    return "records" if index == -1 else ("0" if index is None else f"c{index}")


def _sum(reads: tuple[int | None, ...], layout: Layout, as_of: dt.date, dialect: str) -> str:
    """The sum of a count: per fracture date, the column of its due state."""
    if len(set(reads)) == 1:
        return f"SUM({_column(reads[0])})"
    cases = []
    for state in range(len(reads) - 1, 0, -1):  # the most windows passed first
        cutoff = as_of - dt.timedelta(days=layout.cutoffs[state - 1])
        cases.append(f"WHEN fracture_date <= {_day(cutoff, dialect)} THEN {_column(reads[state])}")
    return f"SUM(CASE {' '.join(cases)} ELSE {_column(reads[0])} END)"


def _state(day: dt.date, as_of: dt.date, layout: Layout) -> int:
    """The due state of a fracture date: how many windows have passed by the extract date."""
    return sum(1 for days in layout.cutoffs if day <= as_of - dt.timedelta(days=days))


def _month_end(year: int, month: int) -> dt.date:
    after = dt.date(year + month // 12, month % 12 + 1, 1)
    return after - dt.timedelta(days=1)


def month_ranges(
    start: dt.date, end: dt.date, as_of: dt.date, layout: Layout
) -> list[tuple[int, int, int | None]]:
    """The months of start to end (whole months) as runs of month numbers (year * 12 + month
    - 1), each with the due state of all its fracture dates, or None for a month a cutoff
    splits (read from the cells by date)."""
    runs: list[tuple[int, int, int | None]] = []
    for number in range(start.year * 12 + start.month - 1, end.year * 12 + end.month):
        year, month = divmod(number, 12)
        first, last = dt.date(year, month + 1, 1), _month_end(year, month + 1)
        state = _state(first, as_of, layout)
        found = state if state == _state(last, as_of, layout) else None
        if runs and runs[-1][2] == found and found is not None:
            runs[-1] = (runs[-1][0], number, found)
        else:
            runs.append((number, number, found))
    return runs


def _whole_months(start: dt.date, end: dt.date) -> bool:
    return start.day == 1 and end == _month_end(end.year, end.month)


def counts_sql(
    dialect: str,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    by: str,
    services: list[str] | None,
    layout: Layout,
    by_service: bool = True,
) -> tuple[str, dict[str, str]]:
    """The query, and each count's column in it (counts reading the same columns share one);
    a breakdown's counts summed over every FLS unless `by_service` (service_code '').

    Whole months read the cells summed by month (`kpi_cells_month`) where every fracture date
    of the month is in one due state, and the cells themselves in the months a cutoff splits
    (at most one per cutoff): the same sums, over a thirtieth of the rows."""
    breakdown = by if by in BREAKDOWNS else ""
    keys = ["service_code", "year", "month"] + (['grp AS "group"'] if breakdown else [])
    groups = ["service_code", "year", "month"] + (["grp"] if breakdown else [])
    if breakdown and not by_service:
        keys[0] = "'' AS service_code"
        groups = groups[1:]
    distinct: dict[tuple[int | None, ...], str] = {}
    for reads in layout.reads.values():
        distinct.setdefault(reads, f"s{len(distinct)}")
    where = [f"breakdown = '{breakdown}'"]
    if services is not None:
        where.append(f"service_code IN ({', '.join(_quoted(s) for s in services) or 'NULL'})")

    def select(table: str, sums: list[str], within: list[str]) -> str:
        return (
            f"SELECT {', '.join(keys)}, SUM(records) AS records, {', '.join(sums)} "
            f"FROM {table} WHERE {' AND '.join(where + within)} "
            f"GROUP BY {', '.join(groups)} HAVING SUM(records) <> 0"
        )

    def by_date(first: dt.date, last: dt.date) -> str:
        sums = [f"{_sum(r, layout, as_of, dialect)} AS {name}" for r, name in distinct.items()]
        within = [
            f"fracture_date >= {_day(first, dialect)}",
            f"fracture_date <= {_day(last, dialect)}",
        ]
        return select("kpi_cells", sums, within)

    columns = {name: distinct[reads] for name, reads in layout.reads.items()}
    if not _whole_months(start, end):
        return by_date(start, end), columns
    parts = []
    for first, last, state in month_ranges(start, end, as_of, layout):
        if state is None:
            day = dt.date(first // 12, first % 12 + 1, 1)
            parts.append(by_date(day, _month_end(last // 12, last % 12 + 1)))
            continue
        sums = [f"SUM({_column(r[state])}) AS {name}" for r, name in distinct.items()]
        within = [
            f"year >= {first // 12}",
            f"year <= {last // 12}",
            f"year * 12 + month - 1 >= {first}",
            f"year * 12 + month - 1 <= {last}",
        ]
        parts.append(select("kpi_cells_month", sums, within))
    return " UNION ALL ".join(parts), columns


def stored_counts(
    fetch: Fetch,
    dialect: str,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    by: str,
    services: list[str] | None = None,
    *,
    by_service: bool = True,
) -> pd.DataFrame | None:
    """The counts by service and month (and breakdown group) from the cells; None when the
    store's figures do not follow the catalogue (or the level is not a service's rollup).
    `by_service=False`: a breakdown's counts of every FLS together (service_code ''), for its
    KPI rows (a breakdown's rows sum its groups over the FLSs)."""
    if by not in ("service", "region", "nation", *BREAKDOWNS):
        return None
    layout = catalogue_layout()
    if not current(fetch, dialect, layout.signature):  # built for another: the engine answers
        return None
    sql, columns = counts_sql(dialect, start, end, as_of, by, services, layout, by_service)
    keys = ["service_code", "year", "month"] + (["group"] if by in BREAKDOWNS else [])
    sums = list(dict.fromkeys(columns.values()))
    rows = fetch(sql)
    # Column by column: the key columns as they come, the sums as one block of numbers (a
    # frame of several hundred columns, each read by name, cost more than the query).
    width = len(keys) + 1 + len(sums)
    read = list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]
    out = pd.DataFrame({key: list(read[number]) for number, key in enumerate(keys)})
    out["service_code"] = out["service_code"].astype(str)
    out["year"] = out["year"].astype("int64")
    out["month"] = out["month"].astype("int64")
    if "group" in out.columns:
        out["group"] = out["group"].astype(str)
    position = {column: len(keys) + number for number, column in enumerate(["records", *sums])}
    wanted = [position["records"], *(position[column] for column in columns.values())]
    # (A NULL sum, no cell, is 0; counts are whole numbers, exact as floats.)
    block = np.array([read[number] for number in wanted], dtype=float).reshape(len(wanted), -1)
    values = pd.DataFrame(
        np.nan_to_num(block, nan=0.0).astype("int64").T, columns=["records", *columns]
    )
    return pd.concat([out, values], axis=1)


def source_fetch(source: RecordSource) -> Fetch | None:
    """Run SQL on the store a source reads (None: the source is not a store)."""
    if source.backend not in ("sqlite", "postgres"):
        return None
    backend = source.table._find_backend()

    def fetch(sql: str) -> list[tuple[Any, ...]]:
        with closing(backend.raw_sql(sql)) as cursor:
            return list(cursor.fetchall())

    return fetch


def counts_from_store(
    source: RecordSource,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    by: str,
    services: list[str] | None = None,
) -> pd.DataFrame | None:
    """`stored_counts` for a record source on a store; None for other sources."""
    fetch = source_fetch(source)
    if fetch is None:
        return None
    dialect = "sqlite" if source.backend == "sqlite" else "postgresql"
    return stored_counts(fetch, dialect, start, end, as_of, by, services)
