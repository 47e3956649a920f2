"""The KPI rows of a period and extract date, read from the store's maintained figures.

Every write keeps the figures (`flsdb.storage.figures`) in its own transaction, so the KPI
rows at every level (FLS, region, nation, age band, sex, care home) and their published copies
are a few small sums and a disclosure check away: computed when asked, again as soon as any
record changed (every change writes an audit row), and never held per process beyond a few
recent periods. Several server processes share them through the store: the whole
publication one process computed for a period, extract date and data version is kept in the
store (`services.shared_rows`) and read by the others, so none computes it again.

Two computations, each cached per (period, extract date) and data version:

- `kpi_figures`: every level and the published copies (the disclosure check protects the
  whole publication at once, so published rows come only from all of it): the dashboards and
  anyone shown published rows;
- `level_rows`: one level's rows as computed (unsuppressed), for some FLSs or all: an FLS's
  staff reading their own FLS, the national team reading any level. The sums read only the
  cells of that level (and those FLSs), and no disclosure check is needed, so a saved change
  is in the next answer in milliseconds, however busy the store. The rows are those
  `kpi_figures` gives for the same units (`tests/web/test_live_figures.py` compares them).
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from flsdb.config import Suppression, load_thresholds
from flsdb.disclosure import protect_tables
from flsdb.figures import passed
from flsdb.figures.kept import Kept
from flsdb.kpi import KpiRequest, compute_levels, level_results, load_catalogue, parse_period
from flsdb.kpi.results import RESULT_COLUMNS
from flsdb.kpi.sources import RecordSource, stored_services
from flsdb.kpi.stored import stored_counts
from flsdb.kpi.terms import catalogue_layout
from flsdb.services.data_version import data_version
from flsdb.services.figure_keys import check_key
from flsdb.services.shared_rows import read_rows, share_rows
from flsdb.storage import open_engine
from flsdb.storage.figures import current, run_rows_of


@dataclass
class KpiFigures:
    """What `GET /api/kpis` serves: the rows as computed (`tables`) and as they may be
    published (`shown`), per level."""

    period: Any
    as_of: dt.date
    tables: dict[str, pd.DataFrame]
    shown: dict[str, pd.DataFrame]
    version: tuple[object, ...]
    # Read from the store, as another process computed them (`services.shared_rows`).
    shared: bool = False


LevelKey = tuple[str, dt.date, str, tuple[str, ...] | None]


@dataclass
class LevelRows:
    """One level's KPI rows as computed (not published), for the FLSs asked for (`services`,
    None: every unit of the level), at a data version. `views` holds what callers make of the
    rows (their JSON), kept with them and dropped with them. `inputs` is what the rows were
    made from (the store, each query's rows, and the services table): while it reads the same,
    the rows are the same at a later data version (`level_rows`)."""

    table: pd.DataFrame
    services: tuple[str, ...] | None
    version: tuple[object, ...]
    views: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[str, dict[str, list[tuple[Any, ...]]], pd.DataFrame] | None = None


@dataclass
class LiveCache:
    """The last few figures by (period, extract date), each with the data version it was read
    at; one computation per key at a time (the others wait for it and share it)."""

    max_entries: int = 16
    entries: OrderedDict[tuple[str, dt.date], KpiFigures] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    computing: threading.Lock = field(default_factory=threading.Lock)
    computed: int = 0
    shared: int = 0  # figures read from the store, computed by another process
    # The store's first and last fracture dates, for `figure_keys.check_key`.
    bounds: tuple[tuple[object, ...], tuple[dt.date, dt.date] | None] | None = None
    # One level's rows (`level_rows`), by (period, extract date, level, FLSs): small, so more.
    max_levels: int = 256
    levels: OrderedDict[LevelKey, LevelRows] = field(default_factory=OrderedDict)
    levels_computed: int = 0
    # A process for the whole computation (`start_pool`): a second of pandas work in the
    # server's own process would hold its interpreter lock and stall every other request.
    pool: Any = None

    def start_pool(self) -> None:
        """One worker process (spawned: no copy of the server's connections; at a lower
        priority; it ends when the server's process does)."""
        with self.lock:
            if self.pool is None:
                self.pool = ProcessPoolExecutor(
                    1, mp_context=multiprocessing.get_context("spawn"), initializer=_in_worker
                )
                # Started now (the process and its imports), not by the first computation.
                self.pool.submit(_ready)
                # The server has started: what it holds now lives as long as it does.
                settle_collector()


def settle_collector() -> None:
    """Leave the objects this process holds now (its modules, what the start made) out of
    the garbage collector's sight (`gc.freeze`, after one collection): they live as long as
    the process. Otherwise every full collection walks them again, and the computations of a
    new period or extract date (tens of thousands of objects made and kept) start one or two
    of those each: 150 to 340 ms of CPU a key on the benchmark's store, 4 to 55 ms once
    they are left out."""
    gc.collect()
    gc.freeze()


def _ready() -> None:
    """Nothing: the first task makes the worker process start and import what it computes
    with (`_in_worker`)."""


# The worker's computations (a disclosure check's passes keep tens of thousands of small
# tuples) make objects that mostly live to the end of the computation: a collection of the
# youngest generation every 700 of them walked them again and again. Every 50,000, as the
# reports' workers do (`reports.build`): the captured disclosure checks of the benchmark's new
# keys 1,917 / 1,860 -> 1,721 / 1,699 ms of CPU in all.
_WORKER_GC = (50_000, 10, 10)


def _in_worker() -> None:
    """The worker yields the processor to the server, and ends with it."""
    os.nice(10)
    settle_collector()  # what the worker imported (this module and its imports)
    gc.set_threshold(*_WORKER_GC)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


_ENGINES: dict[str, Engine] = {}


def _compute_by_url(url: str, period_text: str, as_of: dt.date) -> KpiFigures | None:
    """`compute` in the worker process, on an engine kept per store."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = open_engine(url)
    return compute(engine, period_text, as_of)


_SHARED = LiveCache()


def compute(
    engine: Engine, period_text: str, as_of: dt.date, *, share: bool = True
) -> KpiFigures | None:
    """The figures from the cells; None when the store keeps none for this catalogue. Those
    another process computed at this data version are read from the store instead, and those
    computed here are kept there for the others (`services.shared_rows`; `share=False`:
    computed here, whatever the store keeps, and not kept)."""
    period = parse_period(period_text)
    version = data_version(engine)
    found = read_rows(engine, period.label, as_of, version) if share else None
    if found is not None:
        return KpiFigures(period, as_of, found[0], found[1], version, shared=True)
    figures = _computed(engine, period, as_of, version)
    if figures is not None and share:
        share_rows(engine, period.label, as_of, version, figures.tables, figures.shown)
    return figures


def _computed(
    engine: Engine, period: Any, as_of: dt.date, version: tuple[object, ...]
) -> KpiFigures | None:
    fetch = run_rows_of(engine)
    dialect = engine.dialect.name
    counts = stored_counts(fetch, dialect, period.start, period.end, as_of, "service")
    if counts is None:
        return None
    services = stored_services(engine)
    source = RecordSource(table=None, services=services, backend=dialect, description="store")
    thresholds = load_thresholds()

    def breakdown(level: str) -> Any:
        found = stored_counts(
            fetch, dialect, period.start, period.end, as_of, level, by_service=False
        )
        assert found is not None  # the cells hold every breakdown with the whole
        return found

    results = level_results(source, period, as_of, thresholds, counts, breakdown)
    tables = {level: result.table for level, result in results.items()}
    listed = services[["service_code", "service_name", "region_code", "region_name", "nation"]]
    listed = listed.sort_values("service_code").reset_index(drop=True)
    shown = _published(tables, listed, thresholds.suppression)
    return KpiFigures(period, as_of, tables, shown, version)


# The published copies by what they protect (a digest of the rows, the FLSs and the policy): the
# same rows are published the same way, so an ended period read at another extract date (its
# windows all passed, its rows the same) or a key read again after a change elsewhere costs no
# second disclosure check. A few sets, the least recently used dropped first.
_PUBLISHED = Kept(8)


def _published(
    tables: dict[str, pd.DataFrame], listed: pd.DataFrame, policy: Suppression
) -> dict[str, pd.DataFrame]:
    """`disclosure.protect_tables` of the rows, made once per distinct rows."""
    context = f"protect_tables|{policy!r}|{load_catalogue().version}"
    key = passed.fingerprint(tables, {}, pd.DataFrame(), None, listed, context)
    return _PUBLISHED.get(key, lambda: protect_tables(tables, listed, policy))


def kpi_figures(
    engine: Engine,
    period_text: str,
    as_of: dt.date,
    cache: LiveCache | None = None,
    *,
    wait: bool = False,
) -> KpiFigures | None:
    """The figures, computed afresh once anything changed since they were last read (while a
    computation runs, the last figures of the key, if any; `wait`: the figures as they are now,
    waiting for the computation that runs, as the dashboards' figures do)."""
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
    if not cache.computing.acquire(blocking=wait or found is None):
        return found
    try:
        with cache.lock:
            found = cache.entries.get(key)
        if found is not None and found.version == data_version(engine):
            return found
        if cache.pool is not None:
            url = engine.url.render_as_string(hide_password=False)
            figures = cache.pool.submit(_compute_by_url, url, period_text, as_of).result()
        else:
            figures = compute(engine, period_text, as_of)
        if figures is None:
            return None
        with cache.lock:
            _keep(cache.entries, key, figures, cache.max_entries)
            if figures.shared:
                cache.shared += 1
            else:
                cache.computed += 1
        return figures
    finally:
        cache.computing.release()


def compute_level(
    engine: Engine,
    period_text: str,
    as_of: dt.date,
    level: str,
    services: tuple[str, ...] | None = None,
    *,
    fetch: Any = None,
    frame: pd.DataFrame | None = None,
) -> pd.DataFrame | None:
    """One level's rows from the cells, as computed (for the FLSs in `services` at the
    service level; every unit otherwise); None when the store keeps no figures for this
    catalogue. The cells read are that level's only (and those FLSs' only); `fetch` runs the
    SQL and `frame` is the services table, when the caller has them."""
    period = parse_period(period_text)
    frame = stored_services(engine) if frame is None else frame
    fetch = fetch or run_rows_of(engine)
    only = None
    if level == "service" and services is not None:
        known = set(frame["service_code"])
        only = [code for code in services if code in known]
        if not only:
            return None if not _kept(engine, fetch) else _empty()
    dialect = engine.dialect.name
    counts = stored_counts(
        fetch, dialect, period.start, period.end, as_of, level, only, by_service=False
    )
    if counts is None:
        return None
    source = RecordSource(table=None, services=frame, backend=dialect, description="store")
    request = KpiRequest(period, by=level, as_of=as_of, services=tuple(only) if only else None)
    return compute_levels(source, request, (level,), counts=counts)[level].table


def _kept(engine: Engine, fetch: Any) -> bool:
    return current(fetch, engine.dialect.name, catalogue_layout().signature)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=list(RESULT_COLUMNS))


def level_rows(
    engine: Engine,
    period_text: str,
    as_of: dt.date,
    level: str,
    services: frozenset[str] | None = None,
    cache: LiveCache | None = None,
) -> LevelRows | None:
    """`compute_level`, kept per key and data version; None for a store without maintained
    figures. Once anything changed, the queries the rows were made from are read again (for
    one FLS, a small sum over its cells): every reader gets the figures as they are now, and
    rows whose inputs read as before (a change to another FLS's records) are the ones already
    made, with their views, instead of being built again."""
    cache = cache or _SHARED
    period = parse_period(period_text)
    codes = tuple(sorted(services)) if level == "service" and services is not None else None
    key: LevelKey = (period.label, as_of, level, codes)
    version = data_version(engine)
    with cache.lock:
        found = cache.levels.get(key)
        if found is not None:
            cache.levels.move_to_end(key)
    if found is not None and found.version == version:
        return found
    if found is None:
        check_key(cache, engine, period, as_of, version)
    frame = stored_services(engine)
    fetch = _Recorded(run_rows_of(engine))
    store = engine.url.render_as_string(hide_password=True)
    if found is not None and found.inputs is not None and found.inputs[0] == store:
        _, queries, before = found.inputs
        if fetch.again(queries) and frame.equals(before):  # the same inputs: the same rows
            rows = LevelRows(found.table, codes, version, found.views, found.inputs)
            with cache.lock:
                _keep(cache.levels, key, rows, cache.max_levels)
            return rows
    table = compute_level(engine, period.label, as_of, level, codes, fetch=fetch, frame=frame)
    if table is None:
        return None
    rows = LevelRows(table, codes, version, inputs=(store, fetch.rows, frame))
    with cache.lock:
        _keep(cache.levels, key, rows, cache.max_levels)
        cache.levels_computed += 1
    return rows


class _Recorded:
    """A fetch that keeps each query's rows: a query asked again is answered from them, so the
    inputs a computation read can be compared with what the store holds later (`again`)."""

    def __init__(self, fetch: Any) -> None:
        self.fetch = fetch
        self.rows: dict[str, list[tuple[Any, ...]]] = {}

    def __call__(self, sql: str) -> list[tuple[Any, ...]]:
        if sql not in self.rows:
            self.rows[sql] = self.fetch(sql)
        return self.rows[sql]

    def again(self, queries: dict[str, list[tuple[Any, ...]]]) -> bool:
        """Whether each of these queries reads the rows it read then (read now, and kept)."""
        return all(self(sql) == before for sql, before in queries.items())


def _keep(entries: OrderedDict[Any, Any], key: Any, value: Any, limit: int) -> None:
    """Keep `value` as the most recent entry, dropping the least recent beyond `limit` (the
    caller holds the cache's lock)."""
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > limit:
        entries.popitem(last=False)
