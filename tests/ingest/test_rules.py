"""Every validation rule of spec section 2.3: one failing row per rule, message asserted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flsdb.ingest import validate_file
from tests.factory import SERVICES, nhs_number, record, write_records, write_services

UPLOAD_DATE = dt.date(2026, 1, 31)
KNOWN = {s["service_code"] for s in SERVICES}


def check(tmp_path: Path, rows: list[dict[str, str]], allowed: set[str] | None = None):
    path = write_records(tmp_path / "records.csv", rows)
    return validate_file(
        path, "records", known_services=KNOWN, allowed_services=allowed, upload_date=UPLOAD_DATE
    ).issues


def only_issue(tmp_path: Path, level: str = "error", **changes: object) -> dict[str, object]:
    issues = [i for i in check(tmp_path, [record(**changes)]).issues() if i.level == level]
    assert len(issues) == 1, issues
    assert issues[0].row == 2
    return issues[0].__dict__


def test_valid_row_has_no_issue(tmp_path: Path) -> None:
    assert check(tmp_path, [record()]).issues() == []


# (changes, column, value, message fragment)
ERRORS = [
    ({"sex": ""}, "sex", "", "Sex is required but blank"),
    ({"nhs_number": ""}, "nhs_number", "", "NHS number is required but blank"),
    (
        {"sex": "F"},
        "sex",
        "F",
        "'F' is not one of the answers allowed: Female, Male, Other, Not known",
    ),
    (
        {"fracture_site": "knee"},
        "fracture_site",
        "knee",
        "allowed: Hip, Spine, Humerus, Pelvis, Wrist, Other",
    ),
    ({"care_home_resident": "maybe"}, "care_home_resident", "maybe", "allowed: Yes, No, Not known"),
    (
        {"date_of_birth": "1950-02-30"},
        "date_of_birth",
        "1950-02-30",
        "is not a date; use YYYY-MM-DD or DD/MM/YYYY",
    ),
    (
        {"t_score": "low", "dxa": "performed", "date_dxa": "2024-03-10"},
        "t_score",
        "low",
        "must be a number from -7 to 4",
    ),
    (
        {"t_score": "-7.1", "dxa": "performed", "date_dxa": "2024-03-10"},
        "t_score",
        "-7.1",
        "must be a number from -7 to 4",
    ),
    (
        {"refractures_since_index": "21"},
        "refractures_since_index",
        "21",
        "must be a whole number from 0 to 20",
    ),
    (
        {"refractures_since_index": "1.5"},
        "refractures_since_index",
        "1.5",
        "must be a whole number from 0 to 20",
    ),
    ({"postcode": "12345"}, "postcode", "12345", "is not a UK postcode"),
    ({"nhs_number": "943476591"}, "nhs_number", "943476591", "must be 10 digits"),
    (
        {"nhs_number": "9434765918"},
        "nhs_number",
        "9434765918",
        "the check digit (modulus 11) does not match",
    ),
    (
        {"date_fracture_diagnosed": "2026-02-01"},
        "date_fracture_diagnosed",
        "2026-02-01",
        "is in the future (after the upload date 31 Jan 2026)",
    ),
    (
        {"date_fls_assessment": "2026-02-02", "date_fracture_diagnosed": "2024-03-01"},
        "date_fls_assessment",
        "2026-02-02",
        "is in the future",
    ),
    (
        {"date_fracture_diagnosed": "2015-12-31", "date_of_birth": "1940-01-01"},
        "date_fracture_diagnosed",
        "2015-12-31",
        "is before 1 Jan 2016, the start of the audit",
    ),
    (
        {"date_of_birth": "1974-03-02"},
        "date_of_birth",
        "1974-03-02",
        "age at fracture is 49 years; the audit covers ages 50 to 115",
    ),
    (
        {"date_of_birth": "1908-02-29"},
        "date_of_birth",
        "1908-02-29",
        "age at fracture is 116 years",
    ),
    (
        {"date_fls_assessment": "2024-02-28"},
        "date_fls_assessment",
        "2024-02-28",
        "Date of FLS assessment is before Date fracture diagnosed (1 Mar 2024)",
    ),
    (
        {"date_dxa": "1950-05-04", "dxa": "performed"},
        "date_dxa",
        "1950-05-04",
        "Date of DXA is before Date of birth (5 May 1950)",
    ),
    (
        {"followup_16w": "yes", "date_followup_16w": "2024-02-01"},
        "date_followup_16w",
        "2024-02-01",
        "is before Date fracture diagnosed",
    ),
    (
        {"followup_52w": "yes", "date_followup_52w": "2024-02-01"},
        "date_followup_52w",
        "2024-02-01",
        "is before Date fracture diagnosed",
    ),
    # Issue 20: the message goes with the date (the field to fill in or clear), in words.
    (
        {"followup_16w": "yes"},
        "date_followup_16w",
        "",
        "Date of 16-week follow-up is blank but Follow-up at 16 weeks is 'yes': give the date",
    ),
    (
        {"followup_16w": "no", "date_followup_16w": "2024-06-01"},
        "date_followup_16w",
        "2024-06-01",
        "Date of 16-week follow-up is given but Follow-up at 16 weeks is 'no'",
    ),
    ({"followup_52w": "yes"}, "date_followup_52w", "", "is blank but Follow-up at 52 weeks"),
    (
        {"followup_52w": "no", "date_followup_52w": "2025-02-20"},
        "date_followup_52w",
        "2025-02-20",
        "is given but Follow-up at 52 weeks is 'no'",
    ),
    ({"dxa": "performed"}, "date_dxa", "", "Date of DXA is blank but DXA scan is 'performed'"),
    (
        {"bone_therapy_recommended": "alendronate;referred_to_gp"},
        "bone_therapy_recommended",
        "alendronate;referred_to_gp",
        "gives a drug together with an answer that is not a drug",
    ),
    (
        {"bone_therapy_recommended": "alendronate; Alendronate"},
        "bone_therapy_recommended",
        "alendronate; Alendronate",
        "gives the same answer twice",
    ),
    (
        {"bone_therapy_16w": "aspirin"},
        "bone_therapy_16w",
        "aspirin",
        "is not one of the answers allowed: one or more drugs (Alendronate, ",
    ),
    (
        {"bone_therapy_at_presentation": "alendronate;denosumab"},
        "bone_therapy_at_presentation",
        "alendronate;denosumab",
        "gives more than one answer; allowed: one drug (Alendronate, ",
    ),
    (
        {"service_code": "NOPE1"},
        "service_code",
        "NOPE1",
        "the FLS 'NOPE1' is not one of flsdb's FLSs",
    ),
]


@pytest.mark.parametrize(("changes", "column", "value", "fragment"), ERRORS)
def test_each_error_rule(
    tmp_path: Path, changes: dict[str, str], column: str, value: str, fragment: str
) -> None:
    issue = only_issue(tmp_path, **changes)
    assert issue["column"] == column
    assert issue["value"] == value
    assert fragment in str(issue["message"])


def test_followup_52w_before_16w(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        followup_16w="yes",
        date_followup_16w="2024-06-20",
        followup_52w="yes",
        date_followup_52w="2024-06-10",
    )
    assert issue["column"] == "date_followup_52w"
    assert "before Date of 16-week follow-up (20 Jun 2024)" in str(issue["message"])


WARNINGS = [
    ({"dxa": "performed", "date_dxa": "2024-02-01"}, "date_dxa", "before Date fracture diagnosed"),
    (
        {"followup_16w": "yes", "date_followup_16w": "2024-04-25"},
        "date_followup_16w",
        "7.9 weeks after the fracture; expected 8 to 20 weeks",
    ),
    (
        {"followup_16w": "yes", "date_followup_16w": "2024-07-20"},
        "date_followup_16w",
        "20.1 weeks after the fracture",
    ),
    (
        {"followup_52w": "yes", "date_followup_52w": "2024-12-05"},
        "date_followup_52w",
        "expected 40 to 64 weeks",
    ),
    ({"t_score": "-2.5"}, "t_score", "a T-score is given but DXA scan is not 'performed'"),
]


@pytest.mark.parametrize(("changes", "column", "fragment"), WARNINGS)
def test_each_warning_rule(
    tmp_path: Path, changes: dict[str, str], column: str, fragment: str
) -> None:
    issue = only_issue(tmp_path, level="warning", **changes)
    assert issue["column"] == column
    assert fragment in str(issue["message"])


def test_followup_window_edges_give_no_warning(tmp_path: Path) -> None:
    rows = [
        record(nhs_number=nhs_number(1), followup_16w="yes", date_followup_16w="2024-04-26"),
        record(nhs_number=nhs_number(2), followup_16w="yes", date_followup_16w="2024-07-19"),
    ]
    assert check(tmp_path, rows).issues() == []


def test_age_boundaries(tmp_path: Path) -> None:
    rows = [
        record(nhs_number=nhs_number(1), date_of_birth="1974-03-01"),  # 50 that day
        record(nhs_number=nhs_number(2), date_of_birth="1909-03-01"),
    ]  # 115
    assert check(tmp_path, rows).issues() == []


def test_duplicate_key_in_file(tmp_path: Path) -> None:
    rows = [record(), record(sex="male"), record(nhs_number=nhs_number(5))]
    errors = check(tmp_path, rows).issues()
    assert [(e.row, e.column) for e in errors] == [(3, "service_code")]
    assert "same record key (service, NHS number and fracture date) as row 2" in errors[0].message


def test_service_the_uploader_may_not_write_to(tmp_path: Path) -> None:
    issues = check(tmp_path, [record(service_code="FLS02")], allowed={"FLS01"}).issues()
    assert len(issues) == 1
    assert issues[0].message == (
        "you may not upload records for the FLS 'FLS02'; you may write to: FLS01"
    )


def test_codes_match_case_insensitively_and_trimmed(tmp_path: Path) -> None:
    path = write_records(
        tmp_path / "r.csv",
        [
            record(
                sex=" Female ",
                fracture_site="WRIST",
                service_code="fls01",
                bone_therapy_recommended="Alendronate ; ZOLEDRONATE",
                nhs_number="900 000 0017",
                date_fracture_diagnosed="01/03/2024",
                postcode="sw1a1aa",
            )
        ],
    )
    table = validate_file(path, "records", known_services=KNOWN, upload_date=UPLOAD_DATE)
    assert table.ok, table.issues.issues()
    row = table.frame.row(0, named=True)
    assert row["sex"] == "female"
    assert row["fracture_site"] == "wrist"
    assert row["service_code"] == "FLS01"
    assert row["bone_therapy_recommended"] == "alendronate;zoledronate"
    assert row["nhs_number"] == "9000000017"
    assert row["date_fracture_diagnosed"] == dt.date(2024, 3, 1)
    assert row["postcode"] == "SW1A 1AA"


def test_missing_and_unknown_columns(tmp_path: Path) -> None:
    row = record()
    row.pop("sex")
    row["favourite_colour"] = "blue"
    path = tmp_path / "r.csv"
    from tests.factory import write_csv

    write_csv(path, [row])
    issues = validate_file(
        path, "records", known_services=KNOWN, upload_date=UPLOAD_DATE, blank="clear"
    )
    messages = {(i.row, i.column, i.message) for i in issues.issues.issues()}
    required = "The file has no column for Sex, which is required: add it as the template heads it"
    assert (1, "sex", required) in messages
    assert any(
        c == "favourite_colour" and "headed 'favourite_colour', which is not in the data" in m
        for _, c, m in messages
    )
    # Issue 16: by default (blank cells keep stored values) a file may leave out a required
    # column that is not part of the key; a row that is a new record still needs it.
    kept = validate_file(path, "records", known_services=KNOWN, upload_date=UPLOAD_DATE)
    messages = {(i.row, i.column, i.message) for i in kept.issues.issues()}
    assert (2, "sex", "Sex is required for a new record, and the file has no column for it") in (
        messages
    )


def test_services_file_rules(tmp_path: Path) -> None:
    rows = [
        dict(SERVICES[0]),
        dict(SERVICES[0], service_name="Again"),
        dict(SERVICES[1], service_code="AB", nation="scotland", expected_spine="-3"),
    ]
    path = write_services(tmp_path / "s.csv", rows)
    issues = {(i.row, i.column): i.message for i in validate_file(path, "services").issues.issues()}
    assert "same service code as row 2" in issues[(3, "service_code")]
    assert issues[(4, "service_code")] == "Service code: 'AB' must be 3 to 12 letters or digits"
    assert "allowed: England, Wales" in issues[(4, "nation")]
    assert "must be a whole number of at least 0" in issues[(4, "expected_spine")]
