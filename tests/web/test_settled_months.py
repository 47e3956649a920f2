"""A year past every due window at the extract date keeps its monthly KPI rows from one period
and extract date to the next (`figures.Maintained.settled`), until a record changes: the SPC
charts' series are those the records give at each extract date."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from flsdb.config import load_thresholds
from flsdb.figures import FUNNEL_KPIS
from flsdb.kpi import KpiRequest, compute_levels, parse_period, query_counts
from flsdb.kpi.periods import Period
from flsdb.kpi.sources import in_memory, source_from_database
from flsdb.services import dashboard_figures
from flsdb.services.dashboard_figures import maintained_figures
from tests.web.conftest import Site


def _window(period: Period) -> list[str]:
    """The SPC charts' months (YYYY-MM): the thresholds' number of months ending with the
    period's last."""
    last = period.end.year * 12 + period.end.month - 1
    first = last - load_thresholds().spc.months + 1
    return [f"{m // 12}-{m % 12 + 1:02d}" for m in range(first, last + 1)]


def _monthly_from_records(url: str, period: Period, as_of: dt.date) -> list[pd.DataFrame]:
    """The monthly KPI rows of the SPC window (by FLS, then national) as the KPI engine gives
    them from the records at `as_of`, year by year, nothing kept: only the monthly series, not
    every figure of the period (`compute_figures` from the records cost about 1.3 s of
    processor time on SQLite, this about a fifth of it)."""
    window = _window(period)
    start = dt.date(int(window[0][:4]), 1, 1)
    stored = source_from_database(url)
    source = in_memory(stored, start, period.end)  # copied as the reports' figures copy it
    try:
        counts = query_counts(source, start, period.end, as_of)
        parts: dict[str, list[pd.DataFrame]] = {"service": [], "nation": []}
        for year in sorted({int(month[:4]) for month in window}):
            request = KpiRequest(
                parse_period(str(year)), as_of=as_of, interval="month", kpis=FUNNEL_KPIS
            )
            found = compute_levels(
                source, request, ("service", "nation"), thresholds=load_thresholds(), counts=counts
            )
            for level, result in found.items():
                parts[level].append(result.table)
    finally:  # no SQLite connection stays open beside the writers' (storage.bulk)
        stored.table._find_backend().disconnect()
    tables = [pd.concat(parts[level], ignore_index=True) for level in ("service", "nation")]
    return [t[t["period"].isin(window)].reset_index(drop=True) for t in tables]


def _same_months(
    site: Site, period: str, as_of: dt.date, records: list[pd.DataFrame] | None = None
) -> list[pd.DataFrame]:
    """The dashboards' monthly rows (from the store's cells, settled years kept) are those of
    the records (`records`: computed already for the same window, extract date and records);
    returns the records' rows."""
    cells = maintained_figures(site.engine, period, as_of)
    assert cells is not None
    ours = [cells.monthly_service, cells.monthly_nation]
    theirs = records or _monthly_from_records(site.url, parse_period(period), as_of)
    for mine, expected in zip(ours, theirs, strict=True):
        assert len(mine) > 0
        pd.testing.assert_frame_equal(
            mine.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
        )
    return theirs


def _kept(site: Site) -> set[tuple[object, int]]:
    """The (data version, year) of the monthly rows kept for this store (its own file)."""
    values = dashboard_figures._SETTLED._values  # the bounded map of `figures.Kept`
    mine = [key for key in values if isinstance(key, tuple) and key[0] == str(site.engine.url)]
    return {(key[1], key[2]) for key in mine}


def test_settled_years_keep_their_months_across_extract_dates_until_a_change(site: Site) -> None:
    # The site's fractures are of 2024: as of mid-2026, 2023 and 2024 are past every window.
    first, later = dt.date(2026, 6, 30), dt.date(2026, 10, 31)
    _same_months(site, "2024", first)
    kept = _kept(site)
    assert {year for _, year in kept} == {2023, 2024} and len({v for v, _ in kept}) == 1
    # Another extract date: the years' rows as they were.
    records = _same_months(site, "2024", later)
    # Another period whose window holds the same years: the same window (it ends with the
    # period), so the records' rows at that date are those just computed.
    assert _window(parse_period("2024-Q4")) == _window(parse_period("2024"))
    _same_months(site, "2024-Q4", later, records)
    assert _kept(site) == kept
    # Earlier: 2022 and 2023 are past every window (kept), 2024 is not (computed).
    _same_months(site, "2024-Q2", dt.date(2025, 3, 1))
    kept = _kept(site)
    assert {year for _, year in kept} == {2022, 2023, 2024} and len(kept) == 3
    # A saved change: the months are computed again, with it, and kept at the new version.
    nurse = site.client("nurse")
    record_id = site.record_id("FLS01")
    body = nurse.get(f"/api/records/{record_id}").json()
    saved = nurse.put(f"/api/records/{record_id}", json={**body, "falls_assessment": "assessed"})
    assert saved.status_code == 200, saved.text
    _same_months(site, "2024", later)
    added = _kept(site) - kept
    assert {year for _, year in added} == {2023, 2024} and len({v for v, _ in added}) == 1
