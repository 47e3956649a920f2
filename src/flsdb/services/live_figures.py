"""The KPI rows of a period and extract date, read from the store's maintained figures.

Every write keeps the figures (`flsdb.storage.figures`) in its own transaction, so the KPI
rows at every level (FLS, region, nation, age band, sex, care home) and their published copies
are a few small sums and a disclosure check away: computed when asked, again as soon as any
record changed (every change writes an audit row), and never held per process beyond a few
recent periods. Several server processes share them through the store.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine


@dataclass
class KpiFigures:
    """What `GET /api/kpis` serves: the rows as computed (`tables`) and as they may be
    published (`shown`), per level."""

    period: Any
    as_of: dt.date
    tables: dict[str, pd.DataFrame]
    shown: dict[str, pd.DataFrame]
    version: tuple[object, ...]


@dataclass
class LiveCache:
    """The last few figures by (period, extract date), each with the data version it was read
    at; one computation per key at a time (the others wait for it and share it)."""

    max_entries: int = 16
    entries: OrderedDict[tuple[str, dt.date], KpiFigures] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    computing: threading.Lock = field(default_factory=threading.Lock)
    computed: int = 0
    # The store's first and last fracture dates, for `figure_keys.check_key`.
    bounds: tuple[tuple[object, ...], tuple[dt.date, dt.date] | None] | None = None


_SHARED = LiveCache()


def _fetch(engine: Engine) -> Any:
    def fetch(sql: str) -> list[tuple[Any, ...]]:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql).fetchall()]

    return fetch


def compute(engine: Engine, period_text: str, as_of: dt.date) -> KpiFigures | None:
    """The figures from the cells; None when the store keeps none for this catalogue."""
    from flsdb.config import load_thresholds
    from flsdb.disclosure import protect_tables
    from flsdb.kpi import level_results, parse_period
    from flsdb.kpi.sources import RecordSource, _services_frame
    from flsdb.kpi.stored import stored_counts
    from flsdb.services.data_version import data_version

    period = parse_period(period_text)
    version = data_version(engine)
    fetch = _fetch(engine)
    dialect = engine.dialect.name
    counts = stored_counts(fetch, dialect, period.start, period.end, as_of, "service")
    if counts is None:
        return None
    services = _services_frame(engine)
    source = RecordSource(table=None, services=services, backend=dialect, description="store")
    thresholds = load_thresholds()

    def breakdown(level: str) -> Any:
        found = stored_counts(fetch, dialect, period.start, period.end, as_of, level)
        assert found is not None  # the cells hold every breakdown with the whole
        return found

    results = level_results(source, period, as_of, thresholds, counts, breakdown)
    tables = {level: result.table for level, result in results.items()}
    listed = services[["service_code", "service_name", "region_code", "region_name", "nation"]]
    listed = listed.sort_values("service_code").reset_index(drop=True)
    shown = protect_tables(tables, listed, thresholds.suppression)
    return KpiFigures(period, as_of, tables, shown, version)


def kpi_figures(
    engine: Engine, period_text: str, as_of: dt.date, cache: LiveCache | None = None
) -> KpiFigures | None:
    """The figures, computed afresh once anything changed since they were last read (while a
    computation runs, the last figures of the key, if any)."""
    from flsdb.kpi import parse_period
    from flsdb.services.data_version import data_version
    from flsdb.services.figure_keys import check_key

    cache = cache or _SHARED
    period = parse_period(period_text)
    key = (period.label, as_of)
    version = data_version(engine)
    with cache.lock:
        found = cache.entries.get(key)
    if found is not None and found.version == version:
        return found
    if found is None:  # a key kept was checked when it was computed
        check_key(cache, engine, period, as_of, version)
    # One computation at a time: a burst of views after a change computes once. A view with
    # figures of this key already (one change behind) does not queue behind a computation that
    # is running: it gets those, and the next view the new ones.
    if not cache.computing.acquire(blocking=found is None):
        return found
    try:
        with cache.lock:
            found = cache.entries.get(key)
        if found is not None and found.version == data_version(engine):
            return found
        figures = compute(engine, period_text, as_of)
        if figures is None:
            return None
        with cache.lock:
            cache.entries[key] = figures
            cache.entries.move_to_end(key)
            while len(cache.entries) > cache.max_entries:
                cache.entries.popitem(last=False)
            cache.computed += 1
        return figures
    finally:
        cache.computing.release()
