"""The figures behind the dashboards (`flsdb.figures.PeriodFigures`) for a period and extract
date, computed once and kept until a record or service changes, and cut to each dashboard's
scope.

Each dashboard's figures depend on the national ones (funnel targets and limits, comparators,
ranks), so one computation per period and extract date serves every scope; any change to the
records (every change writes an audit row) or a new lock makes the next view compute afresh.
A store that keeps maintained figures gives them from its cells at once
(`services.dashboard_figures`); for one that keeps none they are computed from the records in
the background, as the report set computes them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import multiprocessing
import os
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from flsdb.errors import Pending
from flsdb.figures import Kept, PeriodFigures
from flsdb.kpi import parse_period
from flsdb.services.dashboard_figures import maintained_figures
from flsdb.services.data_version import data_version
from flsdb.services.figure_keys import approximate_bytes, check_key
from flsdb.services.live_figures import LiveCache, kpi_figures
from flsdb.services.report_files import figures_from_store
from flsdb.services.upload_notices import last_upload as last_upload
from flsdb.services.upload_notices import upload_notice as upload_notice
from flsdb.storage.tables import records


@dataclass
class _Entry:
    version: tuple[object, ...]
    data: PeriodFigures
    computed_at: float
    size: int = 0  # approximate bytes (`approximate_bytes`)


@dataclass(frozen=True)
class Figures:
    """The data, and whether records changed since it was computed (refreshing meanwhile)."""

    data: PeriodFigures
    computed_at: float
    stale: bool
    # Whether the KPI rows (every level, as computed and as published) are the store's
    # maintained figures as they are now, even where the charts are stale.
    counts_current: bool = False
    # The refresh this view waited for failed (logged by `_refresh`): the figures shown are the
    # last ones computed.
    refresh_failed: bool = False


@dataclass
class DashboardCache:
    """PeriodFigures by (period, as_of), with the data version it was computed at.

    The first view of a period starts computing its figures. After a change, a view starts a
    refresh in the background (unless the figures are younger than `refresh_seconds`, or one is
    running). Either waits for it up to `wait_seconds` (none by default); if it has not
    finished, the last figures are shown, marked as being refreshed, or `Pending` is raised.
    One computation runs per key at a time, so a busy day of edits costs one core at most,
    never one computation per view, and no view waits for long.

    The cache is bounded: at most `max_entries` keys and about `max_bytes` of figures, the
    least recently viewed dropped first (with the views rendered from them), and a key is
    checked before anything is computed for it (`check_key`)."""

    refresh_seconds: float = 30.0
    wait_seconds: float = 0.0
    max_entries: int = 12
    max_bytes: int = 400 * 1024 * 1024
    entries: OrderedDict[tuple[str, dt.date], _Entry] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refreshing: dict[tuple[str, dt.date], threading.Thread] = field(default_factory=dict)
    failures: dict[tuple[str, dt.date], Exception] = field(default_factory=dict)
    computed: int = 0  # how many times figures were computed (for tests and the load test)
    pool: Any = None  # a process pool for the computation (see `_computed`)
    uploads: dict[str, tuple[int, Any]] = field(default_factory=dict)  # see `last_upload`
    # The first and last fracture dates of the store, and the data version they were read at.
    bounds: tuple[tuple[object, ...], tuple[dt.date, dt.date] | None] | None = None
    # The KPI rows from the store's maintained figures (`services.live_figures`), and stale
    # figures with them in place: (data version, figures, figures with current KPI rows).
    live: Any = field(default_factory=lambda: _live_cache())
    overlays: dict[tuple[str, dt.date], tuple[Any, Any, Any]] = field(default_factory=dict)
    # Whether the figures come from the store's maintained counts when it keeps them (False:
    # always from the records, as for a store that keeps none), and one such computation at a
    # time (`_from_cells`).
    from_cells: bool = True
    cells: threading.Lock = field(default_factory=threading.Lock)
    # Figures from the cells younger than this are shown after a change as they are (saying
    # so; an FLS's staff see their own KPI values as they are now: `web.period_figures`)
    # instead of computed again: on a busy day, one computation per key every this many seconds
    # at most (0: at the next view after any change).
    cells_refresh_seconds: float = 0.0

    def get(self, key: tuple[str, dt.date]) -> _Entry | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, dt.date], entry: _Entry) -> None:
        """Keep `entry`, dropping the least recently viewed beyond the bounds (never the one
        just computed)."""
        with self.lock:
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > 1 and (
                len(self.entries) > self.max_entries
                or sum(e.size for e in self.entries.values()) > self.max_bytes
            ):
                self.entries.popitem(last=False)
            for done in [k for k, t in self.refreshing.items() if not t.is_alive()]:
                del self.refreshing[done]

    def size(self) -> int:
        """Approximate bytes held."""
        with self.lock:
            return sum(e.size for e in self.entries.values())

    def start_pool(self) -> None:
        """One worker process, started fresh (spawn: no copy of the server's connections)."""
        self.pool = ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn"), initializer=_lower_priority
        )


def _live_cache() -> Any:
    return LiveCache()


_MEMO: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()
_MEMO_LOCK = threading.Lock()
_MEMO_SIZE = 512


def memo(name: str, data: Any, *args: Any, make: Callable[[], Any]) -> Any:
    """A view of one computation of the figures, made once: the figures never change after
    they are computed (a change makes new figures), so their views can be kept beside them
    (on the figures themselves for `PeriodFigures`; here, bounded, for the API's KPI rows)."""
    if isinstance(data, PeriodFigures):
        return data.view(name, *args, make=make)
    key = (name, id(data), *args)
    with _MEMO_LOCK:
        found = _MEMO.get(key)
        if found is not None and found[0] is data:
            _MEMO.move_to_end(key)
            return found[1]
    value = make()
    with _MEMO_LOCK:
        _MEMO[key] = (data, value)
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return value


def figures(
    cache: DashboardCache, database_url: str, engine: Engine, period_text: str, as_of: dt.date
) -> Figures:
    """The figures of the period, from the cache when nothing changed since."""
    period = parse_period(period_text)
    key = (period.label, as_of)
    version = data_version(engine)
    entry = cache.get(key)
    if entry is None:  # a key already kept was checked when it was computed
        check_key(cache, engine, period, as_of, version)
    if entry is not None and entry.version == version:
        return Figures(entry.data, entry.computed_at, stale=False, counts_current=True)
    found = _from_cells(cache, engine, key, entry)
    if found is not None:
        return found
    if entry is None or time.time() - entry.computed_at >= cache.refresh_seconds:
        _start(cache, database_url, engine, key).join(cache.wait_seconds)
    entry = cache.get(key)
    with cache.lock:
        failed = cache.failures.pop(key, None)
    if failed is not None and entry is None:
        raise failed
    if entry is None:
        raise Pending(
            f"The figures for {period.label} are being computed; this takes a little while "
            "the first time. Ask again shortly."
        )
    if entry.version == version:
        return Figures(entry.data, entry.computed_at, stale=False, counts_current=True)
    shown = _with_current_counts(cache, engine, period_text, as_of, entry)
    return dataclasses.replace(shown, refresh_failed=failed is not None)


def _from_cells(
    cache: DashboardCache, engine: Engine, key: tuple[str, dt.date], entry: _Entry | None
) -> Figures | None:
    """The figures from the store's maintained counts, computed here and now (a few small sums
    and the statistics on them: no worker, no "being computed" page); None for a store that
    keeps none. One computation at a time: a burst of views after a change computes once, and
    a view that has figures of this key already (a change behind) does not queue behind it. A
    failure is logged; a view with older figures is shown them, saying so."""
    if not cache.from_cells:
        return None
    if entry is not None and time.time() - entry.computed_at < cache.cells_refresh_seconds:
        return Figures(entry.data, entry.computed_at, stale=True)
    if not cache.cells.acquire(blocking=entry is None):
        assert entry is not None
        return Figures(entry.data, entry.computed_at, stale=True)
    try:
        version = data_version(engine)  # read before the figures: a change meanwhile shows
        kept = cache.get(key)
        if kept is not None and kept.version == version:
            return Figures(kept.data, kept.computed_at, stale=False, counts_current=True)
        try:
            data = maintained_figures(engine, key[0], key[1], cache.live)
        except Exception as exc:  # shown as the older figures, and said, when there are some
            _log_failure(key, exc)
            if entry is None:
                raise
            return Figures(entry.data, entry.computed_at, stale=True, refresh_failed=True)
        if data is None:
            return None
        computed = _Entry(version, data, time.time(), approximate_bytes(data))
        cache.put(key, computed)
        cache.computed += 1
        return Figures(data, computed.computed_at, stale=False, counts_current=True)
    finally:
        cache.cells.release()


def _with_current_counts(
    cache: DashboardCache, engine: Engine, period_text: str, as_of: dt.date, entry: _Entry
) -> Figures:
    """Figures computed before the latest changes, with their KPI rows (every level, as
    computed and as published) replaced by the store's maintained figures as they are now: a
    saved change shows in the KPI values at once, the charts at their next refresh. Kept per
    key and data version, so the views rendered from them are made once."""
    live = kpi_figures(engine, period_text, as_of, cache.live)
    if live is None:  # a store without maintained figures
        return Figures(entry.data, entry.computed_at, stale=True)
    key = (live.period.label, as_of)
    with cache.lock:
        kept = cache.overlays.get(key)
    if kept is not None and kept[0] == live.version and kept[1] is entry.data:
        return Figures(kept[2], entry.computed_at, stale=True, counts_current=True)
    data = entry.data
    replaced = dataclasses.replace(
        data, unsuppressed=live.tables, published=live.shown, kept=Kept()
    )
    with cache.lock:
        cache.overlays[key] = (live.version, data, replaced)
        while len(cache.overlays) > cache.max_entries:
            cache.overlays.pop(next(iter(cache.overlays)))
    return Figures(replaced, entry.computed_at, stale=True, counts_current=True)


def _start(
    cache: DashboardCache, database_url: str, engine: Engine, key: tuple[str, dt.date]
) -> threading.Thread:
    """The refresh of `key` running now, started if none is: one computation per key."""
    with cache.lock:
        running = cache.refreshing.get(key)
        if running is None or not running.is_alive():
            running = threading.Thread(
                target=_refresh,
                args=(cache, database_url, engine, key),
                name=f"figures {key[0]}",
                daemon=True,
            )
            cache.refreshing[key] = running
            running.start()
    return running


def _refresh(
    cache: DashboardCache,
    database_url: str,
    engine: Engine,
    key: tuple[str, dt.date],
) -> None:
    """Compute the figures of `key` unless they are current (run by `_start` alone). A
    failure is kept for the view that waits for it (a period with nothing to show, say)."""
    version = data_version(engine)  # read before the figures: a change meanwhile shows
    entry = cache.get(key)
    if entry is not None and entry.version == version:
        return
    try:
        if _from_cells(cache, engine, key, None) is not None:  # the store's maintained counts
            return
    except Exception as exc:  # logged by `_from_cells`; handed to the view waiting for it
        with cache.lock:
            cache.failures[key] = exc
        return
    try:
        data = _computed(cache, database_url, key[0], key[1])
    except Exception as exc:  # handed to the view waiting for it, which raises or says it
        _log_failure(key, exc)
        with cache.lock:
            cache.failures[key] = exc
        return
    cache.put(key, _Entry(version, data, time.time(), approximate_bytes(data)))
    cache.computed += 1


def _log_failure(key: tuple[str, dt.date], exc: BaseException) -> None:
    """The server log of a failed computation: the period, the exception's type and where it
    was raised, never its message (which may quote a record's values)."""
    frames = traceback.extract_tb(exc.__traceback__)
    stack = "; ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in frames[-12:])
    logging.getLogger("flsdb.services.dashboards").error(
        "computing the figures of %s as of %s failed: %s at %s",
        key[0],
        key[1],
        type(exc).__name__,
        stack,
    )


def warm(cache: DashboardCache, database_url: str, engine: Engine) -> threading.Thread:
    """Compute the default dashboards' figures (the latest year with records, as of today) in
    the background when the server starts, so that the first person to look does not wait."""

    def run() -> None:
        with engine.connect() as conn:
            last = conn.execute(select(func.max(records.c.date_fracture_diagnosed))).scalar()
        if last is not None:
            _start(cache, database_url, engine, (str(last)[:4], dt.date.today()))

    thread = threading.Thread(target=run, name="figures warm-up", daemon=True)
    thread.start()
    return thread


def _lower_priority() -> None:
    """The worker yields the processor to the server: views and edits first, figures after."""
    os.nice(10)


def _computed(
    cache: DashboardCache, database_url: str, period_text: str, as_of: dt.date
) -> PeriodFigures:
    """The figures, computed in a separate process when the cache has a pool (the web
    application: seconds of pandas work there would hold the server's interpreter lock and
    stall every other request), here otherwise."""
    if cache.pool is None:
        return figures_from_store(database_url, period_text, as_of)
    return cache.pool.submit(figures_from_store, database_url, period_text, as_of).result()


def report_data(
    cache: DashboardCache, database_url: str, engine: Engine, period_text: str, as_of: dt.date
) -> PeriodFigures:
    return figures(cache, database_url, engine, period_text, as_of).data
