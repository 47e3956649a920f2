"""The figures cache's bounds: what a kept computation weighs, and which keys (period, extract
date) may be computed at all, so that no one can fill the server's memory by asking for figures
as of every day there is."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select

from flsdb.dates import uk_date
from flsdb.errors import ConfigurationError
from flsdb.kpi.periods import check_extract_date
from flsdb.storage.tables import records

# What one value of a column of objects or strings holds, on average (a short string, None):
# a frame's size is estimated from its counts of rows and columns, not by sizing every value.
OBJECT_BYTES = 56


def _frame_bytes(frame: pd.DataFrame | pd.Series) -> int:
    """A frame's (or series') values and index at 8 bytes each, and the values of its columns
    of objects or strings at `OBJECT_BYTES` more each."""
    kinds = [frame.dtype] if isinstance(frame, pd.Series) else frame.dtypes.tolist()
    columns, objects = len(kinds), sum(not pd.api.types.is_numeric_dtype(k) for k in kinds)
    return len(frame) * ((columns + 1) * 8 + objects * OBJECT_BYTES)


def approximate_bytes(data: Any) -> int:
    """Roughly the memory held by computed figures: their frames (from their counts of rows and
    columns) and the rest."""
    seen: set[int] = set()
    total, stack = 0, [data]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, pd.DataFrame | pd.Series):
            total += _frame_bytes(item)
        elif isinstance(item, dict):
            total += sys.getsizeof(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += sys.getsizeof(item)
            stack.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            total += sys.getsizeof(item)
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        else:
            total += sys.getsizeof(item)
    return total


def check_key(
    cache: Any, engine: Engine, period: Any, as_of: dt.date, version: tuple[object, ...]
) -> None:
    """ConfigurationError (one sentence) unless figures can be asked for: an extract date not
    after today and not before the first record's fracture, a period within the years that
    have records. The store's first and last fracture dates are read again only when a key
    falls outside them and records changed since they were read."""
    check_extract_date(as_of)
    today = dt.date.today()
    if as_of > today:
        raise ConfigurationError(
            f"The extract date {uk_date(as_of)} is after today ({uk_date(today)}): give "
            "today or an earlier date."
        )

    def problem(bounds: tuple[dt.date, dt.date] | None) -> str | None:
        if bounds is None:
            return "There are no records yet, so there are no figures to show."
        first, last = bounds
        if as_of < first:
            return (
                f"The extract date {uk_date(as_of)} is before the first record (a fracture "
                f"on {uk_date(first)}): give a later date."
            )
        if not first.year <= period.start.year <= last.year:
            years = str(first.year) if first.year == last.year else f"{first.year} to {last.year}"
            return f"There are no records in {period.label}: give a period in {years}."
        return None

    known = cache.bounds
    found = problem(known[1]) if known is not None else "unknown"
    if found is not None and (known is None or known[0] != version):
        bounds = _record_bounds(engine)
        cache.bounds = (version, bounds)
        found = problem(bounds)
    if found is not None:
        raise ConfigurationError(found)


def _record_bounds(engine: Engine) -> tuple[dt.date, dt.date] | None:
    with engine.connect() as conn:
        first, last = conn.execute(
            select(
                func.min(records.c.date_fracture_diagnosed),
                func.max(records.c.date_fracture_diagnosed),
            )
        ).one()
    if first is None or last is None:
        return None
    return _as_date(first), _as_date(last)


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
