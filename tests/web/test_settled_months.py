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


def _kept(site: Site) -> set[int]:
    """The years whose monthly rows are kept for this store."""
    values = dashboard_figures._SETTLED._values  # the bounded map of `figures.Kept`
    return {key[2] for key in values if key[0] == str(site.engine.url)}


def test_settled_years_keep_their_months_across_extract_dates_until_a_change(site: Site) -> None:
    # The site's fractures are of 2024: as of mid-2026, 2023 and 2024 are past every window.
    first, later = dt.date(2026, 6, 30), dt.date(2026, 10, 31)
    _same_months(site, "2024", first)
    assert _kept(site) == {2023, 2024}
    size = len(dashboard_figures._SETTLED)
    _same_months(site, "2024", later)  # another extract date: the years' rows as they were
    _same_months(site, "2024-Q4", later)  # another period whose window holds the same years
    assert len(dashboard_figures._SETTLED) == size
    # Earlier: 2022 and 2023 are past every window (kept), 2024 is not (computed).
    _same_months(site, "2024-Q2", dt.date(2025, 3, 1))
    assert _kept(site) == {2022, 2023, 2024}
    size += 1
    # A saved change: the months are computed again, with it.
    nurse = site.client("nurse")
    record_id = site.record_id("FLS01")
    body = nurse.get(f"/api/records/{record_id}").json()
    saved = nurse.put(f"/api/records/{record_id}", json={**body, "falls_assessment": "assessed"})
    assert saved.status_code == 200, saved.text
    _same_months(site, "2024", later)
    assert len(dashboard_figures._SETTLED) == size + 2
