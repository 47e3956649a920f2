"""Figures published beyond an FLS are for whole years: a quarter's or month's published counts
set beside the year's would give away a withheld count by subtraction (found by trying it as an
attacker would: region 7A1's hr02 for 2025 minus three of its quarters gave the fourth, `<5`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factory import nhs_number, record, write_records
from tests.web.conftest import Site

YEARS_ONLY = "published for whole calendar years only"


def test_published_kpis_are_for_whole_years_only(site: Site) -> None:
    nurse = site.client("nurse")
    for by in ("region", "nation", "age_band"):
        refused = nurse.get("/api/kpis", params={"period": "2024-Q2", "by": by})
        assert refused.status_code == 422, refused.text
        assert YEARS_ONLY in refused.text
    assert nurse.get("/api/kpis", params={"period": "2024", "by": "region"}).status_code == 200
    # By FLS: its own FLS's quarter in full, no other FLS's.
    own = nurse.get("/api/kpis", params={"period": "2024-Q2", "by": "service"})
    assert own.status_code == 200
    assert {r["unit"] for r in own.json()} == {"FLS01"}
    assert all(r["suppressed"] is None for r in own.json())
    viewer = site.client("viewer").get("/api/kpis", params={"period": "2024-03", "by": "service"})
    assert viewer.status_code == 422 and YEARS_ONLY in viewer.text
    # The national team sees every period in full.
    analyst = site.client("analyst").get("/api/kpis", params={"period": "2024-Q2", "by": "region"})
    assert analyst.status_code == 200 and analyst.json()


@pytest.mark.parametrize(
    ("user", "path", "allowed"),
    [
        ("viewer", "/fls/FLS01", False),
        ("viewer", "/region/QE1", False),
        ("nurse", "/region/QE1", False),
        ("nurse", "/nation", False),
        ("nurse", "/fls/FLS01", True),
        ("analyst", "/region/QE1", True),
    ],
)
def test_dashboards_of_a_quarter_only_in_full(
    viewed_site: Site, user: str, path: str, allowed: bool
) -> None:
    page = viewed_site.client(user).get(path, params={"period": "2024-Q3", "as_of": "2026-01-31"})
    if allowed:
        assert page.status_code == 200, page.text
    else:
        assert page.status_code == 422 and YEARS_ONLY in page.text


def test_an_upload_of_two_flss_keeps_its_file_name_from_their_staff(
    site: Site, tmp_path: Path
) -> None:
    """An upload holding records of FLS01 and FLS02 (by a user of both) names no patient to
    either FLS's other staff: its file name is the uploader's alone."""
    from flsdb.services import accounts
    from flsdb.services.access import Role
    from tests.web.conftest import PASSWORD

    accounts.add_user(
        site.engine, "both", Role.FLS_STAFF, PASSWORD, service_codes=["FLS01", "FLS02"]
    )
    path = write_records(
        tmp_path / "9434765919 Smith.csv",
        [
            record(
                service_code="FLS01",
                nhs_number=nhs_number(901),
                date_fracture_diagnosed="2024-08-01",
            ),
            record(
                service_code="FLS02",
                nhs_number=nhs_number(902),
                date_fracture_diagnosed="2024-08-02",
            ),
        ],
    )
    both = site.client("both")
    with open(path, "rb") as handle:
        preview = both.post("/api/uploads", files={"file": (path.name, handle, "text/csv")})
    assert preview.status_code == 200, preview.text
    assert both.post(f"/api/uploads/{preview.json()['id']}/commit").status_code == 200
    params = {"period": "2024", "as_of": "2026-01-31"}
    for user, code in (("nurse2", "FLS02"), ("nurse", "FLS01")):
        page = site.client(user).get(f"/fls/{code}", params=params)
        assert page.status_code == 200
        assert "Last upload" in page.text and "9434765919" not in page.text
    assert "9434765919" in both.get("/fls/FLS01", params=params).text


def test_odd_inputs_get_a_sentence(site: Site) -> None:
    nurse = site.client("nurse")
    far = nurse.get("/api/worklists/FLS01", params={"list": "overdue_52w", "as_of": "0001-01-01"})
    assert far.status_code == 422 and "worklist's date must be from" in far.text
    for name in ("nhs_number[]", "nhs_number%3D9434765919", "NHS-Number", "nhsnumber_x"):
        found = nurse.get(f"/api/records?{name}=9434765919")
        assert found.status_code == 400, name


def test_a_lock_is_not_lifted_for_an_invisible_reason(site: Site) -> None:
    admin = site.client("admin")
    made = admin.post("/api/locks", json={"period": "2024", "confirm": True})
    assert made.status_code == 201, made.text
    lock = made.json()["id"]
    for reason in ("\u200b", " \u200b\u200b ", "\t\n"):
        refused = admin.post(f"/api/locks/{lock}/lift", json={"reason": reason})
        assert refused.status_code == 422, reason
    assert admin.post(f"/api/locks/{lock}/lift", json={"reason": "Late data"}).status_code == 200
