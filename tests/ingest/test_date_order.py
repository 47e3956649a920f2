"""Dates whose day and month are both 12 or less: read by the order the file's other dates show
(day first, with a warning each), refused where the file writes month first or both ways."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flsdb.ingest import upload_file, validate_file
from tests.factory import SERVICES, nhs_number, record, write_records

UPLOAD_DATE = dt.date(2026, 1, 31)
KNOWN = {s["service_code"] for s in SERVICES}


def check(tmp_path: Path, rows: list[dict[str, str]]):
    path = write_records(tmp_path / "records.csv", rows)
    return validate_file(path, "records", known_services=KNOWN, upload_date=UPLOAD_DATE)


def rows(*changes: dict[str, str]) -> list[dict[str, str]]:
    return [record(nhs_number=nhs_number(i), **c) for i, c in enumerate(changes)]


def issues(table, level: str) -> list[tuple[int | None, str, str]]:
    return [(i.row, i.column, i.message) for i in table.issues.issues() if i.level == level]


def test_a_day_first_file_reads_ambiguous_dates_day_first_with_a_warning(tmp_path: Path) -> None:
    table = check(
        tmp_path,
        rows(
            {"date_fls_assessment": "25/03/2024"},
            {"date_fls_assessment": "05/03/2024"},
            {"date_fracture_diagnosed": "02/03/2024", "date_fls_assessment": "2024-03-10"},
        ),
    )
    assert issues(table, "error") == []
    assert issues(table, "warning") == [
        (
            3,
            "date_fls_assessment",
            "Date of FLS assessment: '05/03/2024' read day first as 5 Mar 2024, not 3 May 2024: "
            "the file's other dates are written day first ('25/03/2024' in row 2)",
        ),
        (
            4,
            "date_fracture_diagnosed",
            "Date fracture diagnosed: '02/03/2024' read day first as 2 Mar 2024, not 3 Feb 2024: "
            "the file's other dates are written day first ('25/03/2024' in row 2)",
        ),
    ]
    frame = table.frame.sort("_row")
    assert frame["date_fls_assessment"][1] == dt.date(2024, 3, 5)
    assert frame["date_fracture_diagnosed"][2] == dt.date(2024, 3, 2)


def test_nothing_showing_the_order_reads_day_first_the_uk_order_with_a_warning(
    tmp_path: Path,
) -> None:
    table = check(tmp_path, rows({"date_fls_assessment": "05/03/2024"}))
    assert issues(table, "warning") == [
        (
            2,
            "date_fls_assessment",
            "Date of FLS assessment: '05/03/2024' read day first as 5 Mar 2024, not 3 May 2024: "
            "no date in the file has a day over 12 to show the order, so it was read as "
            "DD/MM/YYYY, the UK order: please check it",
        )
    ]
    assert table.ok
    assert table.frame["date_fls_assessment"][0] == dt.date(2024, 3, 5)


def test_same_day_and_month_and_iso_dates_are_not_flagged(tmp_path: Path) -> None:
    table = check(
        tmp_path,
        rows({"date_fls_assessment": "03/03/2024"}, {"date_fls_assessment": "2024-03-05"}),
    )
    assert table.issues.issues() == []


def test_a_file_writing_dates_both_ways_is_refused_for_the_ambiguous_dates(
    tmp_path: Path,
) -> None:
    table = check(
        tmp_path,
        rows(
            {"date_fls_assessment": "25/03/2024"},
            {"date_fls_assessment": "03/25/2024"},
            {"date_fls_assessment": "05/03/2024"},
        ),
    )
    assert not table.ok
    assert issues(table, "warning") == []
    assert issues(table, "error") == [
        (
            3,
            "date_fls_assessment",
            "Date of FLS assessment: '03/25/2024' is written month first, which uploads do not "
            "accept; write it day first, as DD/MM/YYYY (or YYYY-MM-DD)",
        ),
        (
            4,
            "date_fls_assessment",
            "Date of FLS assessment: '05/03/2024' could be read as 5 Mar 2024 or as 3 May 2024, "
            "and this file writes dates both day first ('25/03/2024' in row 2) and month first "
            "('03/25/2024' in row 3); write the dates as DD/MM/YYYY (or YYYY-MM-DD) and upload "
            "the file again",
        ),
    ]


def test_a_month_first_file_is_refused_and_an_identifier_is_never_repeated(
    tmp_path: Path,
) -> None:
    table = check(
        tmp_path,
        rows({"date_of_birth": "12/25/1950"}, {"date_of_birth": "05/03/1950"}),
    )
    errors = issues(table, "error")
    assert errors[1] == (
        3,
        "date_of_birth",
        "Date of birth: the date could be read two ways, and this file writes dates month first "
        "(Date of birth in row 2), which uploads do not accept; write the dates as DD/MM/YYYY "
        "(or YYYY-MM-DD) and upload the file again",
    )
    assert "1950" not in errors[1][2]


def test_the_order_is_decided_over_the_whole_file_not_batch_by_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload_file, "BATCH_ROWS", 2)
    changes = [{"date_fls_assessment": "05/03/2024"}] * 4 + [{"date_fls_assessment": "03/25/2024"}]
    table = check(tmp_path, rows(*changes))
    assert issues(table, "warning") == []
    errors = issues(table, "error")
    assert [row for row, _, _ in errors] == [2, 3, 4, 5, 6]
    assert "month first ('03/25/2024' in row 6)" in errors[0][2]


def test_a_two_digit_year_is_read_in_its_century_in_the_ambiguity_warning(
    tmp_path: Path,
) -> None:
    table = check(tmp_path, rows({"date_fls_assessment": "5/3/24"}))
    messages = [m for _, _, m in issues(table, "warning")]
    assert any("read day first as 5 Mar 2024, not 3 May 2024" in m for m in messages), messages
    assert any("a two-digit year" in m for m in messages), messages
