"""Worklists on hand-placed fractures: due in the next 14 days, overdue while the window is open,
closed windows left out, and an entry gone once its follow-up is recorded."""

from __future__ import annotations

import datetime as dt

from tests.factory import nhs_number, record
from tests.web.conftest import Site

TODAY = dt.date.today()


def _add(site: Site, seed: int, days_ago: int, **extra: str) -> int:
    fracture = (TODAY - dt.timedelta(days=days_ago)).isoformat()
    # Recommended a drug: the patients the follow-up lists hold by default (issue 20).
    extra = {"bone_therapy_recommended": "alendronate", **extra}
    row = record(
        service_code="FLS01", nhs_number=nhs_number(seed), date_fracture_diagnosed=fracture, **extra
    )
    response = site.client("nurse").post(
        "/api/records", json={k: v or None for k, v in row.items()}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _ids(site: Site, name: str) -> dict[int, int]:
    found = site.client("nurse").get("/api/worklists/FLS01", params={"list": name}).json()
    assert found["total"] == len(found["rows"])
    return (
        {r["id"]: r["days_to_due"] for r in found["rows"]}
        if name != "missing_fields"
        else {r["id"]: 0 for r in found["rows"]}
    )


def test_worklists_by_hand(site: Site) -> None:
    due16 = _add(site, 201, 105)  # due at 112 days: in 7 days
    edge16 = _add(site, 202, 98)  # due in exactly 14 days: listed
    early16 = _add(site, 203, 97)  # due in 15 days: not yet
    over16 = _add(site, 204, 120)  # 8 days overdue, window open to 140
    closed16 = _add(site, 205, 141)  # window closed
    due52 = _add(site, 206, 385)  # due at 392 days: in 7 days
    over52 = _add(site, 207, 400)  # 8 days overdue, window open to 448
    assert _ids(site, "due_16w") == {due16: 7, edge16: 14}
    assert _ids(site, "overdue_16w") == {over16: -8}
    assert _ids(site, "due_52w") == {due52: 7}
    assert _ids(site, "overdue_52w") == {over52: -8}
    listed = set().union(
        *[_ids(site, n) for n in ("due_16w", "overdue_16w", "due_52w", "overdue_52w")]
    )
    assert early16 not in listed and closed16 not in listed
    assert {due16, over52} <= set(_ids(site, "missing_fields"))


def test_recording_the_follow_up_takes_the_patient_off_the_list(site: Site) -> None:
    record_id = _add(site, 210, 120)
    assert record_id in _ids(site, "overdue_16w")
    nurse = site.client("nurse")
    current = nurse.get(f"/api/records/{record_id}").json()
    followed = (TODAY - dt.timedelta(days=2)).isoformat()
    saved = nurse.put(
        f"/api/records/{record_id}",
        json={**current, "followup_16w": "yes", "date_followup_16w": followed},
    )
    assert saved.status_code == 200, saved.text
    assert record_id not in _ids(site, "overdue_16w")


def test_worklist_page_and_csv(site: Site) -> None:
    record_id = _add(site, 220, 105)
    nurse = site.client("nurse")
    page = nurse.get("/fls/FLS01/worklist", params={"list": "due_16w"})
    assert page.status_code == 200 and f"/records/{record_id}" in page.text and "in 7" in page.text
    csv = nurse.get("/api/worklists/FLS01", params={"list": "due_16w", "format": "csv"})
    assert csv.status_code == 200 and nhs_number(220) in csv.text
    events = site.client("admin").get("/api/audit", params={"action": "export_worklist"}).json()
    assert events["total"] == 1
    assert site.client("nurse2").get("/fls/FLS01/worklist").status_code == 404
    assert site.client("viewer").get("/fls/FLS01/worklist").status_code == 403
