"""Day offsets kept with each record: whole days from the fracture to each later date.

KPIs count events within so many days of the fracture. SQLite keeps dates as text, so a query
computing the gap parses two dates per row and condition; the gaps stored at write time make
those conditions integer comparisons. Every write path sets them from the same definitions here
(bulk import on ADBC, Python's sqlite3 or COPY; single-record inserts and updates), and migration
0004 computes them for records stored before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl

from flsdb.dictionary import load_dictionary

FRACTURE = "date_fracture_diagnosed"
# The date of birth is not an event after the fracture (age is counted in calendar years).
NOT_OFFSET = (FRACTURE, "date_of_birth")


def offset_column(date_column: str) -> str:
    """The stored gap of a date column: `date_dxa` -> `date_dxa_days`."""
    return f"{date_column}_days"


DAY_OFFSETS: dict[str, str] = {
    offset_column(f.name): f.name
    for f in load_dictionary().records
    if f.type == "date" and f.name not in NOT_OFFSET
}


def offset_exprs() -> dict[str, pl.Expr]:
    """The offsets as polars expressions over a frame of records with typed dates."""
    return {
        name: (pl.col(column) - pl.col(FRACTURE)).dt.total_days().cast(pl.Int64)
        for name, column in DAY_OFFSETS.items()
    }


def _day(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def day_offsets(values: Mapping[str, Any]) -> dict[str, int | None]:
    """The offsets of one record's values (dates or ISO text)."""
    fracture = _day(values.get(FRACTURE))
    out: dict[str, int | None] = {}
    for name, column in DAY_OFFSETS.items():
        day = _day(values.get(column))
        out[name] = None if day is None or fracture is None else (day - fracture).days
    return out
