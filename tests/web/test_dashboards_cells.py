"""The dashboards' figures come from the store's maintained counts (issue 19 item 2): for any
period and extract date they equal the figures computed from the records, with no "being
computed" page and no worker process, and a saved change is in the next view."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pandas as pd
import pytest

from flsdb.figures import mix_shares
from flsdb.services import dashboards
from flsdb.services.dashboard_figures import maintained_figures
from flsdb.services.live_figures import LiveCache, kpi_figures
from flsdb.web import pages_fls
from tests.web.conftest import WORKER_POOL_GROUP, Site
from tests.web.same_inputs import dashboard_parts_once, kpi_rows_once, records_figures

AS_OF = dt.date(2026, 1, 31)


@pytest.fixture(autouse=True)
def _kpi_rows_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The KPI rows of the same cells computed once per process (tests/web/same_inputs.py):
    most tests here view the small site as built, or after the same change; so are a settled
    year's monthly rows and an FLS's treatment-mix query."""
    kpi_rows_once(monkeypatch)
    dashboard_parts_once(monkeypatch)


@pytest.mark.parametrize("shared", [False, True], ids=["own rows", "rows of GET /api/kpis"])
@pytest.mark.parametrize(("period", "as_of"), [("2024", AS_OF), ("2024-Q3", dt.date(2024, 11, 1))])
def test_figures_from_the_cells_equal_the_figures_from_the_records(
    site: Site, backend: str, period: str, as_of: dt.date, shared: bool
) -> None:
    live = LiveCache() if shared else None
    cells = maintained_figures(site.engine, period, as_of, live)
    records = records_figures(site.url, period, as_of)
    assert cells is not None
    if live is not None:  # the KPI rows are those GET /api/kpis serves, computed once for both
        kept = kpi_figures(site.engine, period, as_of, live)
        assert live.computed == 1 and kept is not None
        assert all(cells.unsuppressed[level] is kept.tables[level] for level in kept.tables)
        assert all(cells.published[level] is kept.shown[level] for level in kept.shown)
    for level, table in records.unsuppressed.items():
        pd.testing.assert_frame_equal(
            cells.unsuppressed[level].reset_index(drop=True),
            table.reset_index(drop=True),
            check_dtype=False,
        )
        pd.testing.assert_frame_equal(
            cells.published[level].reset_index(drop=True),
            records.published[level].reset_index(drop=True),
            check_dtype=False,
        )
    for name in ("monthly_service", "monthly_nation", "completeness"):
        pd.testing.assert_frame_equal(
            getattr(cells, name).reset_index(drop=True),
            getattr(records, name).reset_index(drop=True),
            check_dtype=False,
        )
    # The national trend over earlier years is the reports' alone: the period's own row here.
    ours = records.years[records.years["period"] == records.period.label]
    pd.testing.assert_frame_equal(
        cells.years.reset_index(drop=True), ours.reset_index(drop=True), check_dtype=False
    )
    assert cells.records == records.records == (6 if period == "2024" else 1)
    assert cells.services_with_records == records.services_with_records
    assert sorted(cells.inequities) == sorted(records.inequities)
    for kpi, result in records.inequities.items():
        assert list(cells.inequities[kpi].funnel.flags) == list(result.funnel.flags)
    # The treatment mix is each FLS's own, from its records, as the records' figures give it.
    for code in ("FLS01", "FLS02", "WAL01"):
        assert mix_shares(cells, code) == mix_shares(records, code)
        pd.testing.assert_frame_equal(
            cells.fls_mix(code, published=True).reset_index(drop=True),
            records.fls_mix(code, published=True).reset_index(drop=True),
            check_dtype=False,
        )


def test_any_period_shows_at_once_and_a_saved_change_is_in_the_next_view(site: Site) -> None:
    cache = site.app.state.dashboards
    cache.wait_seconds = 0  # nothing waits for a background computation
    nurse = site.client("nurse")
    for period, as_of in (("2024", "2026-01-31"), ("2024-Q2", "2025-03-01"), ("2024-05", "")):
        page = nurse.get("/fls/FLS01", params={"period": period, "as_of": as_of})
        assert page.status_code == 200, page.text
        assert "being computed" not in page.text
        assert "FLS01" in page.text
    assert cache.pool is None and not any(t.is_alive() for t in cache.refreshing.values())

    def kpi06() -> tuple[object, object]:
        found = dashboards.figures(cache, site.url, site.engine, "2024", AS_OF)
        assert not found.stale
        row = found.data.row("service", "FLS01", "kpi06", published=False)
        return row["numerator"], row["denominator"]

    assert kpi06() == (0, 3)
    record_id = site.record_id("FLS01")
    body = nurse.get(f"/api/records/{record_id}").json()
    saved = nurse.put(f"/api/records/{record_id}", json={**body, "falls_assessment": "assessed"})
    assert saved.status_code == 200, saved.text
    assert kpi06() == (1, 3)
    page = nurse.get("/fls/FLS01", params={"period": "2024", "as_of": AS_OF.isoformat()})
    assert page.status_code == 200 and "records changed since" not in page.text


def test_the_dashboards_and_the_api_compute_the_kpi_rows_once_per_change(site: Site) -> None:
    """The dashboards' KPI rows and their published copies are those `GET /api/kpis` serves:
    one computation (and one disclosure check) per change serves both, whichever asks first."""
    live = site.app.state.dashboards.live
    nurse = site.client("nurse")
    params = {"period": "2024", "as_of": AS_OF.isoformat()}
    assert nurse.get("/fls/FLS01", params=params).status_code == 200
    assert live.computed == 1
    # A region's rows are published to an FLS's staff: from the publication the dashboard made.
    region = nurse.get("/api/kpis", params={**params, "by": "region"})
    assert region.status_code == 200 and live.computed == 1
    record_id = site.record_id("FLS01")
    body = nurse.get(f"/api/records/{record_id}").json()
    saved = nurse.put(f"/api/records/{record_id}", json={**body, "falls_assessment": "assessed"})
    assert saved.status_code == 200, saved.text
    # After the change the API asks first; the dashboard takes its rows.
    assert nurse.get("/api/kpis", params={**params, "by": "region"}).status_code == 200
    assert live.computed == 2
    page = nurse.get("/fls/FLS01", params=params)
    assert page.status_code == 200 and "records changed since" not in page.text
    assert live.computed == 2
    found = dashboards.figures(site.app.state.dashboards, site.url, site.engine, "2024", AS_OF)
    assert not found.stale
    assert found.data.row("service", "FLS01", "kpi06", published=False)["numerator"] == 1


def test_a_saved_change_moves_the_own_kpi_while_the_figures_are_being_computed(
    site: Site,
) -> None:
    """While another view computes the figures after a change (a busy day: the whole figures a
    computation behind), the FLS's staff see their own KPI values as they are now (that FLS's
    cells alone); a region viewer, shown published figures, sees those computed."""
    cache = site.app.state.dashboards
    nurse = site.client("nurse")
    params = {"period": "2024", "as_of": AS_OF.isoformat()}
    marker = 'data-kpi="kpi06">'

    def own_kpi06(page: str) -> str:
        row = page[page.index(marker) :]
        return row[row.index('data-numerator="') + 16 :].split('"', 1)[0]

    first = nurse.get("/fls/FLS01", params=params)
    assert first.status_code == 200 and own_kpi06(first.text) == "0"
    record_id = site.record_id("FLS01")
    body = nurse.get(f"/api/records/{record_id}").json()
    saved = nurse.put(f"/api/records/{record_id}", json={**body, "falls_assessment": "assessed"})
    assert saved.status_code == 200, saved.text
    assert cache.cells.acquire(blocking=False)  # another view's computation is running
    try:
        page = nurse.get("/fls/FLS01", params=params)
        assert page.status_code == 200
        assert own_kpi06(page.text) == "1"
        assert "KPI values are current" in page.text
        assert cache.computed == 1  # the figures themselves were not computed again
        viewer = site.client("viewer").get("/fls/FLS01", params=params)
        assert viewer.status_code == 200 and "KPI values are current" not in viewer.text
    finally:
        cache.cells.release()
    page = nurse.get("/fls/FLS01", params=params)
    assert own_kpi06(page.text) == "1" and "records changed since" not in page.text


def test_a_busy_server_computes_the_figures_at_most_every_few_seconds(site: Site) -> None:
    """`FLSDB_DASHBOARD_CELLS_REFRESH`: figures younger than that are shown after a change,
    saying so, with the FLS's own KPI values as they are now for its staff; older ones are
    computed again at the next view."""
    cache = site.app.state.dashboards
    cache.cells_refresh_seconds = 3600.0
    nurse = site.client("nurse")
    params = {"period": "2024", "as_of": AS_OF.isoformat()}
    assert nurse.get("/fls/FLS01", params=params).status_code == 200
    assert cache.computed == 1
    record_id = site.record_id("FLS01")
    body = nurse.get(f"/api/records/{record_id}").json()
    saved = nurse.put(f"/api/records/{record_id}", json={**body, "falls_assessment": "assessed"})
    assert saved.status_code == 200, saved.text
    page = nurse.get("/fls/FLS01", params=params)
    row = page.text[page.text.index('data-kpi="kpi06">') :]
    assert 'data-numerator="1"' in row[: row.index("</tr>")]
    assert "KPI values are current" in page.text and cache.computed == 1
    cache.cells_refresh_seconds = 0.0
    found = dashboards.figures(cache, site.url, site.engine, "2024", AS_OF)
    assert not found.stale and cache.computed == 2


@WORKER_POOL_GROUP
def test_the_kpi_rows_computed_in_the_worker_process_meanwhile_are_the_same(
    site: Site, worker_pool: Any
) -> None:
    """With the server's worker process (`LiveCache.start_pool`), the KPI rows and their
    disclosure check run there while the dashboard's thread computes the monthly series: the
    same figures as computed in one thread."""
    live = LiveCache(pool=worker_pool)
    there = maintained_figures(site.engine, "2024", AS_OF, live)
    worker = next(iter(live.pool._processes.values()))
    assert there is not None and worker.is_alive() and live.computed == 1
    here = maintained_figures(site.engine, "2024", AS_OF)
    assert here is not None
    for level, table in here.unsuppressed.items():
        pd.testing.assert_frame_equal(there.unsuppressed[level], table)
        pd.testing.assert_frame_equal(there.published[level], here.published[level])
    pd.testing.assert_frame_equal(there.monthly_service, here.monthly_service)
    assert there.records == here.records and there.caseload_method == here.caseload_method


def test_a_failed_computation_from_the_cells_is_logged_and_said(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    nurse = site.client("nurse")
    params = {"period": "2024", "as_of": AS_OF.isoformat()}
    assert "failed" not in nurse.get("/fls/FLS01", params=params).text
    record = nurse.get("/api/records").json()["records"][0]
    assert nurse.put(f"/api/records/{record['id']}", json={**record, "sex": "male"}).status_code

    def broken(*args: object) -> None:
        raise RuntimeError("nhs 9434765919 in a message")

    monkeypatch.setattr(dashboards, "maintained_figures", broken)
    with caplog.at_level(logging.ERROR, logger="flsdb.services.dashboards"):
        page = nurse.get("/fls/FLS01", params=params)
    assert page.status_code == 200 and 'data-kpi="kpi04"' in page.text
    assert "The last computation of new figures failed" in page.text
    logged = [r.getMessage() for r in caplog.records if r.name == "flsdb.services.dashboards"]
    assert len(logged) == 1 and "computing the figures of 2024" in logged[0]
    assert "RuntimeError" in logged[0] and "9434765919" not in logged[0]


def test_a_change_to_another_fls_leaves_a_dashboard_as_it_was_made(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Figures a computation behind, with an FLS's own KPI rows as they are now: a save to
    another FLS's record leaves those rows as they were, so the FLS's page is not made again
    (its head and body are kept with the rows' content, not the data version); a save to its
    own record that moves a KPI makes it again, with the new value, and one that moves it back
    to the value computed shows the figures as computed, whose page was made already."""
    cache = site.app.state.dashboards
    cache.cells_refresh_seconds = 3600.0
    made: list[str] = []
    head = pages_fls._fls_head

    def counted(data, code, published):  # type: ignore[no-untyped-def]
        made.append(code)
        return head(data, code, published)

    monkeypatch.setattr(pages_fls, "_fls_head", counted)
    nurse, nurse2 = site.client("nurse"), site.client("nurse2")
    params = {"period": "2024", "as_of": AS_OF.isoformat()}

    def save(client, code: str, value: str) -> None:  # type: ignore[no-untyped-def]
        record_id = site.record_id(code)
        body = client.get(f"/api/records/{record_id}").json()
        saved = client.put(f"/api/records/{record_id}", json={**body, "falls_assessment": value})
        assert saved.status_code == 200, saved.text

    def kpi06() -> str:
        page = nurse.get("/fls/FLS01", params=params)
        assert page.status_code == 200 and "KPI values are current" in page.text
        row = page.text[page.text.index('data-kpi="kpi06">') :]
        return row[: row.index("</tr>")]

    assert nurse.get("/fls/FLS01", params=params).status_code == 200
    save(nurse, "FLS01", "assessed")
    assert 'data-numerator="1"' in kpi06() and made == ["FLS01", "FLS01"]
    save(nurse2, "FLS02", "assessed")
    assert 'data-numerator="1"' in kpi06() and made == ["FLS01", "FLS01"]
    save(nurse, "FLS01", "not_done")
    assert 'data-numerator="0"' in kpi06() and made == ["FLS01", "FLS01"]
    assert cache.computed == 1
