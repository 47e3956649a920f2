"""The pages without a browser: each renders for its role, forms carry the CSRF token, the
record form shows the server's messages beside the fields, and no NHS number reaches a URL."""

from __future__ import annotations

import re

from tests.factory import nhs_number, record, write_records
from tests.web.conftest import PASSWORD, Site


def _signed_in(site: Site, name: str):  # type: ignore[no-untyped-def]
    client = site.client()
    page = client.post(
        "/login", data={"username": name, "password": PASSWORD}, follow_redirects=False
    )
    assert page.status_code == 303
    return client, page.headers["location"]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_login_page_and_wrong_password(site: Site) -> None:
    client = site.client()
    # Sign-in returns to the page asked for (issue 16: it used to be plain /login).
    asked = client.get("/records", follow_redirects=False).headers["location"]
    assert asked == "/login?next=/records"
    page = client.post("/login", data={"username": "nurse", "password": "nope nope nope"})
    assert page.status_code == 401 and "not right" in page.text


def test_each_role_lands_on_its_page(site: Site) -> None:
    homes = {name: _signed_in(site, name)[1] for name in ("nurse", "viewer", "analyst", "admin")}
    assert homes == {
        "nurse": "/records",
        "viewer": "/kpis",
        "analyst": "/kpis",
        "admin": "/admin/users",
    }
    admin, _ = _signed_in(site, "admin")
    for path in ("/admin/users", "/admin/services", "/admin/audit"):
        assert admin.get(path).status_code == 200
    assert admin.get("/records").status_code == 403
    viewer, _ = _signed_in(site, "viewer")
    assert viewer.get("/admin/users").status_code == 403
    page = viewer.get("/kpis", params={"period": "2024", "by": "service"})
    assert page.status_code == 200 and "FLS01" in page.text and "WAL01" not in page.text


def test_record_form_with_errors_then_fixed(site: Site) -> None:
    client, _ = _signed_in(site, "nurse")
    form = client.get("/records/new")
    assert form.status_code == 200
    assert 'data-shown-when="dxa"' in form.text and "1.01" in form.text and "NG249" in form.text
    values = {
        k: v
        for k, v in record(
            service_code="FLS01", nhs_number="8301661314", date_fracture_diagnosed="2024-10-10"
        ).items()
        if v
    }
    refused = client.post("/records/new", data={**values, "csrf_token": _csrf(form.text)})
    assert refused.status_code == 422
    assert "check digit" in refused.text and 'aria-invalid="true"' in refused.text
    values["nhs_number"] = nhs_number(70)
    saved = client.post(
        "/records/new", data={**values, "csrf_token": _csrf(form.text)}, follow_redirects=False
    )
    assert saved.status_code == 303
    location = saved.headers["location"]
    assert nhs_number(70) not in location
    page = client.get(location)
    assert "Saved." in page.text and "version 1" in page.text
    assert client.get(location.split("?")[0] + "/history").status_code == 200
    # Without the CSRF token the change is refused.
    assert client.post("/records/new", data=values).status_code == 403


def test_search_by_nhs_number_is_a_post(site: Site) -> None:
    client, _ = _signed_in(site, "nurse")
    listing = client.get("/records")
    found = client.post(
        "/records/search", data={"nhs_number": nhs_number(2), "csrf_token": _csrf(listing.text)}
    )
    assert found.status_code == 200 and "1 record." in found.text and "2024-05-01" in found.text
    assert 'method="post" action="/records/search"' in listing.text


def test_upload_pages(site: Site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client, _ = _signed_in(site, "nurse")
    page = client.get("/uploads")
    rows = [
        record(
            service_code="FLS01", nhs_number=nhs_number(80), date_fracture_diagnosed="2024-08-01"
        )
    ]
    content = write_records(tmp_path / "one.csv", rows).read_bytes()
    preview = client.post(
        "/uploads",
        data={"csrf_token": _csrf(page.text)},
        files={"file": ("one.csv", content, "text/csv")},
    )
    assert preview.status_code == 200 and "insert 1, update 0" in preview.text
    commit = re.search(r'action="(/uploads/[0-9a-f]+/commit)"', preview.text)
    assert commit
    done = client.post(commit.group(1), data={"csrf_token": _csrf(preview.text)})
    assert done.status_code == 200 and "Stored: 1 inserted" in done.text


def test_error_pages_name_nothing_private(site: Site) -> None:
    client, _ = _signed_in(site, "nurse")
    other = site.record_id("FLS02")
    page = client.get(f"/records/{other}")
    assert page.status_code == 404 and "that you can see" in page.text
    assert client.get("/no/such/page").status_code == 404


def test_hostile_addresses_get_no_server_error(site: Site) -> None:
    client, _ = _signed_in(site, "nurse")
    for path in (
        "/records/2147483648",
        "/records/99999999999999999999999",
        "/records/-1",
        "/records/abc/history",
        "/records?page=99999999999999999999",
        "/records?page=1e9&status=%00&fracture_from=2024-02-30",
        "/uploads/" + "f" * 500,
        "/kpis?period=9999-Q9&by=%3Cscript%3E",
    ):
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        assert "<script>" not in response.text
    admin, _ = _signed_in(site, "admin")
    assert (
        admin.get("/admin/audit?page=99999999999999999999&action=" + "x" * 500).status_code == 200
    )


def test_admin_manages_users_on_the_page(site: Site) -> None:
    admin, _ = _signed_in(site, "admin")
    page = admin.get("/admin/users")
    token = _csrf(page.text)
    added = admin.post(
        "/admin/users",
        data={
            "username": "Nurse3",
            "role": "fls_staff",
            "services": ["FLS01", "FLS02"],
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert added.status_code == 200 and "User nurse3 added." in added.text
    refused = admin.post(
        "/admin/users",
        data={
            "username": "x",
            "role": "fls_staff",
            "password": "a long password",
            "csrf_token": token,
        },
    )
    assert refused.status_code == 422
    nurse3 = site.client("nurse3")
    assert nurse3.get("/api/me").json()["services"] == ["FLS01", "FLS02"]
    confirmed = {"csrf_token": token, "confirm": "yes"}  # disabling asks first (issue 20)
    assert admin.post("/admin/users/nurse3/disable", data=confirmed).status_code == 200
    assert nurse3.get("/api/me").status_code == 401  # their session ended
    own = admin.post("/admin/users/admin/disable", data={"csrf_token": token})
    assert own.status_code == 422 and "your own account" in own.text
    events = admin.get("/api/audit").json()["events"]
    assert {"user_added", "user_disabled"} <= {e["action"] for e in events}
