"""An FLS's dashboard after a save (issue 19 item 2): its own KPI rows as they are now on figures
a computation behind, with the views that do not read them taken from those figures, and its
month-by-month charts carried to the next computation while its months are as they were. What
the page shows is what figures computed afresh from the records show."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import pytest

from flsdb.figures import Kept, PeriodFigures
from flsdb.kpi.results import LEVELS
from flsdb.services import dashboards
from flsdb.services.live_figures import level_rows
from flsdb.web import dashboards as views
from flsdb.web import spc_views
from flsdb.web.own_rows import OwnRowsKept, with_own_rows
from tests.web.conftest import Site
from tests.web.same_inputs import kpi_rows_once, records_figures

AS_OF = dt.date(2026, 1, 31)
PARAMS = {"period": "2024", "as_of": AS_OF.isoformat()}


@pytest.fixture(autouse=True)
def _kpi_rows_once(monkeypatch: pytest.MonkeyPatch) -> None:
    kpi_rows_once(monkeypatch)


def _from_records(site: Site) -> PeriodFigures:
    """The figures from the site's records as they are now (computed once per process for the
    same records: tests/web/same_inputs.py)."""
    return records_figures(site.url, "2024", AS_OF)


def _save(site: Site, user: str, code: str, value: str) -> None:
    client = site.client(user)
    record_id = site.record_id(code)
    body = client.get(f"/api/records/{record_id}").json()
    saved = client.put(f"/api/records/{record_id}", json={**body, "falls_assessment": value})
    assert saved.status_code == 200, saved.text


def _same(value: object) -> object:
    """A value as compared: no value (NaN, as one table's frame holds it) as "no value"."""
    return "no value" if isinstance(value, float) and math.isnan(value) else value


def _every_row(data: PeriodFigures) -> dict[tuple[str, bool, str, str], dict[str, object]]:
    return {
        (level, published, str(unit), str(kpi)): {
            k: _same(v) for k, v in data.row(level, str(unit), str(kpi), published).items()
        }
        for level in LEVELS
        for published in (False, True)
        for unit, kpi in zip(
            (data.published if published else data.unsuppressed)[level]["unit"],
            (data.published if published else data.unsuppressed)[level]["kpi"],
            strict=True,
        )
    }


def test_the_own_rows_after_a_save_are_the_records_and_the_kept_views_the_fresh_ones(
    site: Site,
) -> None:
    cache = site.app.state.dashboards
    cache.cells_refresh_seconds = 3600.0
    nurse = site.client("nurse")
    assert nurse.get("/fls/FLS01", params=PARAMS).status_code == 200
    _save(site, "nurse", "FLS01", "assessed")
    found = dashboards.figures(cache, site.url, site.engine, "2024", AS_OF)
    assert found.stale and cache.computed == 1
    data = found.data
    rows = level_rows(site.engine, "2024", AS_OF, "service", frozenset({"FLS01"}), cache.live)
    assert rows is not None
    now = rows.table[rows.table["unit"] == "FLS01"].reset_index(drop=True)
    shown = with_own_rows(data, "FLS01", now)
    assert shown is not None and shown is not data and isinstance(shown.kept, OwnRowsKept)
    records = _from_records(site)
    # The FLS's own rows are the records' (KPI 6 moved by one), the rest as computed before.
    kpis = list(now["kpi"])
    for kpi in kpis:
        mine = views.kpi_row(shown, "service", "FLS01", kpi, published=False)
        assert mine == views.kpi_row(records, "service", "FLS01", kpi, published=False), kpi
    assert views.kpi_row(shown, "service", "FLS01", "kpi06", published=False)["numerator"] == 1
    assert views.kpi_row(data, "service", "FLS01", "kpi06", published=False)["numerator"] == 0
    # Its rows looked up through the views kept from the figures before are those its own
    # tables give, made afresh: every unit, level and disclosure; and so is its KPI table.
    fresh = dataclasses.replace(shown, kept=Kept())
    assert _every_row(shown) == _every_row(fresh)
    assert views.kpi_table(shown, "FLS01") == views.kpi_table(fresh, "FLS01")
    assert views.kpi_table(shown, "FLS01", full=True) == views.kpi_table(fresh, "FLS01", full=True)
    # Another level's index is the figures' own, not made again.
    key = ("rows", "region", True)
    assert shown.kept.get(key, dict) is data.kept.get(key, dict)
    # The FLS's rows as computed again (a save back): the figures themselves.
    _save(site, "nurse", "FLS01", "not_done")
    rows = level_rows(site.engine, "2024", AS_OF, "service", frozenset({"FLS01"}), cache.live)
    assert rows is not None
    again = rows.table[rows.table["unit"] == "FLS01"].reset_index(drop=True)
    assert with_own_rows(data, "FLS01", again) is data


def test_an_fls_s_charts_are_carried_to_the_next_figures_while_its_months_stay(
    site: Site,
) -> None:
    cache = site.app.state.dashboards
    cache.cells_refresh_seconds = 0.0

    def charts() -> tuple[PeriodFigures, Any]:
        found = dashboards.figures(cache, site.url, site.engine, "2024", AS_OF)
        assert not found.stale
        data = found.data
        return data, spc_views.spc_views(data, data.monthly_service, "FLS01")

    def afresh(data: PeriodFigures) -> Any:
        return spc_views._spc_views(data, data.monthly_service, "FLS01", False)

    first, made = charts()
    assert made == afresh(first) == afresh(_from_records(site))
    _save(site, "nurse2", "FLS02", "assessed")  # another FLS's months move
    second, kept = charts()
    assert second is not first and cache.computed == 2
    assert kept is made  # not made again
    assert kept == afresh(second) == afresh(_from_records(site))
    _save(site, "nurse", "FLS01", "assessed")  # its own months move
    third, moved = charts()
    assert third is not second and cache.computed == 3
    assert moved is not made
    assert moved == afresh(third) == afresh(_from_records(site))
    # Published (a region viewer's): from the figures alone, as every FLS's months are read.
    published = spc_views.spc_views(third, third.monthly_service, "FLS01", published=True)
    assert published == spc_views._spc_views(third, third.monthly_service, "FLS01", True)
