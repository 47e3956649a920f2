"""Who sees which numbers, decided in one place (`flsdb.services.policy`): every route of the
application (pages, downloads and the API) names its action, the roles the policy refuses are
refused, and figures leave at the viewer's disclosure level (issue 16, item 6)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute

from flsdb.services import policy
from flsdb.services.policy import ACTIONS, Actor, Role
from flsdb.web.app import application_routes, route_decision
from tests.factory import nhs_number, record
from tests.web.conftest import USERS, Site

PARAMS = {"period": "2024", "as_of": "2026-01-31"}
ROLE_ONLY = {"read_patients", "write_patients", "administer", "extract_pseudonymised"}


def _path(path: str, site: Site) -> str:
    values = {
        "record_id": str(site.record_id("FLS01")),
        "service_code": "FLS01",
        "region_code": "QE1",
        "upload_id": "0" * 32,
        "lock_id": "1",
        "username": "nurse",
        "action": "disable",
        "kind": "fls",
        "unit": "FLS01",
        "fmt": "html",
        "suffix": "csv",
        "level": "fls",
        "chart": "mix",
        "table": "kpis",
    }
    return path.format(**values)


def test_every_route_names_its_decision(site: Site) -> None:
    """Pages included: a route without a decision fails here, and an unknown action too."""
    missing, unknown, seen = [], [], set()
    for path, route in application_routes(site.app.routes):
        found = route_decision(route)
        seen.add(path)
        if not found:
            missing.append(path)
        elif not set(found) <= set(ACTIONS):
            unknown.append(f"{path}: {found}")
    assert not missing, f"routes without a decision: {missing}"
    assert not unknown, unknown
    # Pages and downloads are enumerated, not only the API's schema.
    assert {"/records", "/fls/{service_code}", "/download/{kind}/{unit}.{fmt}", "/static"} <= seen
    routes = application_routes(site.app.routes)
    assert route_decision(next(r for p, r in routes if p == "/login")) == ("public",)
    assert route_decision(next(r for p, r in routes if p == "/static")) == ("public",)


def test_a_route_without_a_decision_is_found(site: Site) -> None:
    @site.app.get("/undecided")
    def undecided() -> dict[str, str]:
        return {}

    routes = application_routes(site.app.routes)
    assert [p for p, r in routes if not route_decision(r)] == ["/undecided"]


def test_routes_refuse_what_their_decision_refuses(site: Site) -> None:
    """Anonymous: every route that is not public asks for a sign-in. Each role the policy
    refuses a role-limited action gets 403 or 404 from the GET routes that name it alone."""
    anonymous = site.client()
    clients = {name: site.client(name) for name in USERS}
    failures = []
    for template, route in application_routes(site.app.routes):
        if not isinstance(route, APIRoute):
            continue
        decision = route_decision(route) or ()
        path = _path(template, site)
        for method in sorted(route.methods):
            if decision != ("public",):
                got = anonymous.request(method, path, follow_redirects=False)
                api = path.startswith("/api")
                ok = (
                    got.status_code == 401
                    if api
                    else got.headers.get("location", "").startswith("/login")
                )
                if not ok:
                    failures.append(f"anonymous {method} {path}: {got.status_code}")
            if method != "GET" or len(decision) != 1 or decision[0] not in ROLE_ONLY:
                continue
            for name, (role, codes, region) in USERS.items():
                actor = Actor(name, role, frozenset(codes), region)
                if policy.can(actor, decision[0]):  # type: ignore[arg-type]
                    continue
                found = clients[name].get(path, params=PARAMS, follow_redirects=False)
                status = found.status_code
                if status not in (403, 404):
                    failures.append(f"{name} GET {path} ({decision[0]}): {status}")
    assert not failures, "\n".join(failures)


def test_policy_decisions() -> None:
    nurse = Actor("nurse", Role.FLS_STAFF, frozenset({"FLS01"}), None, 1, frozenset({"FLS01"}))
    viewer = Actor(
        "viewer", Role.REGION_VIEWER, frozenset(), "QE1", 2, frozenset({"FLS01", "FLS02"})
    )
    analyst = Actor("analyst", Role.NATIONAL_ANALYST)
    admin = Actor("admin", Role.ADMIN)
    qe1, wal = policy.region("QE1", {"FLS01", "FLS02"}), policy.region("7A1", {"WAL01"})
    assert policy.can(nurse, "read_aggregates", qe1) and not policy.can(
        nurse, "read_aggregates", wal
    )
    assert policy.can(viewer, "read_aggregates", "FLS02") and not policy.can(
        viewer, "read_patients"
    )
    assert policy.can(nurse, "sign_off", "FLS01") and not policy.can(nurse, "sign_off", "FLS02")
    assert not policy.can(nurse, "lock_year") and policy.can(analyst, "lock_year")
    assert policy.can(admin, "lift_lock") and not policy.can(analyst, "lift_lock")
    assert policy.scope(nurse, "read_patients").codes == {"FLS01"}
    assert policy.scope(viewer, "read_patients").codes == frozenset()
    assert policy.scope(analyst, "read_aggregates").codes is None
    assert policy.disclosure(nurse, "service", "FLS01") == "unsuppressed"
    assert policy.disclosure(nurse, "service", "FLS02") == "published"
    assert policy.disclosure(nurse, "region", "QE1") == "published"
    assert policy.disclosure(viewer, "service", "FLS01") == "published"
    assert policy.disclosure(analyst, "region", "7A1") == "unsuppressed"
    assert policy.disclosure(admin, "nation", "all") == "unsuppressed"
    with pytest.raises(ValueError):
        policy.decided("see_everything")  # type: ignore[arg-type]


def _small(value: object) -> bool:
    return isinstance(value, int) and 1 <= value <= 4


def test_kpis_by_region_for_fls_staff_are_published(site: Site) -> None:
    """Region 7A1 is one other FLS (WAL01, one record): FLS staff get it as published."""
    nurse = site.client("nurse").get("/api/kpis", params={**PARAMS, "by": "region"})
    assert nurse.status_code == 200
    rows = [r for r in nurse.json() if r["unit"] == "7A1"]
    assert rows
    kpi03 = next(r for r in rows if r["kpi"] == "kpi03")
    # The mark is the first withheld count's, the numerator's: `c` (withheld with the small
    # denominator, and not a count of 1 to 4, which alone is `<5`: issue 17).
    assert kpi03["denominator"] is None and kpi03["suppressed"] == "c"
    for row in nurse.json():
        if row["kpi"] == "kpi01":
            continue  # fields or FLSs, not patients: not a count the control withholds
        assert not any(_small(row[k]) for k in ("numerator", "denominator", "not_due")), row
        if row["suppressed"]:
            assert row["percent"] is None and row["ci_low"] is None and row["rag"] is None
    # Its own FLS in full; the national team everything in full.
    own = site.client("nurse").get("/api/kpis", params={**PARAMS, "by": "service"}).json()
    assert next(r for r in own if r["kpi"] == "kpi03")["denominator"] == 3
    assert all(r["suppressed"] is None for r in own)
    for name in ("analyst", "admin"):
        full = site.client(name).get("/api/kpis", params={**PARAMS, "by": "region"}).json()
        wal = next(r for r in full if r["unit"] == "7A1" and r["kpi"] == "kpi03")
        assert wal["denominator"] == 1 and wal["suppressed"] is None
    viewer = site.client("viewer").get("/api/kpis", params={**PARAMS, "by": "service"}).json()
    assert {r["unit"] for r in viewer} == {"FLS01", "FLS02"}
    assert not any(
        _small(r[k]) for r in viewer for k in ("numerator", "denominator") if r["kpi"] != "kpi01"
    )


def _monthly_points(client: Any, html: str) -> list[dict[str, Any]]:
    """The monthly points of every SPC chart on a page (fetched as the page fetches them)."""
    points = []
    for found in re.finditer(r'id="spc-[^"]*" data-src="([^"]+)"', html):
        spec = client.get(found.group(1).replace("&amp;", "&"))
        assert spec.status_code == 200
        points += [p for p in spec.json()["data"]["values"] if "month" in p]
    return points


def test_region_viewer_gets_no_small_monthly_count(site: Site) -> None:
    nurse = site.client("nurse")
    for month in range(1, 13):  # a patient in every month of 2024: an SPC chart per KPI
        new = record(
            service_code="FLS01",
            nhs_number=nhs_number(400 + month),
            date_fracture_diagnosed=f"2024-{month:02d}-10",
        )
        made = nurse.post("/api/records", json={k: v or None for k, v in new.items()})
        assert made.status_code == 201, made.text
    own = nurse.get("/fls/FLS01", params=PARAMS)
    assert own.status_code == 200
    mine = _monthly_points(nurse, own.text)
    assert mine and any(_small(p["denominator"]) for p in mine)  # its staff: in full
    page = site.client("viewer").get("/fls/FLS01", params=PARAMS)
    assert page.status_code == 200
    # Months beside the published year could be subtracted from it: a region viewer gets none.
    assert _monthly_points(site.client("viewer"), page.text) == []
    # ... nor by asking for a chart of months directly.
    assert (
        site.client("viewer").get("/charts/fls/FLS01/spc-kpi04", params=PARAMS).status_code == 404
    )
    assert "Month-by-month charts of an FLS are shown to its own staff" in page.text
    assert "Every figure here is shown as published" in page.text
    table = re.search(r'<table class="data kpis" id="kpi-table">(.*?)</table>', page.text, re.S)
    cells = re.findall(r'data-(?:numerator|denominator)="([^"]*)"', table.group(1))  # type: ignore[union-attr]
    assert cells and not any(c in ("1", "2", "3", "4") for c in cells)
    # The FLS report (its figures in full) is for its staff and the national team.
    report = site.client("viewer").get("/download/fls/FLS01.html", params=PARAMS)
    assert report.status_code == 403
