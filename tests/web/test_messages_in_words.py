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


# What a message a person reads never holds: a column name (the dictionary's names with an
# underscore), a code with an underscore (not_known), a command-line option or command.


def _machine_words(message: str) -> list[str]:
    from flsdb.dictionary import load_dictionary

    dictionary = load_dictionary()
    names = {f.name for f in (*dictionary.records, *dictionary.services) if "_" in f.name}
    codes = {c for s in dictionary.codesets.values() for c in s.codes if "_" in c}
    found = [w for w in re.findall(r"[a-z0-9]+(?:_[a-z0-9]+)+", message) if w in names | codes]
    found += re.findall(r"(?<![\w-])--[a-z][a-z-]*", message)
    found += re.findall(r"\bflsdb [a-z-]+\b", message)
    return found


def _every_kind_of_error(tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    """The messages an upload of every kind of error gives (each rule of the ingest tests, a
    column outside the dictionary, a required column missing), as the web shows them."""
    from flsdb.ingest import validate_file
    from tests.factory import RECORD_COLUMNS, nhs_number, write_csv
    from tests.ingest.test_rules import ERRORS, KNOWN, UPLOAD_DATE, WARNINGS

    rows = []
    for seed, (changes, *_rest) in enumerate([*ERRORS, *WARNINGS]):
        rows.append({**record(nhs_number=nhs_number(100 + seed)), **changes, "extra": ""})
    rows.append({**record(nhs_number=nhs_number(99), date_fls_assessment="05/03/2024")})
    columns = [c for c in RECORD_COLUMNS if c != "sex"] + ["extra"]
    path = write_csv(tmp_path / "every-error.csv", rows, columns)
    table = validate_file(path, "records", known_services=KNOWN, upload_date=UPLOAD_DATE)
    messages = [i.message for i in table.issues.issues()]
    assert len(messages) > len(ERRORS)
    return messages


def test_no_message_names_a_column_code_or_command_line_option(site: Site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.factory import nhs_number

    messages = _every_kind_of_error(tmp_path)
    # The record form and the API refuse bad values with the upload's messages.
    client, _ = _signed_in(site, "nurse")
    form = client.get("/records/new")
    values = _values(
        nhs_number=nhs_number(70),
        date_fracture_diagnosed="2024-03-01",
        sex="",
        dxa="performed",
        followup_16w="no",
        date_followup_16w="01/06/2024",
        bone_therapy_recommended="alendronate",
        t_score="-9",
    )
    refused = client.post(
        "/records/new",
        data={
            **values,
            "bone_therapy_16w": ["alendronate", "informed_decline"],
            "csrf_token": _csrf(form.text),
        },
    )
    assert refused.status_code == 422
    messages += re.findall(r'<p class="msg error">(.*?)</p>', refused.text)
    api = site.client("nurse").post(
        "/api/records", json={**values, "bone_therapy_16w": "alendronate;informed_decline"}
    )
    messages += [i["message"] for i in api.json()["issues"]]
    # A national FLS-DB export without an FLS, on the upload page.
    page = client.get("/uploads")
    export = "1.01 NHSNumber,1.07 DateFLSAssess\n9434765919,01/03/2024\n"
    missing = client.post(
        "/uploads",
        data={"csrf_token": _csrf(page.text), "profile": "fls-db"},
        files={"file": ("export.csv", export.encode(), "text/csv")},
    )
    messages += re.findall(r'<p class="notice error" role="alert">(.*?)</p>', missing.text)
    # An analyst's extract when the server has no pseudonym key.
    analyst, _ = _signed_in(site, "analyst")
    extract = analyst.get("/extracts/pseudonymised?period=2024&format=csv")
    notices = re.findall(r'<p class="notice error" role="alert">(.*?)</p>', extract.text)
    assert notices, extract.status_code
    messages += notices
    found = {m: _machine_words(m) for m in messages if _machine_words(m)}
    assert found == {}
    text = " ".join(messages)
    # Answers and values in words: the allowed answers, a form's ticked drugs.
    assert (
        "Care home resident: 'maybe' is not one of the answers allowed: Yes, No, Not known" in text
    )
    assert "Bone therapy at 16 weeks: 'Alendronate; Informed decline' gives a drug" in text
    assert "The file has no column for Sex, which is required" in text
