"""A year past every due window at the extract date keeps its monthly KPI rows from one period
and extract date to the next (`figures.Maintained.settled`), until a record changes: the SPC
charts' series are those the records give at each extract date."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from flsdb.figures import compute_figures
from flsdb.kpi import parse_period
from flsdb.kpi.sources import source_from_database
from flsdb.services import dashboard_figures
from flsdb.services.dashboard_figures import maintained_figures
from tests.web.conftest import Site


def _monthly_from_records(url: str, period: str, as_of: dt.date) -> list[pd.DataFrame]:
    source = source_from_database(url)
    try:
        data = compute_figures(source, parse_period(period), as_of)
    finally:  # no SQLite connection stays open beside the writers' (storage.bulk)
        source.table._find_backend().disconnect()
    return [data.monthly_service, data.monthly_nation]


def _same_months(site: Site, period: str, as_of: dt.date) -> None:
    cells = maintained_figures(site.engine, period, as_of)
    assert cells is not None
    ours = [cells.monthly_service, cells.monthly_nation]
    for mine, theirs in zip(ours, _monthly_from_records(site.url, period, as_of), strict=True):
        assert len(mine) > 0
        pd.testing.assert_frame_equal(
            mine.reset_index(drop=True), theirs.reset_index(drop=True), check_dtype=False
        )


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
    _same_months(site, "2024", later)  # another extract date: the years' rows as they were
    _same_months(site, "2024-Q4", later)  # another period whose window holds the same years
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
