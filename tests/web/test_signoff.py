"""Sign-off and locks that cannot stop the work by mistake (issue 16, item 7): only ended
periods, what will be closed shown before it is, follow-up still recorded after a sign-off,
and a lock lifted only with a reason, kept and audited."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from tests.factory import nhs_number, record, write_records
from tests.web.conftest import PASSWORD, Site

TODAY = dt.date.today()


def _quarter(day: dt.date) -> tuple[str, dt.date]:
    """A day's quarter as 2026-Q3, and its first day."""
    q = (day.month - 1) // 3
    return f"{day.year}-Q{q + 1}", dt.date(day.year, 3 * q + 1, 1)


def _ended_quarter() -> tuple[str, dt.date]:
    """The last quarter that has ended, and a fracture date in it (its follow-up still open)."""
    _, start = _quarter(TODAY)
    label, first = _quarter(start - dt.timedelta(days=1))
    return label, first + dt.timedelta(days=10)


def _create(site: Site, fracture: dt.date, seed: int, **more: str) -> dict[str, Any]:
    row = record(
        service_code="FLS01",
        nhs_number=nhs_number(seed),
        date_fracture_diagnosed=fracture.isoformat(),
        **more,
    )
    made = site.client("nurse").post("/api/records", json={k: v or None for k, v in row.items()})
    assert made.status_code == 201, made.text
    return dict(made.json())


def _form_client(site: Site, name: str) -> tuple[Any, str]:
    client = site.client()
    client.post("/login", data={"username": name, "password": PASSWORD})
    page = client.get("/locks")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client, token


def test_unended_periods_are_refused(site: Site) -> None:
    nurse, analyst = site.client("nurse"), site.client("analyst")
    current, _ = _quarter(TODAY)
    for period in (current, f"{TODAY.year + 1}-Q1"):
        refused = nurse.post(
            "/api/locks", json={"period": period, "service": "FLS01", "confirm": True}
        )
        assert refused.status_code == 422, refused.text
        assert f"{period} has not ended" in refused.json()["detail"]
    year = analyst.post("/api/locks", json={"period": str(TODAY.year), "confirm": True})
    assert year.status_code == 422 and "has not ended" in year.json()["detail"]
    assert nurse.get("/api/locks").json() == []
    # New patients of this quarter are taken as before.
    _create(site, TODAY - dt.timedelta(days=1), 500)


def test_preview_then_confirm(site: Site) -> None:
    nurse = site.client("nurse")
    asked = {"period": "2024-Q1", "service": "FLS01"}
    preview = nurse.post("/api/locks", json=asked)
    assert preview.status_code == 200, preview.text
    found = preview.json()
    assert found["preview"] is True and found["records"] == 1
    assert found["records_missing_key_fields"] == 1
    assert "Signing off 2024-Q1 closes FLS FLS01's 1 record" in found["summary"]
    assert nurse.get("/api/locks").json() == []  # nothing locked
    done = nurse.post("/api/locks", json={**asked, "confirm": True})
    assert done.status_code == 201 and done.json()["records"] == 1
    assert len(nurse.get("/api/locks").json()) == 1
    assert nurse.post("/api/locks", json=asked).status_code == 409  # signed off already
    # The page: the same two steps.
    client, token = _form_client(site, "analyst")
    step = client.post("/locks", data={"action": "lock", "period": "2024", "csrf_token": token})
    assert step.status_code == 200
    assert "Locking 2024 closes every FLS&#39;s 6 records" in step.text
    assert 'name="confirm" value="yes"' in step.text
    assert all(k["kind"] == "sign_off" for k in nurse.get("/api/locks").json())
    data = {"action": "lock", "period": "2024", "confirm": "yes", "csrf_token": token}
    confirmed = client.post("/locks", data=data)
    assert confirmed.status_code == 200 and "2024 is locked." in confirmed.text
    assert {k["kind"] for k in nurse.get("/api/locks").json()} == {"sign_off", "lock"}


def test_followup_saves_after_sign_off(site: Site, tmp_path: Path) -> None:
    quarter, fracture = _ended_quarter()
    assessed = (fracture + dt.timedelta(days=20)).isoformat()
    index = {"date_fls_assessment": assessed, "bone_therapy_recommended": "alendronate;denosumab"}
    made = _create(site, fracture, 510, **index)
    nurse = site.client("nurse")
    done = nurse.post("/api/locks", json={"period": quarter, "service": "FLS01", "confirm": True})
    assert done.status_code == 201, done.text
    assert done.json()["records_followup_open"] >= 1
    seen = min(fracture + dt.timedelta(days=112), TODAY)
    followup = {"followup_16w": "yes", "date_followup_16w": seen.isoformat()}
    saved = nurse.put(f"/api/records/{made['id']}", json={**made, **followup})
    assert saved.status_code == 200, saved.text
    current = nurse.get(f"/api/records/{made['id']}").json()
    assert current["followup_16w"] == "yes" and current["version"] == 2
    # The index episode is closed, alone or beside a follow-up change.
    refused = nurse.put(f"/api/records/{made['id']}", json={**current, "sex": "male"})
    assert refused.status_code == 423
    assert "follow-up can still be recorded until" in refused.json()["detail"]
    both = {**current, "sex": "male", "followup_52w": "no"}
    assert nurse.put(f"/api/records/{made['id']}", json=both).status_code == 423
    assert nurse.delete(f"/api/records/{made['id']}").status_code == 423
    # An upload row changing only follow-up fields is stored; one changing more is refused.
    base = record(
        service_code="FLS01",
        nhs_number=nhs_number(510),
        date_fracture_diagnosed=str(fracture),
        **index,
    )
    row = {**base, **followup, "bone_therapy_16w": "alendronate"}
    content = write_records(tmp_path / "followup.csv", [row]).read_bytes()
    preview = nurse.post("/api/uploads", files={"file": ("f.csv", content, "text/csv")})
    assert preview.status_code == 200, preview.text
    assert preview.json()["updated"] == 1, preview.text
    stored = nurse.post(f"/api/uploads/{preview.json()['id']}/commit")
    assert stored.status_code == 200, stored.text
    after = nurse.get(f"/api/records/{made['id']}").json()
    assert "alendronate" in str(after["bone_therapy_16w"]) and after["sex"] == "female"
    wrong = write_records(tmp_path / "index.csv", [{**row, "sex": "male"}]).read_bytes()
    refused_upload = nurse.post("/api/uploads", files={"file": ("i.csv", wrong, "text/csv")})
    assert refused_upload.status_code == 423, refused_upload.text
    # The form: index sections shown but closed, the follow-up open, and saved.
    client, token = _form_client(site, "nurse")
    form = client.get(f"/records/{made['id']}")
    assert "Save the follow-up" in form.text and "follow-up can still be recorded" in form.text
    version = re.search(r'name="version" value="(\d+)"', form.text).group(1)  # type: ignore[union-attr]
    posted = client.post(
        f"/records/{made['id']}",
        data={"csrf_token": token, "version": version, "followup_52w": "no", **followup},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    assert nurse.get(f"/api/records/{made['id']}").json()["followup_52w"] == "no"


def test_followup_window_closed_is_refused(site: Site) -> None:
    """2024-Q1's follow-up windows closed long ago: its sign-off closes the whole record."""
    nurse = site.client("nurse")
    nurse.post("/api/locks", json={"period": "2024-Q1", "service": "FLS01", "confirm": True})
    found = nurse.get("/api/records").json()["records"]
    q1 = next(r for r in found if r["date_fracture_diagnosed"] == "2024-03-01")
    change = {**q1, "followup_52w": "no"}
    refused = nurse.put(f"/api/records/{q1['id']}", json=change)
    assert refused.status_code == 423
    assert "can still be recorded" not in refused.json()["detail"]


def test_lift_needs_a_reason_kept_and_audited(site: Site) -> None:
    analyst, admin = site.client("analyst"), site.client("admin")
    lock = analyst.post("/api/locks", json={"period": "2024", "confirm": True}).json()
    lift = f"/api/locks/{lock['id']}/lift"
    assert admin.post(lift, json={}).status_code == 422
    blank = admin.post(lift, json={"reason": "   "})
    assert blank.status_code == 422 and "reason is required" in blank.json()["detail"]
    assert analyst.post(lift, json={"reason": "late returns"}).status_code == 403
    gone = admin.delete(f"/api/locks/{lock['id']}")
    assert gone.status_code == 405 and f"/api/locks/{lock['id']}/lift" in gone.json()["detail"]
    assert admin.get("/api/locks").json()[0]["lifted_at"] is None  # nothing lifted yet
    lifted = admin.post(lift, json={"reason": "late hospital returns"})
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["lift_reason"] == "late hospital returns"
    assert admin.get("/api/locks").json()[0]["lift_reason"] == "late hospital returns"
    events = admin.get("/api/audit", params={"action": "period_unlocked"}).json()["events"]
    assert len(events) == 1 and "late hospital returns" in str(events[0])
    # The page asks for the reason before lifting, and refuses without one.
    again = analyst.post("/api/locks", json={"period": "2024", "confirm": True}).json()
    client, token = _form_client(site, "admin")
    ask = client.post(
        "/locks", data={"action": "lift", "lock_id": str(again["id"]), "csrf_token": token}
    )
    assert ask.status_code == 200 and 'name="reason"' in ask.text
    data = {"action": "lift", "lock_id": str(again["id"]), "confirm": "yes", "csrf_token": token}
    empty = client.post("/locks", data={**data, "reason": ""})
    assert empty.status_code == 422 and "reason is required" in empty.text
    assert 'name="reason"' in empty.text  # asked again
    assert admin.get("/api/locks").json()[0]["lifted_at"] is None
    done = client.post("/locks", data={**data, "reason": "wrong year chosen"})
    assert done.status_code == 200 and "is lifted" in done.text
    assert "wrong year chosen" in done.text


def test_import_of_followup_after_sign_off(site: Site, tmp_path: Path) -> None:
    """`flsdb import`: a file changing only follow-up fields of signed-off records is stored;
    one that changes an index field is refused in one sentence, nothing stored."""
    if not site.url.startswith("sqlite"):
        return  # the command is tested once; the upload above runs the same writer on both
    from tests.command import flsdb_here as flsdb

    quarter, fracture = _ended_quarter()
    made = _create(site, fracture, 520)
    nurse = site.client("nurse")
    signed = nurse.post("/api/locks", json={"period": quarter, "service": "FLS01", "confirm": True})
    assert signed.status_code == 201
    base = record(
        service_code="FLS01", nhs_number=nhs_number(520), date_fracture_diagnosed=str(fracture)
    )
    seen = min(fracture + dt.timedelta(days=112), TODAY).isoformat()
    good = write_records(
        tmp_path / "good.csv", [{**base, "followup_16w": "yes", "date_followup_16w": seen}]
    )
    done = flsdb("import", str(good), "--db", site.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert nurse.get(f"/api/records/{made['id']}").json()["followup_16w"] == "yes"
    bad = write_records(tmp_path / "bad.csv", [{**base, "sex": "male"}])
    refused = flsdb("import", str(bad), "--db", site.url, cwd=tmp_path)
    assert refused.returncode == 1 and "signed off for FLS FLS01" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert nurse.get(f"/api/records/{made['id']}").json()["sex"] == "female"
