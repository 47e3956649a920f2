"""A national FLS-DB export read through the fls-db profile: the same typed rows as the same
data in flsdb's own format, whatever its encoding, delimiter or file type; and every value or
column it cannot map is an issue naming the file's column and the value as written."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from flsdb.dictionary import load_dictionary
from flsdb.errors import FileFormatError
from flsdb.ingest import ValidatedTable, open_upload, validate
from flsdb.ingest.mapped import apply_profile, text_options
from flsdb.ingest.validate import LOST_LABEL
from flsdb.profiles import load_profile
from tests.factory import RECORD_COLUMNS, nhs_number, record, write_records
from tests.profiles.data import AS_OF, SERVICE, of_year, records
from tests.profiles.national import (
    HEADERS,
    NG249,
    UNUSED,
    national_csv,
    national_row,
    national_xlsx,
)

KNOWN = {SERVICE, "FLS01"}
KEY = ["service_code", "nhs_number", "date_fracture_diagnosed"]


def read_national(path: Path, service: str | None = SERVICE) -> ValidatedTable:
    profile = load_profile("fls-db")
    upload = open_upload(path, text=text_options(profile))
    mapped = apply_profile(upload, profile, load_dictionary(), service)
    return validate(mapped, "records", known_services=KNOWN, upload_date=AS_OF)


def read_own(path: Path, rows: list[dict[str, str]]) -> ValidatedTable:
    return validate(
        open_upload(write_records(path, rows)),
        "records",
        known_services=KNOWN,
        upload_date=AS_OF,
    )


def typed(table: ValidatedTable) -> pl.DataFrame:
    return table.frame.select(RECORD_COLUMNS).sort(KEY)


def garbled(rows: list[dict[str, str]], encoding: str) -> list[dict[str, str]]:
    """Some 'Don't know' as Excel round trips garble it (those the encoding can hold)."""
    forms = ["Donít know", "Don’t know", "DON'T KNOW"]
    if encoding.startswith("utf-8"):
        forms.append("Donâ€™t know")
    out = []
    for i, row in enumerate(rows):
        row = dict(row)
        for title, value in row.items():
            if value == "Don't know":
                row[title] = forms[i % len(forms)]
        out.append(row)
    return out


@pytest.mark.parametrize(
    ("encoding", "delimiter", "read_as"),
    [
        ("windows-1252", ",", "Windows-1252 text, with commas between columns"),
        ("windows-1252", ";", "Windows-1252 text, with semicolons between columns"),
        ("utf-8-sig", ",", "UTF-8 (with a byte-order mark) text, with commas between columns"),
        ("utf-8", ";", "UTF-8 text, with semicolons between columns"),
    ],
)
def test_a_2024_csv_export_reads_as_the_same_records_in_flsdb_format(
    tmp_path: Path, encoding: str, delimiter: str, read_as: str
) -> None:
    rows = of_year(2024)
    national = [national_row(r, 2024) for r in rows]
    path = national_csv(
        tmp_path / "export.csv", garbled(national, encoding), encoding=encoding, delimiter=delimiter
    )
    table = read_national(path)
    own = read_own(tmp_path / "own.csv", rows)
    assert own.ok and table.ok, table.issues.errors()
    assert table.height == len(rows) > 150
    assert typed(table).equals(typed(own))
    notes = table.issues.infos()["message"].to_list()
    assert f"export.csv was read as {read_as}." in notes
    # The columns flsdb does not use are listed once each, as information, not as errors.
    unused = table.issues.infos().filter(pl.col("message").str.starts_with("not used by flsdb"))
    assert sorted(unused["column"]) == sorted(UNUSED)
    assert [m for m in notes if m.startswith("The file has no column for")] == [
        "The file has no column for fallen_past_12_months (NG249 1.1.3), unable_to_get_up "
        "(NG249), loss_of_consciousness (NG249), living_with_frailty (NG249): new records have "
        "them blank and stored records keep their values."
    ]
    assert table.issues.warning_count == own.issues.warning_count


def test_an_xlsx_export_with_date_cells_reads_as_the_csv_does(tmp_path: Path) -> None:
    rows = of_year(2024)
    national = [national_row(r, 2024) for r in rows]
    table = read_national(national_xlsx(tmp_path / "export.xlsx", national))
    own = read_own(tmp_path / "own.csv", rows)
    assert table.ok, table.issues.errors()
    assert typed(table).equals(typed(own))


def test_a_2023_export_stores_non_hip_non_spine_as_other_with_one_warning(
    tmp_path: Path,
) -> None:
    rows = of_year(2023)
    national = [national_row(r, 2023) for r in rows]
    table = read_national(national_csv(tmp_path / "2023.csv", national, encoding="utf-8-sig"))
    assert table.ok, table.issues.errors()
    coarse = [
        {
            **r,
            **{
                c: "other"
                for c in ("fracture_site", "fracture_site_2", "fracture_site_3")
                if r[c] in ("humerus", "pelvis", "wrist")
            },
        }
        for r in rows
    ]
    assert typed(table).equals(typed(read_own(tmp_path / "own.csv", coarse)))
    lost_rows = [
        i + 2 for i, r in enumerate(national) if r["1.11 SiteFirstFrac"] == "Non hip/non spine"
    ]
    assert len(lost_rows) > 30
    warning = table.issues.warnings().filter(pl.col("column") == "1.11 SiteFirstFrac")
    assert warning.height == 1
    message = warning["message"][0]
    assert message.startswith(f"{len(lost_rows)} rows ({', '.join(map(str, lost_rows[:5]))}, ...)")
    assert "stored as 'other'" in message and "is lost" in message
    # The label goes with the rows to the store's audit trail.
    lost = table.frame.sort("_row")[f"{LOST_LABEL}fracture_site"]
    assert lost.drop_nulls().unique().to_list() == ["Non hip/non spine"]
    assert lost.is_not_null().sum() == len(lost_rows)


def _one(tmp_path: Path, **labels: str) -> ValidatedTable:
    row = national_row(record(service_code=SERVICE, fracture_site="wrist"))
    row.update(labels)
    return read_national(national_csv(tmp_path / "one.csv", [row]))


def test_a_label_it_cannot_read_names_the_column_the_value_and_the_accepted_labels(
    tmp_path: Path,
) -> None:
    table = _one(tmp_path, **{"1.03 Gender": "Femal", "4.01 BoneTherapy": "Alendronate;Calcium"})
    errors = {
        (i.row, i.column, i.value): i.message for i in table.issues.issues() if i.level == "error"
    }
    assert errors == {
        (2, "1.03 Gender", "Femal"): "Sex (1.03 Gender): 'Femal' is not a label flsdb reads; "
        "accepted: Female, Male, Other, Don't know",
        (2, "4.01 BoneTherapy", "Alendronate;Calcium"): "Bone therapy recommended (4.01 "
        "BoneTherapy): 'Alendronate;Calcium' is not a label flsdb reads; accepted: drug names "
        "(Alendronate, Risedronate, Ibandronate, Zoledronate, Denosumab, Teriparatide, "
        "Romosozumab, Abaloparatide, Raloxifene, Systemic Oestrogens, Alfacalcidol) joined by "
        "';', or one of: Inappropriate, Informed decline, Referred for further clinical opinion, "
        "Referred to GP to decide prescription, Don't know",
    }


def test_an_identifier_that_cannot_be_read_is_never_repeated_in_the_message(
    tmp_path: Path,
) -> None:
    table = _one(tmp_path, **{"1.02 Date of Birth": "31/02/1950"})
    (issue,) = [i for i in table.issues.issues() if i.level == "error"]
    assert (issue.row, issue.column, issue.value) == (2, "1.02 Date of Birth", "31/02/1950")
    assert "1950" not in issue.message
    assert (
        issue.message
        == "Date of birth (1.02 Date of Birth): the value is not a date; use DD/MM/YYYY"
    )


def test_the_rules_downstream_name_the_files_column(tmp_path: Path) -> None:
    table = _one(
        tmp_path, **{"3.04 TScore": "-9,5", "4.01 BoneTherapy": "Alendronate;Inappropriate"}
    )
    errors = {(i.column, i.value) for i in table.issues.issues() if i.level == "error"}
    assert errors == {("3.04 TScore", "-9.5"), ("4.01 BoneTherapy", "alendronate;inappropriate")}


def test_labels_in_any_case_and_the_words_of_a_code(tmp_path: Path) -> None:
    table = _one(
        tmp_path,
        **{
            "1.10 TypeOfFractue": "incidental VERTEBRAL",
            "3.01 DXA": "not_ordered",
            "3.02 DXANotOrdered": "  Treat without  dxa ",
            "6.01 FollowUp12_16": "yes",
            "6.02 Dateof16WeekAss": "1/6/2024",
            "6.05 BoneTherapy1216": "Refer for clinical opinion",
            "5.01 RiskAssesByFLS": "Referred",
            "5.10 Referrals": "Strength and balance",
            "1.12 SiteSecFrac": "Don't know",
        },
    )
    assert table.ok, table.issues.errors()
    row = table.frame.row(0, named=True)
    assert {
        k: row[k]
        for k in (
            "fracture_type",
            "dxa",
            "dxa_not_ordered_reason",
            "date_followup_16w",
            "bone_therapy_16w",
            "falls_assessment",
            "strength_balance_referred",
            "fracture_site_2",
        )
    } == {
        "fracture_type": "incidental_vertebral",
        "dxa": "not_ordered",
        "dxa_not_ordered_reason": "treat_without_dxa",
        "date_followup_16w": __import__("datetime").date(2024, 6, 1),
        "bone_therapy_16w": "referred_clinical_opinion",
        "falls_assessment": "referred",
        "strength_balance_referred": "yes",
        "fracture_site_2": None,  # Don't know in a field without not_known: not recorded
    }


def test_a_required_label_that_cannot_be_read_is_reported_once(tmp_path: Path) -> None:
    table = _one(tmp_path, **{"1.11 SiteFirstFrac": "Forearm"})
    errors = [(i.column, i.message) for i in table.issues.issues() if i.level == "error"]
    assert len(errors) == 1 and errors[0][0] == "1.11 SiteFirstFrac"


def test_a_column_is_found_by_its_question_number_whatever_its_title(tmp_path: Path) -> None:
    row = national_row(record(service_code=SERVICE, fracture_type="clinical"))
    headers = [
        {"1.10 TypeOfFractue": "1.10 TypeOfFracture", "1.01 NHS Number": "1.01 NHSNo"}.get(h, h)
        for h in HEADERS
    ]
    row["1.10 TypeOfFracture"] = row.pop("1.10 TypeOfFractue")
    row["1.01 NHSNo"] = row.pop("1.01 NHS Number")
    headers[headers.index("Age Frac diagnosed")] = "AGE frac  Diagnosed"
    headers.append("8.01 Something new")
    table = read_national(national_csv(tmp_path / "titles.csv", [row], headers=headers))
    assert table.ok, table.issues.errors()
    assert table.frame["fracture_type"].to_list() == ["clinical"]
    assert table.frame["nhs_number"].to_list() == [nhs_number(0)]
    infos = {(i.column, i.message) for i in table.issues.issues() if i.level == "info"}
    assert (
        "8.01 Something new",
        "a column the National FLS-DB export profile does not know; it is not used",
    ) in infos
    assert any(c == "AGE frac  Diagnosed" and m.startswith("not used by flsdb") for c, m in infos)


def test_two_columns_for_one_question_is_an_error(tmp_path: Path) -> None:
    row = national_row(record(service_code=SERVICE))
    row["1.10 TypeOfFracture"] = "Clinical"
    table = read_national(
        national_csv(tmp_path / "twice.csv", [row], headers=[*HEADERS, "1.10 TypeOfFracture"])
    )
    errors = [(i.row, i.column, i.message) for i in table.issues.issues() if i.level == "error"]
    assert errors == [
        (
            1,
            "1.10 TypeOfFracture",
            "a second column for fracture_type (Fracture type); keep one of them",
        )
    ]


def test_the_fls_comes_from_service_or_the_file(tmp_path: Path) -> None:
    path = national_csv(tmp_path / "x.csv", [national_row(record(service_code=SERVICE))])
    with pytest.raises(FileFormatError, match="has no column naming the FLS: say which FLS"):
        read_national(path, service=None)
    row = {**national_row(record()), "service_code": "FLS01"}
    with_column = national_csv(tmp_path / "y.csv", [row], headers=["service_code", *HEADERS])
    assert read_national(with_column, service=None).frame["service_code"].to_list() == ["FLS01"]
    mismatch = read_national(with_column, service=SERVICE)
    assert [(i.column, i.message) for i in mismatch.issues.issues() if i.level == "error"] == [
        ("service_code", f"this upload is for the FLS {SERVICE}; the row names another")
    ]


def test_flsdb_format_without_a_profile_is_read_as_before(tmp_path: Path) -> None:
    own = write_records(tmp_path / "own.csv", [record(service_code=SERVICE)])
    profile = load_profile("flsdb")
    upload = open_upload(own, text=text_options(profile))
    assert apply_profile(upload, profile, load_dictionary()) is upload
    table = validate(upload, "records", known_services=KNOWN, upload_date=AS_OF)
    assert table.ok and table.issues.frame.height == 0


def test_ng249_answers_are_not_in_the_export() -> None:
    assert all(r[c] == "" for r in records() for c in NG249)


def test_a_two_digit_year_is_refused_never_read_as_the_year_26(tmp_path: Path) -> None:
    """Issue 20: '5/10/26' was read as 5 Oct 0026 (and an age at fracture of -1919 years)."""
    table = _one(tmp_path, **{"1.07 DateFLSAssess": "5/10/26"})
    errors = [i for i in table.issues.issues() if i.level == "error"]
    assert [(i.column, i.value) for i in errors] == [("1.07 DateFLSAssess", "5/10/26")]
    assert errors[0].message == (
        "Date of FLS assessment (1.07 DateFLSAssess): '5/10/26' has a two-digit year, which "
        "could be any century; use DD/MM/YYYY with the year in full (05/10/2026)"
    )
    assert not any("-19" in i.message or "0026" in i.message for i in table.issues.issues())
