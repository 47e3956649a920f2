"""A national FLS-DB export uploaded through the web application: `?profile=fls-db` on the API
and the layout choice on the upload page; the profile and FLS wait with the file for the commit."""

from __future__ import annotations

import re
from pathlib import Path

from tests.factory import nhs_number, record
from tests.profiles.national import national_csv, national_row
from tests.web.conftest import Site
from tests.web.test_pages import _csrf, _signed_in


def _export(folder: Path, count: int = 3) -> bytes:
    rows = [
        national_row(record(nhs_number=nhs_number(60 + i), date_fracture_diagnosed="2024-09-01"))
        for i in range(count)
    ]
    rows[0]["1.05 CareRes"] = "Donít know"  # as Excel garbles it: a Windows-1252 file
    return national_csv(folder / "export.csv", rows).read_bytes()


def test_api_upload_with_the_fls_db_profile(site: Site, tmp_path: Path) -> None:
    client = site.client("nurse")
    content = _export(tmp_path)
    preview = client.post(
        "/api/uploads",
        params={"profile": "fls-db", "service": "fls01"},
        files={"file": ("export.csv", content, "text/csv")},
    )
    assert preview.status_code == 200, preview.text
    result = preview.json()
    assert (result["inserted"], result["errors"], result["profile"], result["service"]) == (
        3,
        [],
        "fls-db",
        "FLS01",
    )
    notes = [n["message"] for n in result["notes"]]
    assert "export.csv was read as Windows-1252 text, with commas between columns." in notes
    done = client.post(f"/api/uploads/{result['id']}/commit")
    assert done.status_code == 200 and done.json()["inserted"] == 3
    stored = client.get("/api/records", params={"fracture_from": "2024-09-01"}).json()
    assert stored["total"] == 3
    assert {r["care_home_resident"] for r in stored["records"]} == {"not_known", None}


def test_api_upload_refusals_with_profiles(site: Site, tmp_path: Path) -> None:
    client = site.client("nurse")
    content = _export(tmp_path, 1)
    unknown = client.post(
        "/api/uploads", params={"profile": "nhfd"}, files={"file": ("e.csv", content, "text/csv")}
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"].startswith("There is no mapping profile 'nhfd'")
    other = client.post(
        "/api/uploads",
        params={"profile": "fls-db", "service": "FLS02"},
        files={"file": ("e.csv", content, "text/csv")},
    )
    assert other.status_code == 422
    assert other.json()["detail"] == "You cannot upload records for the FLS FLS02."
    no_fls = client.post(
        "/api/uploads", params={"profile": "fls-db"}, files={"file": ("e.csv", content, "text/csv")}
    )
    assert (
        no_fls.status_code == 422
        and "has no column naming the FLS: say which FLS" in no_fls.json()["detail"]
    )


def test_upload_page_offers_the_profiles(site: Site, tmp_path: Path) -> None:
    client, _ = _signed_in(site, "nurse")
    page = client.get("/uploads")
    # Issue 20: the layout by its name alone (its code only in the value sent).
    assert '<option value="fls-db">National FLS-DB export</option>' in page.text
    # Each FLS by its name beside its code (issue 20: words, not codes).
    assert '<option value="FLS01">FLS01: North FLS</option>' in page.text
    preview = client.post(
        "/uploads",
        data={"csrf_token": _csrf(page.text), "profile": "fls-db", "service": "FLS01"},
        files={"file": ("export.csv", _export(tmp_path, 2), "text/csv")},
    )
    assert preview.status_code == 200 and "insert 2, update 0" in preview.text
    assert "not used by flsdb" in preview.text
    commit = re.search(r'action="(/uploads/[0-9a-f]+/commit)"', preview.text)
    assert commit
    done = client.post(commit.group(1), data={"csrf_token": _csrf(preview.text)})
    assert done.status_code == 200 and "Stored: 2 inserted" in done.text
