"""Nothing from a request where it does not belong (issue 16, items 4, 5 and 8): an upload's file
name is not in the audit log nor shown outside its FLS; an NHS number never in an address;
redirects relative; response headers and the server log free of request text; the figures cache
bounded and its keys checked; a new FLS's dashboard says it has no records yet."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from flsdb.ingest import open_upload, validate
from flsdb.services import accounts
from flsdb.services.access import Role
from flsdb.storage import store_services
from tests.factory import SERVICES, nhs_number, record, write_records, write_services
from tests.web.conftest import PASSWORD, Site
from tests.web.same_inputs import dashboard_parts_once, kpi_rows_once, records_figures_once

PATIENT_FILE = "9434765919 1950-03-04 SW1A 1AA Smith.csv"
FRAGMENTS = ("9434765919", "1950-03-04", "SW1A 1AA", "Smith")


@pytest.fixture(autouse=True)
def _same_inputs_once(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Figures of the same inputs computed once per process (tests/web/same_inputs.py): most
    tests here view the small site as built, or after the same change. Not in the cache's
    bounds test: each of its computations is of an extract date of its own (the inputs' digests
    would be read for nothing)."""
    if request.node.originalname == "test_the_figures_cache_stays_within_its_bounds":
        return
    records_figures_once(monkeypatch)
    kpi_rows_once(monkeypatch)
    dashboard_parts_once(monkeypatch)


def _upload_and_store(site: Site, tmp_path: Path) -> None:
    rows = [
        record(
            service_code="FLS01", nhs_number=nhs_number(70), date_fracture_diagnosed="2024-08-01"
        )
    ]
    content = write_records(tmp_path / "upload.csv", rows).read_bytes()
    nurse = site.client("nurse")
    preview = nurse.post("/api/uploads", files={"file": (PATIENT_FILE, content, "text/csv")})
    assert preview.status_code == 200, preview.text
    committed = nurse.post(f"/api/uploads/{preview.json()['id']}/commit")
    assert committed.status_code == 200, committed.text
    assert nurse.get(f"/api/uploads/{preview.json()['id']}/errors.csv").status_code == 200


def test_an_uploads_file_name_stays_with_its_fls(site: Site, tmp_path: Path) -> None:
    _upload_and_store(site, tmp_path)
    audit = site.client("admin").get("/api/audit", params={"limit": 1000})
    assert audit.status_code == 200
    actions = {e["action"] for e in audit.json()["events"]}
    assert {"upload_preview", "upload_commit", "export_errors"} <= actions
    for fragment in FRAGMENTS:
        assert fragment not in audit.text
    page = site.client("admin").get("/admin/audit")
    assert page.status_code == 200 and "Smith" not in page.text
    for name in ("viewer", "analyst"):
        dashboard = site.client(name).get("/fls/FLS01", params={"period": "2024"})
        assert dashboard.status_code == 200, dashboard.text
        assert "Last upload by nurse" in dashboard.text  # what it did, not what it was called
        for fragment in FRAGMENTS:
            assert fragment not in dashboard.text
    own = site.client("nurse").get("/fls/FLS01", params={"period": "2024"})
    assert own.status_code == 200 and f"Last upload: {PATIENT_FILE}" in own.text


def test_an_nhs_number_is_never_taken_from_an_address(site: Site) -> None:
    nurse = site.client("nurse")
    for path in ("/api/records", "/records", "/kpis", "/api/kpis", "/nowhere"):
        refused = nurse.get(path, params={"nhs_number": nhs_number(2)}, follow_redirects=False)
        assert refused.status_code == 400, path
        assert "NHS number may not be sent in a web address" in refused.text
        assert nhs_number(2) not in refused.text
    found = nurse.post("/api/records/search", json={"nhs_number": nhs_number(2)})
    assert found.status_code == 200
    assert found.json()["total"] == 1
    assert found.json()["records"][0]["date_fracture_diagnosed"] == "2024-05-01"
    # Another FLS's patient is not found; the other fields as in GET /api/records.
    other = nurse.post("/api/records/search", json={"nhs_number": nhs_number(4)})
    assert other.json()["total"] == 0
    dated = nurse.post(
        "/api/records/search",
        json={"fracture_from": "2024-04-01", "fracture_to": "2024-12-31", "limit": 1},
    )
    assert dated.json()["total"] == 2 and len(dated.json()["records"]) == 1
    assert nurse.post("/api/records/search", json={"service": "FLS02"}).status_code == 404
    assert nurse.post("/api/records/search", json={"nhs": "1"}).status_code == 422
    # Without the CSRF token a cookie's search is refused, as every other POST.
    bare = site.client("nurse")
    bare.headers.pop("X-CSRF-Token")
    assert bare.post("/api/records/search", json={}).status_code == 403
    assert site.client("viewer").post("/api/records/search", json={}).status_code == 403


def test_a_trailing_slash_redirect_is_relative(site: Site) -> None:
    nurse = site.client("nurse")
    hostile = {"Host": "evil.example"}
    moved = nurse.get("/records/", headers=hostile, follow_redirects=False)
    assert moved.status_code == 307 and moved.headers["location"] == "/records"
    api = nurse.get(
        "/api/kpis/",
        params={"period": "2024", "by": "region"},
        headers=hostile,
        follow_redirects=False,
    )
    assert api.status_code == 307
    assert api.headers["location"] == "/api/kpis?period=2024&by=region"
    doubled = nurse.get("/records//", headers=hostile, follow_redirects=False)
    assert doubled.status_code == 307 and doubled.headers["location"] == "/records"
    # Nowhere for an address that is no page; a line break stays encoded, never a header.
    response = nurse.get("/nothing/", headers=hostile, follow_redirects=False)
    assert response.status_code == 404 and "location" not in response.headers
    broken = nurse.get("/records/%0d%0aSet-Cookie:x/", headers=hostile, follow_redirects=False)
    assert broken.headers["location"].startswith("/records/")
    assert "\r" not in broken.headers["location"] and "\n" not in broken.headers["location"]
    assert "set-cookie" not in broken.headers
    from starlette.requests import Request

    from flsdb.web.hygiene import slash_redirect

    for path in ("//evil.example/", "//records/", "/\\evil.example/"):
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"host", b"evil.example")],
            "app": site.app,
        }
        target = slash_redirect(Request(scope))
        assert target is None or (target.startswith("/") and not target.startswith("//"))


@pytest.mark.parametrize("bad", ["2024\n", "2024\r\nSet-Cookie: x=1", "2024\u2028", "2024 Q1"])
def test_a_period_outside_the_grammar_is_refused_before_any_header(
    site: Site, bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLSDB_PSEUDONYM_KEY", "k" * 40)
    analyst = site.client("analyst")
    for path in ("/api/extracts/pseudonymised", "/api/kpis", "/fls/FLS01", "/download/nation.csv"):
        response = analyst.get(path, params={"period": bad})
        assert response.status_code == 422, (path, response.status_code)
        assert "is not a period" in response.text
        assert "set-cookie" not in {k.lower() for k in response.headers if k != "set-cookie"}
    good = analyst.get("/api/extracts/pseudonymised", params={"period": " 2024 "})
    assert good.status_code == 200
    assert good.headers["content-disposition"] == (
        'attachment; filename="flsdb-pseudonymised-2024.csv"'
    )


def test_the_server_log_has_the_exception_type_and_frames_not_its_message(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    def explode() -> None:
        raise ValueError(f"no such patient {nhs_number(2)} at SW1A 1AA")

    site.app.add_api_route("/api/explode/{anything}", explode)
    with caplog.at_level(logging.ERROR, logger="flsdb.web"):
        response = site.client("nurse").get(f"/api/explode/{nhs_number(3)}")
    assert response.status_code == 500
    assert response.json() == {"detail": "Something went wrong on the server; nothing was changed."}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ValueError" in logged and "/api/explode/{anything}" in logged
    assert "test_request_hygiene.py" in logged and "in explode" in logged
    for secret in (nhs_number(2), nhs_number(3), "SW1A"):
        assert secret not in logged


# The caches are the server's memory, filled by the same figures from either backend (whose
# computation on both is checked in test_dashboards.py and test_live_figures.py): on SQLite.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_figures_cache_stays_within_its_bounds(site: Site) -> None:
    """The dashboards' figures cache: the bound by count checked at 3 keys over 5 extract dates
    (each date is a full computation of the figures; the default bound, 12, works the same way).
    `GET /api/kpis` reads the maintained figures through its own cache, bounded by count too."""
    cache = site.app.state.dashboards
    assert cache.max_entries == 12  # the default
    cache.max_entries = 3
    nurse = site.client("nurse")
    first = dt.date(2026, 1, 1)
    for day in range(5):
        as_of = (first + dt.timedelta(days=day)).isoformat()
        response = nurse.get("/fls/FLS01", params={"period": "2024", "as_of": as_of})
        assert response.status_code == 200, response.text
        assert len(cache.entries) <= cache.max_entries
    assert cache.computed == 5
    assert len(cache.entries) == cache.max_entries == 3
    kept = [key[1] for key in cache.entries]
    assert kept == [first + dt.timedelta(days=d) for d in range(2, 5)]  # the latest 3
    assert 0 < cache.size() <= cache.max_bytes
    # A view of a kept key makes it the most recent; the next new one drops the oldest.
    nurse.get("/fls/FLS01", params={"period": "2024", "as_of": "2026-01-03"})
    nurse.get("/fls/FLS01", params={"period": "2024", "as_of": "2026-02-15"})
    kept = [key[1].isoformat() for key in cache.entries]
    assert "2026-01-03" in kept and "2026-01-04" not in kept and kept[-1] == "2026-02-15"
    # By memory too: with room for one computation, one is kept.
    cache.max_bytes = 1
    nurse.get("/fls/FLS01", params={"period": "2024", "as_of": "2026-02-16"})
    assert [key[1].isoformat() for key in cache.entries] == ["2026-02-16"]
    live = cache.live
    assert live.max_entries == 16
    live.max_entries = 3
    assert live.max_levels == 256
    live.max_levels = 3
    # The dashboards viewed above share these rows (one computation per change for both): the
    # API's own bound is proven from empty.
    live.entries.clear()
    live.levels.clear()
    for day in range(5):
        as_of = (first + dt.timedelta(days=day)).isoformat()
        for by in ("region", "service"):  # published rows (every level), own rows (one)
            params = {"period": "2024", "as_of": as_of, "by": by}
            assert nurse.get("/api/kpis", params=params).status_code == 200
        assert len(live.entries) <= 3 and len(live.levels) <= 3
    assert [key[1] for key in live.entries] == [first + dt.timedelta(days=d) for d in (2, 3, 4)]
    assert [key[1] for key in live.levels] == [first + dt.timedelta(days=d) for d in (2, 3, 4)]


def test_figures_are_asked_for_with_keys_the_records_allow(site: Site) -> None:
    cache = site.app.state.dashboards
    nurse = site.client("nurse")
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    for params, words in (
        ({"period": "2024", "as_of": tomorrow.isoformat()}, "is after today"),
        ({"period": "2024", "as_of": "2024-01-15"}, "is before the first record"),
        ({"period": "2019", "as_of": "2026-01-31"}, "There are no records in 2019"),
        ({"period": "2025-Q1", "as_of": "2026-01-31"}, "give a period in 2024"),
    ):
        refused = nurse.get("/api/kpis", params=params)
        assert refused.status_code == 422, params
        assert words in refused.json()["detail"]
        page = nurse.get("/fls/FLS01", params=params)
        assert page.status_code == 422 and words in page.text
    assert cache.computed == 0 and not cache.entries


def test_a_new_fls_has_a_dashboard_and_renaming_shows(site: Site, tmp_path: Path) -> None:
    cache = site.app.state.dashboards
    nurse = site.client("nurse")
    assert nurse.get("/fls/FLS01", params={"period": "2024"}).status_code == 200
    computed = cache.computed
    added = {**SERVICES[0], "service_code": "FLS03", "service_name": "Harbour FLS"}
    renamed = {**SERVICES[0], "service_name": "North Shore FLS"}
    services = [renamed, *SERVICES[1:], added]
    table = validate(open_upload(write_services(tmp_path / "more.csv", services)), "services")
    store_services(site.engine, table, "admin")
    accounts.add_user(site.engine, "nurse3", Role.FLS_STAFF, PASSWORD, service_codes=["FLS03"])
    nurse3 = site.client("nurse3")
    # Figures computed before the FLS was loaded (and not refreshed yet): no 500. (Figures from
    # the store's maintained counts are never behind: this is a store's that keeps none.)
    cache.from_cells = False
    cache.refresh_seconds, cache.wait_seconds = 3600, 0
    early = nurse3.get("/fls/FLS03", params={"period": "2024"})
    assert early.status_code == 200, early.text
    assert "Harbour FLS (FLS03) has no records yet" in early.text
    assert cache.computed == computed
    report = nurse3.get("/download/fls/FLS03.html", params={"period": "2024"})
    assert report.status_code == 404 and "no records yet" in report.text
    # Loading services is a change: the next refresh computes figures that know the FLS.
    cache.refresh_seconds, cache.wait_seconds = 0, 600
    new = nurse3.get("/fls/FLS03", params={"period": "2024"})
    assert new.status_code == 200, new.text
    assert "Harbour FLS (FLS03) has no records yet" in new.text
    assert cache.computed == computed + 1
    viewer = site.client("viewer").get("/fls/FLS03", params={"period": "2024"})
    assert viewer.status_code == 200 and "no records yet" in viewer.text
    again = nurse.get("/fls/FLS01", params={"period": "2024"})
    assert again.status_code == 200 and "North Shore FLS (FLS01)" in again.text
    assert "no records yet" not in again.text
