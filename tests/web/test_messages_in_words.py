"""Messages in words on the record form (issue 20): a rule across two fields goes with the field
to fill in, by labels and UK dates, and a duplicate patient links the record that exists."""

from __future__ import annotations

import re

from tests.factory import record
from tests.web.conftest import RECORDS, Site
from tests.web.test_pages import _csrf, _signed_in


def _values(**changes: str) -> dict[str, str]:
    return {k: v for k, v in {**record(service_code="FLS01"), **changes}.items() if v}


def test_a_follow_up_without_its_date_is_told_at_the_date(site: Site) -> None:
    client, _ = _signed_in(site, "nurse")
    form = client.get("/records/new")
    values = _values(
        nhs_number="9434765919",
        date_fracture_diagnosed="2024-03-01",
        followup_16w="yes",
        date_fls_assessment="2024-02-20",
    )
    refused = client.post("/records/new", data={**values, "csrf_token": _csrf(form.text)})
    assert refused.status_code == 422
    text = refused.text.replace("&#39;", "'")
    assert (
        "Date of 16-week follow-up is blank but Follow-up at 16 weeks is 'yes': give the date"
        in text
    )
    assert "Date of FLS assessment is before Date fracture diagnosed (1 Mar 2024)" in text
    assert "date_followup_16w is blank" not in text and "(2024-03-01)" not in text
    # The summary links each message to its field: the date, not the Yes/No answer.
    assert re.search(r'href="#f-date_followup_16w">Date of 16-week follow-up is blank', text)
    api = site.client("nurse").post("/api/records", json=values)
    issues = {(i["column"], i["message"][:25]) for i in api.json()["issues"]}
    assert ("date_followup_16w", "Date of 16-week follow-up") in issues


def test_a_duplicate_patient_links_the_record_that_exists(site: Site) -> None:
    client, _ = _signed_in(site, "nurse")
    form = client.get("/records/new")
    first = RECORDS[0]
    existing = site.record_id("FLS01")
    values = _values(
        nhs_number=first["nhs_number"], date_fracture_diagnosed=first["date_fracture_diagnosed"]
    )
    refused = client.post("/records/new", data={**values, "csrf_token": _csrf(form.text)})
    assert refused.status_code == 409
    assert f"exists already in this FLS (record {existing})" in refused.text
    assert f'<a href="/records/{existing}">Open record {existing}</a>' in refused.text


def test_dates_are_typed_and_shown_as_dd_mm_yyyy(site: Site) -> None:
    from sqlalchemy import select

    from flsdb.storage.tables import records
    from tests.web.test_sessions import _form

    client, _ = _signed_in(site, "nurse")
    record_id = site.record_id("FLS01")
    form = client.get(f"/records/{record_id}").text
    # A stored date is shown as DD/MM/YYYY in a text input (never the browser's own format).
    assert 'type="date"' not in form
    assert 'name="date_fracture_diagnosed" value="01/03/2024"' in form
    values = _form(form, date_fls_assessment="5/4/2024")
    saved = client.post(f"/records/{record_id}", data=values, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    with site.engine.connect() as conn:
        row = conn.execute(select(records).where(records.c.id == record_id)).one()
    assert str(row.date_fls_assessment) == "2024-04-05"  # 5 April, not 4 May
    page = client.get(f"/records/{record_id}").text
    assert 'name="date_fls_assessment" value="05/04/2024"' in page
    iso = client.post(
        f"/records/{record_id}",
        data=_form(page, date_fls_assessment="2024-04-06"),
        follow_redirects=False,
    )
    assert iso.status_code == 303  # the ISO form is read too
    page = client.get(f"/records/{record_id}").text
    wrong = client.post(f"/records/{record_id}", data=_form(page, date_fls_assessment="31/02/2024"))
    assert wrong.status_code == 422 and "&#39;31/02/2024&#39; is not a date" in wrong.text
