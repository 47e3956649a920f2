"""A deleted record's id and history never reach another FLS (issue 16, item 2): through the
API and the history page, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.factory import nhs_number, record
from tests.web.conftest import Site


def test_delete_and_create_across_flss_never_shares_an_id_or_history(site: Site) -> None:
    nurse, nurse2 = site.client("nurse"), site.client("nurse2")
    mine = record(
        service_code="FLS01",
        nhs_number=nhs_number(40),
        date_fracture_diagnosed="2024-09-09",
        postcode="SW1A 1AA",
    )
    created = nurse.post("/api/records", json={k: v or None for k, v in mine.items()})
    assert created.status_code == 201, created.text
    gone = created.json()["id"]
    changed = nurse.put(f"/api/records/{gone}", json={**created.json(), "sex": "male"})
    assert changed.status_code == 200
    assert nurse.delete(f"/api/records/{gone}").status_code == 204

    theirs = record(
        service_code="FLS02", nhs_number=nhs_number(41), date_fracture_diagnosed="2024-09-10"
    )
    made = nurse2.post("/api/records", json={k: v or None for k, v in theirs.items()})
    assert made.status_code == 201, made.text
    new = made.json()["id"]
    assert new > gone
    history = nurse2.get(f"/api/records/{new}/history")
    assert history.status_code == 200
    assert [h["action"] for h in history.json()] == ["insert"]
    assert nhs_number(40) not in history.text and "SW1A" not in history.text
    page = nurse2.get(f"/records/{new}/history")
    assert page.status_code == 200
    assert nhs_number(40) not in page.text and "SW1A" not in page.text
    # The deleted record is gone for its own FLS too: its id answers nothing.
    assert nurse.get(f"/api/records/{gone}/history").status_code == 404
