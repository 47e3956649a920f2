"""Dashboards: each scope's page shows the KPI engine's numbers (the same as GET /api/kpis),
computed once per period and recomputed after a change; scope decided as everywhere else."""

from __future__ import annotations

import logging
import re

import pytest

from tests.web.conftest import Site
from tests.web.downloads import figures_once
from tests.web.same_inputs import dashboard_parts_once, kpi_rows_once, records_figures_once

PARAMS = {"period": "2024"}


@pytest.fixture(autouse=True)
def _same_inputs_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Figures of the same inputs computed once per process (tests/web/same_inputs.py): most
    tests here view the small site as built, or after the same change."""
    records_figures_once(monkeypatch)
    kpi_rows_once(monkeypatch)
    dashboard_parts_once(monkeypatch)


def _own_cells(html: str) -> dict[str, tuple[str, str, str]]:
    found = re.findall(
        r'<tr data-kpi="([^"]+)">.*?data-numerator="([^"]*)" data-denominator="([^"]*)" '
        r'data-percent="([^"]*)"',
        html,
        flags=re.S,
    )
    return {kpi: (n, d, p) for kpi, n, d, p in found}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_fls_dashboard_matches_the_api(viewed_site: Site) -> None:
    nurse = viewed_site.client("nurse")
    page = nurse.get("/fls/FLS01", params=PARAMS)
    assert page.status_code == 200
    cells = _own_cells(page.text)
    api = nurse.get("/api/kpis", params={**PARAMS, "by": "service"}).json()
    expected = {
        r["kpi"]: (
            _text(r["numerator"]),
            _text(r["denominator"]),
            "" if r["percent"] is None else str(r["percent"]),
        )
        for r in api
    }
    assert cells == expected
    assert cells["kpi04"] == ("1", "3", "33.3")  # one of FLS01's three assessed in 90 days
    for chart in ("funnel-kpi04", "completeness", "mix"):
        assert f'id="{chart}"' in page.text
    # Three months of patients: no SPC chart, a sentence saying so.
    assert 'id="spc-kpi04"' not in page.text and "too few for an SPC chart" in page.text
    assert "a concern" not in page.text  # no signal read from three months
    assert "3 of 17 fields over 20% missing" not in page.text  # kpi01 in words, its own count
    assert "fields over 20% missing" in page.text
    # The test's upload held three FLSs' records: its file name is its uploader's alone.
    assert "Last upload by test" in page.text and "records.csv" not in page.text


def test_dashboards_by_scope(viewed_site: Site) -> None:
    assert viewed_site.client("nurse2").get("/fls/FLS01").status_code == 404
    assert viewed_site.client("viewer").get("/fls/FLS01", params=PARAMS).status_code == 200
    assert viewed_site.client("viewer").get("/fls/WAL01").status_code == 404
    assert viewed_site.client("viewer").get("/region/QE1", params=PARAMS).status_code == 200
    assert viewed_site.client("viewer").get("/region/7A1").status_code == 404
    assert viewed_site.client("nurse").get("/region/7A1").status_code == 404
    for name in ("nurse", "viewer", "analyst", "admin"):
        page = viewed_site.client(name).get("/nation", params=PARAMS)
        assert page.status_code == 200 and 'id="benchmark"' in page.text
    region = viewed_site.client("viewer").get("/region/QE1", params=PARAMS)
    assert "FLS01" in region.text and "FLS02" in region.text and "WAL01" not in region.text
    # Published: the region's FLSs have counts of 1 to 4, shown as <5, never as numbers.
    assert "&lt;5" in region.text


def test_every_chart_of_each_dashboard_gives_its_specification(viewed_site: Site) -> None:
    """Each chart's Vega-Lite specification, fetched as the page's script fetches it when the
    chart comes into view (drawn in a browser on SQLite: test_browser_dashboards.py), on both
    backends: the FLS's for its nurse, the region's for its viewer, the nation's for an analyst."""
    for name, path in (
        ("nurse", "/fls/FLS01"),
        ("viewer", "/region/QE1"),
        ("analyst", "/nation"),
    ):
        client = viewed_site.client(name)
        page = client.get(path, params=PARAMS)
        assert page.status_code == 200
        sources = re.findall(r'class="vega[^"]*"[^>]* data-src="([^"]+)"', page.text)
        assert len(sources) >= (10 if name == "nurse" else 1), (path, len(sources))
        for src in sources:
            spec = client.get(src.replace("&amp;", "&"))
            assert spec.status_code == 200, src
            assert spec.json()["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"


def test_figures_are_cached_until_a_record_changes(site: Site) -> None:
    nurse = site.client("nurse")
    cache = site.app.state.dashboards
    nurse.get("/fls/FLS01", params=PARAMS)
    nurse.get("/fls/FLS01", params=PARAMS)
    site.client("viewer").get("/region/QE1", params=PARAMS)
    assert cache.computed == 1
    record = next(
        r for r in nurse.get("/api/records").json()["records"] if r["date_fls_assessment"] is None
    )
    saved = nurse.put(
        f"/api/records/{record['id']}",
        json={**record, "date_fls_assessment": record["date_fracture_diagnosed"]},
    )
    assert saved.status_code == 200
    page = nurse.get("/fls/FLS01", params=PARAMS)
    assert cache.computed == 2
    assert _own_cells(page.text)["kpi04"] == ("2", "3", "66.7")
    # The last upload's notice counts the form's changes since, read from the newer audit rows
    # only; another FLS's change is not one of them.
    assert "Since then 1 change made in the form." in page.text
    nurse2 = site.client("nurse2")
    other = nurse2.get("/api/records").json()["records"][0]
    assert nurse2.put(f"/api/records/{other['id']}", json={**other, "sex": "male"}).status_code
    assert "Since then 1 change made in the form." in nurse.get("/fls/FLS01", params=PARAMS).text
    again = nurse.get(f"/api/records/{record['id']}").json()
    assert nurse.put(f"/api/records/{record['id']}", json={**again, "sex": "male"}).status_code
    assert "Since then 2 changes made in the form." in nurse.get("/fls/FLS01", params=PARAMS).text


def test_downloads_for_the_dashboards_scope(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    figures_once(monkeypatch)  # no record changes between the downloads
    nurse = site.client("nurse")
    report = nurse.get("/download/fls/FLS01.html", params=PARAMS)
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    assert "North FLS" in report.text and "not for publication" in report.text.lower()
    table = site.client("viewer").get("/download/benchmark/all.csv", params=PARAMS)
    assert table.status_code == 200 and "FLS01" in table.text
    pdf = site.client("viewer").get("/download/region/QE1.pdf", params=PARAMS)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert site.client("nurse2").get("/download/fls/FLS01.html", params=PARAMS).status_code == 404
    assert site.client("viewer").get("/download/region/7A1.pdf", params=PARAMS).status_code == 404
    assert nurse.get("/download/fls/FLS01.exe", params=PARAMS).status_code == 404
    events = site.client("admin").get("/api/audit", params={"action": "export_report"}).json()
    assert events["total"] == 3


def test_spc_charts_once_there_are_twelve_months(site: Site) -> None:
    from tests.factory import nhs_number, record

    nurse = site.client("nurse")
    for month in range(1, 13):
        row = record(
            service_code="FLS01",
            nhs_number=nhs_number(500 + month),
            date_fracture_diagnosed=f"2024-{month:02d}-10",
        )
        assert (
            nurse.post("/api/records", json={k: v or None for k, v in row.items()}).status_code
            == 201
        )
    page = nurse.get("/fls/FLS01", params=PARAMS)
    assert 'id="spc-kpi04"' in page.text
    # One or two patients a month: too few for process limits, by month or by quarter. As the
    # reports do (review item 2), a run chart of the quarters about their median, its rule said.
    quarters = _spc_points(nurse, page.text)
    assert [p["month_name"] for p in quarters] == [
        "Jan–Mar 2024", "Apr–Jun 2024", "Jul–Sep 2024", "Oct–Dec 2024"
    ]  # fmt: skip
    assert all(p["lower"] is None and p["upper"] is None for p in quarters)
    assert "a run chart of the quarters about their median" in page.text
    assert "Its signals (Anhoej's rules) are" in page.text or "too few to test" in page.text
    # Twenty more patients a month: process limits by month.
    _store(site, [
        record(service_code="FLS01", nhs_number=nhs_number(1000 + 20 * month + i),
               date_fracture_diagnosed=f"2024-{month:02d}-{i + 1:02d}")
        for month in range(1, 13) for i in range(20)
    ])  # fmt: skip
    page = nurse.get("/fls/FLS01", params=PARAMS)
    assert 'id="spc-kpi04"' in page.text
    # The chart's specification is fetched when the chart comes into view (issue 19: the page
    # itself carries tables, not chart data).
    points = _spc_points(nurse, page.text)
    months = [p["month"] for p in points]
    assert months == sorted(months) and len(months) == 12  # months with patients, in order
    assert all(
        set(p) >= {"numerator", "denominator", "percent", "lower", "upper", "signal"}
        for p in points
    )
    assert all(p["lower"] is not None for p in points)


def _spc_points(client: object, html: str) -> list[dict[str, object]]:
    """The kpi04 SPC chart's points, its specification fetched as the page fetches it."""
    src = re.search(r'id="spc-kpi04" data-src="([^"]+)"', html)
    assert src is not None
    spec = client.get(src.group(1).replace("&amp;", "&"))  # type: ignore[attr-defined]
    assert spec.status_code == 200
    return list(spec.json()["data"]["values"])


def _store(site: Site, rows: list[dict[str, str]]) -> None:
    """Rows stored as an upload stores them (the maintained figures kept in step)."""
    import tempfile
    from pathlib import Path

    from flsdb.ingest import open_upload, validate
    from flsdb.storage import known_service_codes, store_records
    from tests.factory import write_records

    with tempfile.TemporaryDirectory() as folder:
        found = validate(
            open_upload(write_records(Path(folder) / "more.csv", rows)),
            "records",
            known_services=known_service_codes(site.engine),
        )
        assert found.ok, found.issues.frame
        store_records(site.engine, found, "test")


def test_busy_days_show_the_last_figures_and_say_so(site: Site) -> None:
    nurse = site.client("nurse")
    cache = site.app.state.dashboards
    cache.from_cells = False  # the figures from the records (a store that keeps none)
    cache.refresh_seconds = 3600  # as if edits kept coming faster than the figures refresh
    assert "records changed since" not in nurse.get("/fls/FLS01", params=PARAMS).text
    record = nurse.get("/api/records").json()["records"][0]
    assert (
        nurse.put(f"/api/records/{record['id']}", json={**record, "sex": "male"}).status_code == 200
    )
    page = nurse.get("/fls/FLS01", params=PARAMS)
    assert "records changed since. New figures are computed at most every 3600 seconds" in page.text
    assert cache.computed == 1


def test_a_first_view_that_would_wait_long_says_the_figures_are_coming(site: Site) -> None:
    """The first computation of a period runs in the background: a view waits for it up to
    `wait_seconds`, then says so and reloads itself; the API answers from the maintained
    figures meanwhile."""
    cache = site.app.state.dashboards
    cache.from_cells = False  # the figures from the records (a store that keeps none)
    cache.wait_seconds = 0
    nurse = site.client("nurse")
    page = nurse.get("/fls/FLS01", params=PARAMS)
    assert page.status_code == 503 and page.headers["retry-after"] == "5"
    assert "The figures for 2024 are being computed" in page.text
    assert '<meta http-equiv="refresh" content="5">' in page.text
    # The API's KPI rows come from the maintained figures at once (issue 19), charts or not.
    api = nurse.get("/api/kpis", params={**PARAMS, "by": "service"})
    assert api.status_code == 200 and {r["unit"] for r in api.json()} == {"FLS01"}
    for thread in list(cache.refreshing.values()):
        thread.join(120)
    assert nurse.get("/fls/FLS01", params=PARAMS).status_code == 200
    assert cache.computed == 1
    # A period the engine refuses is said at once, not left "being computed".
    refused = nurse.get("/api/kpis", params={"period": "2024-13", "by": "service"})
    assert refused.status_code == 422


def test_a_failed_refresh_is_logged_and_said(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Older figures are shown when a refresh fails, and the page says so (not only that
    records changed); the server log has the failure, without its message."""
    from flsdb.services import dashboards

    site.app.state.dashboards.from_cells = False  # the figures from the records
    nurse = site.client("nurse")
    assert "failed" not in nurse.get("/fls/FLS01", params=PARAMS).text
    record = nurse.get("/api/records").json()["records"][0]
    assert (
        nurse.put(f"/api/records/{record['id']}", json={**record, "sex": "male"}).status_code == 200
    )

    def broken(*args: object) -> None:
        raise RuntimeError("nhs 9434765919 in a message")

    monkeypatch.setattr(dashboards, "_computed", broken)
    with caplog.at_level(logging.ERROR, logger="flsdb.services.dashboards"):
        page = nurse.get("/fls/FLS01", params=PARAMS)
    assert page.status_code == 200 and 'data-kpi="kpi04"' in page.text
    assert "records changed since" in page.text
    assert "The last computation of new figures failed" in page.text
    logged = [r.getMessage() for r in caplog.records if r.name == "flsdb.services.dashboards"]
    assert len(logged) == 1 and "computing the figures of 2024" in logged[0]
    assert "RuntimeError" in logged[0] and "9434765919" not in logged[0]
    assert site.app.state.dashboards.computed == 1
