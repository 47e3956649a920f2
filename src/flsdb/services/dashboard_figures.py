"""The dashboards' figures from the store's maintained counts (`kpi_cells`, kept in step with
every write): every KPI of every level, the monthly series of the SPC charts, the funnels and
the completeness of any period and extract date are a few small sums over the cells and the
statistics on them, with no record read and no worker process.

The one table the cells do not hold is the treatment mix (which drug group each patient's
recommendation falls in): an FLS's dashboard reads its own FLS's records for it, when the FLS is
first viewed (an index range of one FLS's records for the period), and keeps it with the
figures. The national and region dashboards show no treatment mix; the reports, which do, still
compute their figures from the records (`flsdb report`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import Future

import pandas as pd
from sqlalchemy import Engine

from flsdb.config import load_thresholds
from flsdb.figures import Kept, Maintained, PeriodFigures, compute_figures
from flsdb.figures.compute import KpiRows
from flsdb.kpi import parse_period
from flsdb.kpi.mix import mix_counts, wide_mix
from flsdb.kpi.periods import Period
from flsdb.kpi.sources import RecordSource, ibis_connection, stored_services
from flsdb.kpi.stored import stored_counts
from flsdb.kpi.terms import catalogue_layout
from flsdb.services.data_version import data_version
from flsdb.services.live_figures import LiveCache, kpi_figures
from flsdb.storage.figures import current, run_rows_of


def keeps_figures(engine: Engine) -> bool:
    """Whether the store's maintained figures follow the catalogue (they can be read)."""
    return current(run_rows_of(engine), engine.dialect.name, catalogue_layout().signature)


def maintained_figures(
    engine: Engine, period_text: str, as_of: dt.date, live: LiveCache | None = None
) -> PeriodFigures | None:
    """The figures of the period from the store's cells; None when the store keeps none for
    this catalogue (the caller computes them from the records).

    With `live` (the dashboards' cache of `GET /api/kpis`'s rows), the KPI rows of every level
    and their published copies are those `GET /api/kpis` serves, computed once for both: taken
    from that cache when they are current, else computed into it (in its worker process, when
    it has one, while this thread computes the monthly series and the rest)."""
    fetch = run_rows_of(engine)
    dialect = engine.dialect.name
    version = data_version(engine)  # read before the cells: a change meanwhile shows
    if not current(fetch, dialect, catalogue_layout().signature):
        return None
    period = parse_period(period_text)
    thresholds = load_thresholds()
    services = stored_services(engine)
    source = RecordSource(table=None, services=services, backend=dialect, description="store")

    def counts(start: dt.date, end: dt.date, level: str) -> pd.DataFrame:
        found = stored_counts(fetch, dialect, start, end, as_of, level)
        if found is None:  # the layout changed since `current` (a rebuild): computed again
            raise LookupError("the store's maintained figures changed layout")
        return found

    def mix_of(code: str) -> pd.DataFrame:
        return fls_mix(engine, services, period, code)

    def settled(year: int, make: Callable[[], dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
        key = (str(engine.url), version, year, repr(thresholds), catalogue_layout().signature)
        return _SETTLED.get(key, make)

    rows = None if live is None else lambda: _start_rows(engine, period_text, as_of, live)
    return compute_figures(
        source,
        period,
        as_of,
        thresholds=thresholds,
        maintained=Maintained(counts, mix_of, rows, settled),
    )


# The monthly KPI rows of years past every due window, by store, data version and year: the
# same at any later extract date (`figures.Maintained.settled`), so a period or extract date
# not viewed before computes only its recent months' rows. A few years of a few versions.
_SETTLED = Kept(16)


def _start_rows(
    engine: Engine, period_text: str, as_of: dt.date, live: LiveCache
) -> Callable[[], KpiRows]:
    """The KPI rows shared with `GET /api/kpis` (`live_figures.kpi_figures`, as they are now):
    started in a thread that waits for the cache's worker process when it has one (so this
    thread computes meanwhile), else computed here when asked for."""

    def rows() -> KpiRows:
        found = kpi_figures(engine, period_text, as_of, live, wait=True)
        if found is None:  # the layout changed since `current` (a rebuild): computed again
            raise LookupError("the store's maintained figures changed layout")
        return found

    if live.pool is None:
        return rows
    future: Future[KpiRows] = Future()

    def run() -> None:
        try:
            future.set_result(rows())
        except BaseException as exc:  # handed to the thread that waits for the rows
            future.set_exception(exc)

    threading.Thread(target=run, name=f"kpi rows {period_text}", daemon=True).start()
    return future.result


def fls_mix(engine: Engine, services: pd.DataFrame, period: Period, code: str) -> pd.DataFrame:
    """One FLS's treatment mix for the period, from its own records only. The query is built
    and compiled by Ibis once per FLS and period (about 30 ms of CPU) and kept: the FLS's page
    asks again after every change to its records, and the same SQL then reads them."""
    key = (str(engine.url), engine.dialect.name, period.start, period.end, code)
    sql = _MIX_SQL.get(key, lambda: _fls_mix_sql(engine, services, period, code))
    with engine.connect() as conn:
        found = conn.exec_driver_sql(sql)
        counts = pd.DataFrame(found.fetchall(), columns=list(found.keys()))
    return wide_mix(counts.astype({"n": "int64"}), [code])


# The compiled treatment-mix query per store, FLS and period (a few hundred FLS pages' worth).
_MIX_SQL = Kept(512)


def _fls_mix_sql(engine: Engine, services: pd.DataFrame, period: Period, code: str) -> str:
    con = ibis_connection(engine)
    try:
        table = con.table("records")
        own = RecordSource(
            table=table.filter(table["service_code"] == code),
            services=services[services["service_code"] == code].reset_index(drop=True),
            backend="sqlite" if engine.dialect.name == "sqlite" else "postgres",
            description=f"the records of {code}",
        )
        return str(con.compile(mix_counts(own, period)))
    finally:
        con.disconnect()
