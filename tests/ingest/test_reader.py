"""Malformed files give one clear message, never a traceback."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from flsdb.errors import FileFormatError
from flsdb.ingest import open_upload, validate_file
from tests.factory import RECORD_COLUMNS, SERVICES, record


def _raises(path: Path, fragment: str) -> None:
    with pytest.raises(FileFormatError) as caught:
        open_upload(path).read_all()
    assert fragment in str(caught.value)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    _raises(path, "empty.csv is empty")


def test_whitespace_only_file(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("\n  \n")
    _raises(path, "is empty")


def test_header_but_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text(",".join(RECORD_COLUMNS) + "\n\n")
    _raises(path, "has a header row but no data rows")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("service_code,service_name\nA1B,Caf\xe9\n".encode("latin-1"))
    _raises(path, "is not UTF-8 text (unreadable byte 0xe9 at position 33)")


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"service_code\x00\x01\x02,\x00\x00\x00\rIHDR")
    _raises(path, "not a CSV text file")


@pytest.mark.parametrize(
    ("start", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document"),
        (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "a PDF document"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "an Excel 97-2003 (.xls)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
    ],
)
def test_a_file_of_another_kind_is_named(tmp_path: Path, start: bytes, kind: str) -> None:
    """A PDF, an old Excel file or an image picked by mistake is called what it is (a PDF
    whose first lines are plain text was read as a CSV with a header and no rows)."""
    path = tmp_path / "upload.csv"
    path.write_bytes(start)
    _raises(path, f"upload.csv is {kind}")
    _raises(path, "Save the table as CSV or XLSX")


def test_not_comma_separated(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("service_code;service_name\nA1B;X\n")
    _raises(path, "does not look like a comma-separated file")


def test_duplicated_header(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("sex,nhs_number,SEX\nfemale,1,male\n")
    _raises(path, "the column 'sex' appears twice in the header row")


def test_blank_header_cell(tmp_path: Path) -> None:
    path = tmp_path / "gap.csv"
    path.write_text("sex,,nhs_number\nfemale,,1\n")
    _raises(path, "column 2 of the header row has no name")


def test_ragged_rows(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("sex,nhs_number\nfemale,1,extra,more\n")
    _raises(path, "ragged.csv line 2 has more than 2 fields but the header has 2")
    short = tmp_path / "short.csv"
    short.write_text("sex,nhs_number,postcode\nfemale,1,AB1 2CD\nmale,2\n")
    _raises(short, "short.csv line 3 has 2 fields but the header has 3")


def test_an_unclosed_quote(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('sex,nhs_number\nfemale,"1\nmale,2\n')
    _raises(path, "quote.csv cannot be read as CSV at line 2 (an unclosed quote?)")


def test_any_line_ending(tmp_path: Path) -> None:
    for name, end in (("lf.csv", "\n"), ("crlf.csv", "\r\n"), ("cr.csv", "\r")):
        path = tmp_path / name
        path.write_bytes(end.join(["sex,nhs_number", "female,1", "male,2", ""]).encode())
        frame = open_upload(path).read_all()
        assert frame["sex"].to_list() == ["female", "male"], name
        assert frame["_row"].to_list() == [2, 3], name


def test_trailing_unnamed_columns_alike_in_csv_and_xlsx(tmp_path: Path) -> None:
    csv_path = tmp_path / "trailing.csv"
    csv_path.write_text("sex,nhs_number,,\nfemale,1,,\n")
    assert open_upload(csv_path).read_all().columns == ["_row", "sex", "nhs_number"]
    filled = tmp_path / "filled.csv"
    filled.write_text("sex,nhs_number,\nfemale,1,\nmale,2,surprise\n")
    _raises(filled, "filled.csv row 3 has a value in column 3, which has no name")
    book = openpyxl.Workbook()
    book.active.append(["sex", "nhs_number", None])
    book.active.append(["female", "1", None])
    book.active.append(["male", "2", "surprise"])
    xlsx = tmp_path / "filled.xlsx"
    book.save(xlsx)
    _raises(xlsx, "filled.xlsx row 3 has a value in column 3, which has no name")


def test_broken_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    _raises(path, "is not a readable XLSX workbook")


def test_bom_and_case_in_header(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffService_Code , SERVICE_NAME\nA1B,X\n".encode())
    assert open_upload(path).columns == ("service_code", "service_name")


def test_xlsx_upload_reads_dates_and_numbers(tmp_path: Path) -> None:
    import datetime as dt

    book = openpyxl.Workbook()
    sheet = book.active
    row = record()
    sheet.append(RECORD_COLUMNS)
    values = [row[c] for c in RECORD_COLUMNS]
    values[RECORD_COLUMNS.index("nhs_number")] = int(row["nhs_number"])
    values[RECORD_COLUMNS.index("date_of_birth")] = dt.datetime(1950, 5, 5)
    sheet.append([v if v != "" else None for v in values])
    sheet.append([None] * len(RECORD_COLUMNS))  # trailing empty row
    path = tmp_path / "records.xlsx"
    book.save(path)
    table = validate_file(path, "records", known_services={s["service_code"] for s in SERVICES})
    assert table.ok, table.issues.issues()
    assert table.frame.height == 1
    assert table.frame["date_of_birth"][0] == dt.date(1950, 5, 5)


def test_xlsx_formula_without_a_saved_value_is_refused(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["sex", "nhs_number"])
    book.active.append(["female", "=A1&B1"])  # openpyxl saves formulas without values
    path = tmp_path / "formula.xlsx"
    book.save(path)
    _raises(path, "cell B2 holds a formula with no saved value")


def test_xlsx_data_on_a_second_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "front"
    book.active.append(["sex", "nhs_number"])
    book.active.append(["female", "1"])
    more = book.create_sheet("more")
    more.append(["sex", "nhs_number"])
    more.append(["male", "2"])
    book.create_sheet("empty")
    path = tmp_path / "two.xlsx"
    book.save(path)
    _raises(path, "two.xlsx has data on more than one sheet (front, more)")
    assert open_upload(path, sheet="more").read_all()["sex"].to_list() == ["male"]
    with pytest.raises(FileFormatError, match="has no sheet named 'nope'; its sheets are front"):
        open_upload(path, sheet="nope")


def test_the_xlsx_template_filled_in_is_read_from_its_records_sheet(tmp_path: Path) -> None:
    """Issue 20: the product's own template (records, guide and codes sheets) was refused as
    'data on more than one sheet'; its records sheet is found by name."""
    from flsdb.dictionary import load_dictionary
    from flsdb.dictionary.template import write_xlsx_template

    path = write_xlsx_template(load_dictionary(), "records", tmp_path / "template.xlsx", rows=10)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == "records" and {"guide", "codes"} <= set(book.sheetnames)
    filled = record(service_code="FLS01")
    book["records"].append([filled.get(c, "") for c in RECORD_COLUMNS])
    book.save(path)
    upload = open_upload(path)
    assert upload.sheet_name == "records"  # type: ignore[attr-defined]
    assert upload.read_all()["service_code"].to_list() == ["FLS01"]
