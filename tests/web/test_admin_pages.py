"""Administration without the command line (issue 20): an account's role and FLSs changed, an
account unlocked, disabled and enabled after a confirmation, the add-user form kept after an
error; services loaded from a file after a preview; the audit log filtered and exported; the
pseudonymised extract as a page for analysts."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from flsdb.storage.tables import events, services
from tests.factory import SERVICES, write_services
from tests.web.conftest import PASSWORD, Site
from tests.web.test_pages import _csrf, _signed_in

KEY = "a secret key that is long enough to use"


def test_add_user_keeps_the_form_and_shows_roles_and_flss_in_words(site: Site) -> None:
    admin, _ = _signed_in(site, "admin")
    page = admin.get("/admin/users")
    shown = re.sub(r'value="[^"]*"', "", page.text)  # what a person reads, not the codes sent
    assert "hold Ctrl" not in page.text and "fls_staff" not in shown
    # Roles in words, FLSs by name with their codes, regions by name.
    assert "<td>Region viewer</td>" in page.text and "<td>National analyst</td>" in page.text
    assert "North FLS" in page.text and "Lancashire and South Cumbria ICB (QE1)" in page.text
    refused = admin.post(
        "/admin/users",
        data={
            "username": "nurse.new",
            "role": "fls_staff",
            "services": ["FLS02"],
            "password": "short",
            "csrf_token": _csrf(page.text),
        },
    )
    assert refused.status_code == 422
    assert "A password needs at least 10 characters." in refused.text
    # What was typed is still there (never the password).
    assert 'value="nurse.new"' in refused.text
    assert 'value="FLS02" checked' in refused.text and 'value="FLS01" checked' not in refused.text
    assert 'value="fls_staff" selected' in refused.text and "short" not in refused.text
    nothing = admin.post(
        "/admin/users",
        data={
            "username": "nurse.new",
            "role": "fls_staff",
            "password": PASSWORD,
            "csrf_token": _csrf(page.text),
        },
    )
    assert nothing.status_code == 422 and "--service" not in nothing.text
    assert "An FLS staff account needs one or more FLSs" in nothing.text


def test_change_role_and_flss_unlock_and_confirmed_disable(site: Site) -> None:
    admin, _ = _signed_in(site, "admin")
    page = admin.get("/admin/users/nurse")
    assert page.status_code == 200 and 'value="FLS01" checked' in page.text
    token = _csrf(page.text)
    nurse = site.client("nurse")
    changed = admin.post(
        "/admin/users/nurse/role",
        data={"role": "fls_staff", "services": ["FLS01", "FLS02"], "csrf_token": token},
    )
    assert changed.status_code == 200 and "role and FLSs are saved" in changed.text
    assert nurse.get("/api/me").status_code == 401  # the change ended their session
    assert site.client("nurse").get("/api/me").json()["services"] == ["FLS01", "FLS02"]
    # A refused change keeps what was chosen and changes nothing.
    refused = admin.post(
        "/admin/users/nurse/role",
        data={"role": "region_viewer", "services": ["FLS02"], "csrf_token": token},
    )
    assert refused.status_code == 422 and "A region viewer account needs one region" in refused.text
    assert 'value="region_viewer" selected' in refused.text
    assert site.client("nurse").get("/api/me").json()["role"] == "fls_staff"
    # Locked by wrong passwords, unlocked by the administrator without a new password.
    guesser = site.client()
    for _ in range(6):
        guesser.post("/api/login", json={"username": "nurse2", "password": "wrong wrong wrong"})
    locked = admin.get("/admin/users/nurse2")
    assert "locked" in locked.text and "Unlock nurse2" in locked.text
    assert (
        guesser.post("/api/login", json={"username": "nurse2", "password": PASSWORD}).status_code
        == 429
    )
    unlocked = admin.post("/admin/users/nurse2/unlock", data={"csrf_token": token})
    assert "nurse2 is unlocked and can sign in now." in unlocked.text
    assert site.client("nurse2").get("/api/me").json()["username"] == "nurse2"
    # Disabling asks first: the first post changes nothing.
    asked = admin.get("/admin/users/nurse2/disable")
    assert asked.status_code == 200 and "Disable nurse2?" in asked.text
    first = admin.post("/admin/users/nurse2/disable", data={"csrf_token": token})
    assert "Yes, disable nurse2" in first.text
    assert site.client("nurse2").get("/api/me").status_code == 200
    done = admin.post("/admin/users/nurse2/disable", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 200 and "nurse2 is disabled." in done.text
    login = site.client().post("/api/login", json={"username": "nurse2", "password": PASSWORD})
    assert login.status_code == 401
    admin.post("/admin/users/nurse2/enable", data={"csrf_token": token, "confirm": "yes"})
    assert site.client("nurse2").get("/api/me").status_code == 200
    own = admin.post("/admin/users/admin/role", data={"role": "fls_staff", "csrf_token": token})
    assert own.status_code == 422 and "your own account" in own.text
    with site.engine.connect() as conn:
        done_actions = set(conn.execute(select(events.c.action)).scalars())
    assert {"user_role_set", "user_unlocked", "user_disabled", "user_enabled"} <= done_actions


def test_the_audit_log_and_the_upload_page_say_roles_and_flss_in_words(site: Site) -> None:
    """The audit log's details name a role in words ('as region viewer', not the code), and
    the upload page offers an FLS by its name beside its code."""
    admin, _ = _signed_in(site, "admin")
    token = _csrf(admin.get("/admin/users").text)
    changed = admin.post(
        "/admin/users/nurse2/role",
        data={"role": "region_viewer", "region": "QE1", "csrf_token": token},
    )
    assert changed.status_code == 200, changed.text
    with site.engine.connect() as conn:
        details = list(
            conn.execute(
                select(events.c.detail).where(events.c.action == "user_role_set")
            ).scalars()
        )
    assert details == ["nurse2 as region viewer"]
    nurse, _ = _signed_in(site, "nurse")
    upload = nurse.get("/uploads")
    assert ">FLS01: North FLS</option>" in upload.text


def test_services_file_previewed_then_stored(site: Site, tmp_path: Path) -> None:
    admin, _ = _signed_in(site, "admin")
    page = admin.get("/admin/services")
    assert "flsdb load-services" not in page.text
    rows = [dict(r) for r in SERVICES]
    rows[0]["service_name"] = "North Lancashire FLS"
    rows.append({**rows[1], "service_code": "FLS09", "service_name": "New FLS"})
    path = write_services(tmp_path / "services.csv", rows)
    preview = admin.post(
        "/admin/services",
        data={"csrf_token": _csrf(page.text)},
        files={"file": ("services.csv", path.read_bytes(), "text/csv")},
    )
    assert preview.status_code == 200, preview.text
    text = preview.text
    assert "Storing it will add 1 FLS, change 1 and leave" in text
    assert "<td>Service name</td><td>North FLS</td><td>North Lancashire FLS</td>" in text
    assert "New FLS" in text
    with site.engine.connect() as conn:
        names = dict(conn.execute(select(services.c.service_code, services.c.service_name)).all())
    assert names["FLS01"] == "North FLS" and "FLS09" not in names  # nothing stored yet
    form = dict(re.findall(r'name="(file_name|content|digest)" value="([^"]*)"', text))
    stored = admin.post("/admin/services/store", data={**form, "csrf_token": _csrf(text)})
    assert "Stored: 1 FLS added, 1 updated" in stored.text
    with site.engine.connect() as conn:
        names = dict(conn.execute(select(services.c.service_code, services.c.service_name)).all())
    assert names["FLS01"] == "North Lancashire FLS" and names["FLS09"] == "New FLS"
    # A file with an error is shown by field label, and stores nothing.
    rows[0]["nation"] = "scotland"
    bad = write_services(tmp_path / "bad.csv", rows)
    refused = admin.post(
        "/admin/services",
        data={"csrf_token": _csrf(text)},
        files={"file": ("bad.csv", bad.read_bytes(), "text/csv")},
    )
    assert refused.status_code == 422 and "<td>Nation</td><td>scotland</td>" in refused.text
    assert "Store these services" not in refused.text


def test_audit_log_filters_in_words_and_exports_csv(site: Site) -> None:
    site.client().post("/api/login", json={"username": "nurse", "password": "wrong wrong wrong"})
    nurse = site.client("nurse")
    record = site.record_id("FLS01")
    assert nurse.get(f"/api/records/{record}").status_code == 200
    admin, _ = _signed_in(site, "admin")
    page = admin.get("/admin/audit", params={"action": "login failed"})
    assert page.status_code == 200 and ">Login failed</option>" in page.text
    assert "1 event, newest first" in page.text
    by_user = admin.get("/admin/audit", params={"user": "nurse", "record": str(record)})
    assert "1 event," in by_user.text and "read record" in by_user.text
    today = __import__("datetime").date.today()
    dated = admin.get(
        "/admin/audit", params={"action": "login_failed", "from": today.strftime("%d/%m/%Y")}
    )
    assert "1 event," in dated.text
    later = admin.get("/admin/audit", params={"from": "01/01/2999"})
    assert "0 events" in later.text
    wrong = admin.get("/admin/audit", params={"from": "31/02/2026", "record": "abc"})
    assert wrong.status_code == 422
    assert "From: &#39;31/02/2026&#39; is not a date in the calendar." in wrong.text
    assert "Record: &#39;abc&#39; is not a record number." in wrong.text
    exported = admin.get("/admin/audit.csv", params={"user": "nurse"})
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows and {r["user_name"] for r in rows} == {"nurse"}
    assert {"login_failed", "read_record"} <= {r["action"] for r in rows}
    api = admin.get("/api/audit", params={"user": "nurse", "action": "read_record"}).json()
    assert api["total"] == 1 and api["events"][0]["record_id"] == record


def test_extract_page_for_analysts(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLSDB_PSEUDONYM_KEY", raising=False)
    analyst, _ = _signed_in(site, "analyst")
    page = analyst.get("/extracts")
    assert page.status_code == 200 and "This server has no pseudonym key" in page.text
    assert "--key-file" not in page.text and 'href="/extracts"' in page.text
    refused = analyst.get("/extracts/pseudonymised", params={"period": "2024"})
    assert refused.status_code == 422 and "--key-file" not in refused.text
    api = site.client("analyst").get("/api/extracts/pseudonymised", params={"period": "2024"})
    assert "--key-file" not in api.json()["detail"]
    monkeypatch.setenv("FLSDB_PSEUDONYM_KEY", KEY)
    page = analyst.get("/extracts")
    assert "no pseudonym key" not in page.text and '<option value="2024">' in page.text
    done = analyst.get("/extracts/pseudonymised", params={"period": "2024", "format": "csv"})
    assert done.status_code == 200
    assert 'filename="flsdb-pseudonymised-2024.csv"' in done.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(done.text)))
    offsets = [r["date_fls_assessment_days"] for r in rows]
    # Day offsets are whole numbers, blank where there is no date (never 19.0).
    assert "19" in offsets and "" in offsets and not any("." in v for v in offsets)
    wrong = analyst.get("/extracts/pseudonymised", params={"period": "2024-Q9"})
    assert wrong.status_code == 422 and "a month (2024-03)" in wrong.text
    for name in ("nurse", "admin", "viewer"):
        other, _ = _signed_in(site, name)
        assert other.get("/extracts").status_code == 403
