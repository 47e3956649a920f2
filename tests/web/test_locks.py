"""Sign-off and locking: a signed-off quarter closes its FLS's records, a locked year closes
every FLS's, both with a sentence saying who and when (423), until an administrator lifts it."""

from __future__ import annotations

from pathlib import Path

from flsdb.dates import uk_date
from tests.command import flsdb_here as flsdb
from tests.factory import nhs_number, record, write_records
from tests.web.conftest import Site


def _record(site: Site, name: str, date: str) -> dict:  # type: ignore[type-arg]
    client = site.client(name)
    found = client.get("/api/records").json()["records"]
    return next(r for r in found if r["date_fracture_diagnosed"] == date)


def test_sign_off_closes_the_quarter_of_that_fls(site: Site) -> None:
    nurse = site.client("nurse")
    done = nurse.post(
        "/api/locks",
        json={"period": "2024-Q1", "service": "FLS01", "note": "complete", "confirm": True},
    )
    assert done.status_code == 201, done.text
    assert done.json()["kind"] == "sign_off" and done.json()["records_missing_key_fields"] == 1
    q1 = _record(site, "nurse", "2024-03-01")
    refused = nurse.put(f"/api/records/{q1['id']}", json={**q1, "sex": "male"})
    assert refused.status_code == 423
    assert "2024-Q1 was signed off for FLS FLS01 by nurse on" in refused.json()["detail"]
    assert nurse.get(f"/api/records/{q1['id']}").json()["version"] == 1  # unchanged
    assert nurse.delete(f"/api/records/{q1['id']}").status_code == 423
    new = record(
        service_code="FLS01", nhs_number=nhs_number(300), date_fracture_diagnosed="2024-02-02"
    )
    assert (
        nurse.post("/api/records", json={k: v or None for k, v in new.items()}).status_code == 423
    )
    q2 = _record(site, "nurse", "2024-05-01")
    assert nurse.put(f"/api/records/{q2['id']}", json={**q2, "sex": "male"}).status_code == 200
    other = _record(site, "nurse2", "2024-02-01")  # FLS02's Q1 is open
    assert (
        site.client("nurse2")
        .put(f"/api/records/{other['id']}", json={**other, "sex": "male"})
        .status_code
        == 200
    )
    # Moving a record into the closed quarter is refused as well.
    assert (
        nurse.put(
            f"/api/records/{q2['id']}",
            json={**q2, "version": 2, "date_fracture_diagnosed": "2024-03-15"},
        ).status_code
        == 423
    )


def test_year_lock_closes_every_fls_until_lifted(site: Site, tmp_path: Path) -> None:
    analyst, admin, nurse2 = site.client("analyst"), site.client("admin"), site.client("nurse2")
    assert (
        site.client("nurse")
        .post("/api/locks", json={"period": "2024", "confirm": True})
        .status_code
        == 403
    )
    assert analyst.post("/api/locks", json={"period": "2024-Q1"}).status_code == 422
    lock = analyst.post(
        "/api/locks", json={"period": "2024", "note": "annual report", "confirm": True}
    )
    assert lock.status_code == 201
    assert analyst.post("/api/locks", json={"period": "2024", "confirm": True}).status_code == 409
    target = _record(site, "nurse2", "2024-04-01")
    refused = nurse2.put(f"/api/records/{target['id']}", json={**target, "sex": "male"})
    assert (
        refused.status_code == 423
        and "locked for the annual report by analyst" in refused.json()["detail"]
    )
    # An upload into the locked year is refused whole, naming the row.
    rows = [
        record(
            service_code="FLS02", nhs_number=nhs_number(310), date_fracture_diagnosed="2024-08-01"
        )
    ]
    content = write_records(tmp_path / "late.csv", rows).read_bytes()
    preview = nurse2.post("/api/uploads", files={"file": ("late.csv", content, "text/csv")})
    assert preview.status_code == 423 and "row 2" in preview.json()["detail"]
    # So is the command line's import.
    if site.url.startswith("sqlite"):
        done = flsdb("import", str(tmp_path / "late.csv"), "--db", site.url, cwd=tmp_path)
        assert done.returncode == 1 and "locked for the annual report" in done.stderr
        assert "Traceback" not in done.stderr
    lift = f"/api/locks/{lock.json()['id']}/lift"
    assert nurse2.post(lift, json={"reason": "a late record"}).status_code == 403
    lifted = admin.post(lift, json={"reason": "a late record"})
    assert lifted.status_code == 200 and lifted.json()["lifted_by"] == "admin"
    assert (
        nurse2.put(f"/api/records/{target['id']}", json={**target, "sex": "male"}).status_code
        == 200
    )
    actions = {e["action"] for e in admin.get("/api/audit").json()["events"]}
    assert {"period_locked", "period_unlocked"} <= actions


def test_locked_form_shows_the_reason(site: Site) -> None:
    import re

    site.client("analyst").post("/api/locks", json={"period": "2024", "confirm": True})
    nurse = site.client()
    nurse.post("/login", data={"username": "nurse", "password": "correct horse battery"})
    q1 = _record(site, "nurse", "2024-03-01")
    form = nurse.get(f"/records/{q1['id']}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    values = {k: v for k, v in q1.items() if v is not None and k not in ("id",)}
    page = nurse.post(f"/records/{q1['id']}", data={**values, "sex": "male", "csrf_token": token})
    assert page.status_code == 423 and "locked for the annual report" in page.text
    listing = nurse.get("/locks")
    assert listing.status_code == 200 and "Locked (every FLS)" in listing.text


def test_report_states_the_lock_and_can_be_pinned(site: Site, tmp_path: Path) -> None:
    if not site.url.startswith("sqlite"):
        return  # the command is tested once; locks behave alike on both stores (above)
    args = (
        "report",
        "--period",
        "2024",
        "--no-pdf",
        "--no-fls-reports",
        "--no-region-reports",
        "--db",
        site.url,
    )
    refused = flsdb(*args, "--pinned", "--out", str(tmp_path / "a"), cwd=tmp_path)
    assert refused.returncode != 0 and "2024 is not locked" in refused.stderr
    assert not (tmp_path / "a").exists()
    lock = (
        site.client("analyst").post("/api/locks", json={"period": "2024", "confirm": True}).json()
    )
    done = flsdb(*args, "--pinned", "--out", str(tmp_path / "b"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2024 was locked on" in done.stderr + done.stdout
    html = (tmp_path / "b" / "national-report-2024.html").read_text()
    # The report's header gives UK dates (issue 17 item 6): 6 Dec 2026, never 2026-12-06.
    locked_on = uk_date(lock["at"][:10])
    assert (
        f"data as of {locked_on} (period locked {locked_on} {lock['at'][11:16]} by analyst)" in html
    )
