"""Uploads in the browser's pages end to end (issue 20): the XLSX template downloaded from the
upload page, filled in and uploaded as it is; a sheet chosen on the page; the uploader's past
uploads listed with when, counts and the errors CSV."""

from __future__ import annotations

import io
import re

import openpyxl

from tests.factory import RECORD_COLUMNS, nhs_number, record
from tests.web.conftest import Site
from tests.web.test_pages import _csrf, _signed_in


def _filled(workbook: bytes, sheet: str, rows: list[dict[str, str]]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    for row in rows:
        book[sheet].append([row.get(c, "") for c in RECORD_COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_downloaded_template_uploads_and_is_listed(site: Site) -> None:
    nurse, _ = _signed_in(site, "nurse")
    page = nurse.get("/uploads")
    assert 'href="/templates/records.xlsx"' in page.text and "Your uploads" not in page.text
    template = nurse.get("/templates/records.xlsx")
    assert template.status_code == 200 and "attachment" in template.headers["content-disposition"]
    csv_template = nurse.get("/templates/records.csv")
    assert csv_template.text.splitlines()[0].split(",") == RECORD_COLUMNS
    good = record(service_code="FLS01", nhs_number=nhs_number(40))
    bad = record(service_code="FLS01", nhs_number=nhs_number(41), sex="femal")
    content = _filled(template.content, "records", [good])
    checked = nurse.post(
        "/uploads",
        data={"csrf_token": _csrf(page.text)},
        files={"file": ("our-template.xlsx", content, "application/octet-stream")},
    )
    assert checked.status_code == 200, checked.text
    assert "more than one sheet" not in checked.text and "insert 1" in checked.text
    stored = nurse.post(
        re.search(r'action="(/uploads/[0-9a-f]+/commit)"', checked.text).group(1),  # type: ignore[union-attr]
        data={"csrf_token": _csrf(checked.text)},
    )
    assert "Stored: 1 inserted" in stored.text
    errors = nurse.post(
        "/uploads",
        data={"csrf_token": _csrf(page.text)},
        files={"file": ("second.xlsx", _filled(template.content, "records", [bad]), "x")},
    )
    listed = nurse.get("/uploads").text
    past = listed[listed.index("Your uploads") :]
    rows = re.findall(r"<tr><td class=\"nowrap\">.*?</tr>", past, re.S)
    assert len(rows) == 2 and "second.xlsx" in rows[0] and "our-template.xlsx" in rows[1]
    assert "checked, not stored" in rows[0] and "stored" in rows[1]
    assert "errors.csv" in rows[0] and errors.status_code == 200
    csv_link = re.search(r'href="(/api/uploads/[0-9a-f]+/errors.csv)"', rows[0]).group(1)  # type: ignore[union-attr]
    assert "femal" in nurse.get(csv_link).text
    # Another uploader's list holds none of these (the file names are theirs alone).
    other, _ = _signed_in(site, "nurse2")
    assert "our-template.xlsx" not in other.get("/uploads").text


def test_a_sheet_chosen_on_the_page(site: Site) -> None:
    nurse, _ = _signed_in(site, "nurse")
    page = nurse.get("/uploads")
    book = openpyxl.Workbook()
    book.active.title = "notes"
    book.active.append(["a note"])
    data = book.create_sheet("patients")
    data.append(RECORD_COLUMNS)
    row = record(service_code="FLS01", nhs_number=nhs_number(42))
    data.append([row.get(c, "") for c in RECORD_COLUMNS])
    out = io.BytesIO()
    book.save(out)
    refused = nurse.post(
        "/uploads",
        data={"csrf_token": _csrf(page.text)},
        files={"file": ("two.xlsx", out.getvalue(), "x")},
    )
    assert refused.status_code == 422 and "more than one sheet" in refused.text
    chosen = nurse.post(
        "/uploads",
        data={"csrf_token": _csrf(page.text), "sheet": "patients"},
        files={"file": ("two.xlsx", out.getvalue(), "x")},
    )
    assert chosen.status_code == 200 and "insert 1" in chosen.text
    assert (
        'id="sheet" name="sheet" maxlength="31" autocomplete="off" value="patients"' in chosen.text
    )
    stored = nurse.post(
        re.search(r'action="(/uploads/[0-9a-f]+/commit)"', chosen.text).group(1),  # type: ignore[union-attr]
        data={"csrf_token": _csrf(chosen.text)},
    )
    assert "Stored: 1 inserted" in stored.text


def _csv(rows: list[dict[str, str]]) -> bytes:
    lines = [",".join(RECORD_COLUMNS)] + [
        ",".join(r.get(c, "") for c in RECORD_COLUMNS) for r in rows
    ]
    return ("\n".join(lines) + "\n").encode()


def test_ambiguous_dates_are_flagged_or_refused_in_the_preview(site: Site) -> None:
    nurse, _ = _signed_in(site, "nurse")
    page = nurse.get("/uploads")
    day_first = [
        record(service_code="FLS01", nhs_number=nhs_number(43), date_fls_assessment="25/03/2024"),
        record(service_code="FLS01", nhs_number=nhs_number(44), date_fls_assessment="05/03/2024"),
    ]
    checked = nurse.post(
        "/uploads",
        data={"csrf_token": _csrf(page.text)},
        files={"file": ("day-first.csv", _csv(day_first), "text/csv")},
    )
    assert checked.status_code == 200, checked.text
    text = checked.text.replace("&#39;", "'")
    assert "with 1 warning to check" in text and "Store these records" in text
    warnings = text[text.index("<h3>Warnings") :]
    assert re.search(
        r"<td>3</td><td>Date of FLS assessment</td><td>05/03/2024</td><td>Date of FLS assessment:"
        r" '05/03/2024' read day first as 5 Mar 2024, not 3 May 2024: the file's other dates are"
        r" written day first \('25/03/2024' in row 2\)</td>",
        warnings,
    ), warnings[:2000]
    both_ways = [
        *day_first,
        record(service_code="FLS01", nhs_number=nhs_number(45), date_fls_assessment="03/25/2024"),
    ]
    refused = nurse.post(
        "/uploads",
        data={"csrf_token": _csrf(page.text)},
        files={"file": ("both-ways.csv", _csv(both_ways), "text/csv")},
    )
    text = refused.text.replace("&#39;", "'")
    assert "2 errors: nothing can be stored" in text and "Store these records" not in text
    assert "'05/03/2024' could be read as 5 Mar 2024 or as 3 May 2024" in text
    assert "'03/25/2024' is written month first" in text
