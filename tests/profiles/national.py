"""Files laid out as the national FLS-DB webtool exports them, built by hand from records in
flsdb's own format: its column titles, its labels, DD/MM/YYYY dates, Windows-1252 or UTF-8, CSV
with commas or semicolons, or XLSX. The tables here are written out independently of the
profile, so a test comparing the two catches a profile that maps a label wrongly."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path

import openpyxl

# The 2024 export's columns, as the webtool titles them (a field's name where flsdb uses it).
COLUMNS: list[tuple[str, str | None]] = [
    ("1.01 NHS Number", "nhs_number"),
    ("1.02 Date of Birth", "date_of_birth"),
    ("1.03 Gender", "sex"),
    ("1.04 Post Code", "postcode"),
    ("1.05 CareRes", "care_home_resident"),
    ("1.06 DateFLSContact", None),
    ("1.07 DateFLSAssess", "date_fls_assessment"),
    ("1.08 AdmitHosp", "admitted_to_hospital"),
    ("1.09 Date Index Frac Diagnosed", "date_fracture_diagnosed"),
    ("Age Frac diagnosed", None),
    ("1.10 TypeOfFractue", "fracture_type"),
    ("1.11 SiteFirstFrac", "fracture_site"),
    ("1.12 SiteSecFrac", "fracture_site_2"),
    ("1.13 SiteThirdFrac", "fracture_site_3"),
    ("2.01 Height", None),
    ("2.02 Weight", None),
    ("2.03 PrevFracHist", "previous_fracture"),
    ("2.04 FamHipFracHist", None),
    ("2.05 Smoker", None),
    ("2.06 BoneSpareTherapy", "bone_therapy_at_presentation"),
    ("3.01 DXA", "dxa"),
    ("3.02 DXANotOrdered", "dxa_not_ordered_reason"),
    ("3.03 DateofDXA", "date_dxa"),
    ("3.04 TScore", "t_score"),
    ("3.05 RiskOfFracture", None),
    ("4.01 BoneTherapy", "bone_therapy_recommended"),
    ("4.02 CalciumVitDRec", "calcium_vitamin_d_recommended"),
    ("5.01 RiskAssesByFLS", "falls_assessment"),
    ("5.02 TwoFalls", "two_or_more_falls"),
    ("5.03 FearOfFalling", "fear_of_falling"),
    ("5.04 FallsClinic", None),
    ("5.05 MedicationReview", None),
    ("5.06 HomeHazards", None),
    ("5.07 Vision", None),
    ("5.08 Continence", None),
    ("5.09 Footwear", None),
    ("5.10 Referrals", "strength_balance_referred"),
    ("6.01 FollowUp12_16", "followup_16w"),
    ("6.02 Dateof16WeekAss", "date_followup_16w"),
    ("6.05 BoneTherapy1216", "bone_therapy_16w"),
    ("6.06 StartStrenBalExe", "strength_balance_started_16w"),
    ("7.01 FollowUp48_56", "followup_52w"),
    ("7.02 Dateof52WeekAss", "date_followup_52w"),
    ("7.05 BoneTherapy4856", "bone_therapy_52w"),
    ("7.06 NumReFracSinceIndex", "refractures_since_index"),
]
HEADERS = [title for title, _ in COLUMNS]
UNUSED = [title for title, field in COLUMNS if field is None]
NG249 = [
    "fallen_past_12_months",
    "unable_to_get_up",
    "loss_of_consciousness",
    "living_with_frailty",
]

YES_NO = {"yes": "Yes", "no": "No", "not_known": "Don't know"}
SITES_2024 = {
    "hip": "Hip",
    "spine": "Spine",
    "humerus": "Humerus",
    "pelvis": "Pelvis",
    "wrist": "Wrist",
    "other": "Other",
}
SITES_2023 = {
    "hip": "Hip",
    "spine": "Spine",
    **dict.fromkeys(("humerus", "pelvis", "wrist", "other"), "Non hip/non spine"),
}
DRUGS = {
    "alendronate": "Alendronate",
    "risedronate": "Risedronate",
    "ibandronate": "Ibandronate",
    "zoledronate": "Zoledronate",
    "denosumab": "Denosumab",
    "teriparatide": "Teriparatide",
    "romosozumab": "Romosozumab",
    "abaloparatide": "Abaloparatide",
    "raloxifene": "Raloxifene",
    "hrt": "Systemic Oestrogens",
    "alfacalcidol": "Alfacalcidol",
}
LABELS: dict[str, dict[str, str]] = {
    "sex": {"female": "Female", "male": "Male", "other": "Other", "not_known": "Don't know"},
    "fracture_type": {
        "clinical": "Clinical",
        "incidental_vertebral": "Incidental vertebral",
        "not_known": "Don't know",
    },
    "bone_therapy_at_presentation": {**DRUGS, "none": "No", "not_known": "Don't know"},
    "dxa": {
        "performed": "Performed",
        "ordered": "Ordered",
        "not_ordered": "Not ordered",
        "not_known": "Don't know",
    },
    "dxa_not_ordered_reason": {
        "treat_without_dxa": "Treat without DXA",
        "not_appropriate": "Not appropriate",
        "declined": "Declined",
        "other": "Other",
    },
    "bone_therapy_recommended": {
        **DRUGS,
        "inappropriate": "Inappropriate",
        "informed_decline": "Informed decline",
        "referred_clinical_opinion": "Referred for further clinical opinion",
        "referred_to_gp": "Referred to GP to decide prescription",
        "not_known": "Don't know",
    },
    "falls_assessment": {
        "assessed": "Yes",
        "not_done": "No",
        "referred": "Referred",
        "not_indicated": "Not indicated",
        "not_known": "Don't know",
    },
    "strength_balance_referred": {
        "yes": "Yes",
        "no": "No",
        "not_appropriate": "Not appropriate",
        "not_known": "Don't know",
    },
}
FOLLOWUP_THERAPY = {
    **DRUGS,
    "not_started": "Not started",
    "no_longer_appropriate": "No longer appropriate",
    "informed_decline": "Informed decline",
    "referred_clinical_opinion": "Refer for clinical opinion",
    "not_known": "Don't know",
}
LABELS["bone_therapy_16w"] = LABELS["bone_therapy_52w"] = FOLLOWUP_THERAPY
for name in (
    "care_home_resident",
    "admitted_to_hospital",
    "previous_fracture",
    "calcium_vitamin_d_recommended",
    "two_or_more_falls",
    "fear_of_falling",
    "followup_16w",
    "strength_balance_started_16w",
    "followup_52w",
):
    LABELS[name] = YES_NO
DATES = {
    "date_of_birth",
    "date_fls_assessment",
    "date_fracture_diagnosed",
    "date_dxa",
    "date_followup_16w",
    "date_followup_52w",
}


def _label(field: str, code: str, year: int) -> str:
    if field.startswith("fracture_site"):
        return (SITES_2023 if year <= 2023 else SITES_2024)[code]
    table = LABELS[field]
    # Several drugs are joined by ';' in one cell, as the webtool writes them.
    return ";".join(table[part] for part in code.split(";"))


def national_row(record: dict[str, str], year: int = 2024) -> dict[str, str]:
    """A record in flsdb's format as a row of the national export."""
    row = {}
    for title, field in COLUMNS:
        value = (record.get(field) or "") if field else ""
        if not value:
            row[title] = ""
        elif field in DATES:
            row[title] = dt.date.fromisoformat(value).strftime("%d/%m/%Y")
        elif field in LABELS or (field or "").startswith("fracture_site"):
            row[title] = _label(str(field), value, year)
        else:
            row[title] = value
    if row["1.06 DateFLSContact"] == "" and record.get("date_fls_assessment"):
        row["1.06 DateFLSContact"] = row["1.07 DateFLSAssess"]
    row["2.01 Height"] = "162"
    return row


def national_csv(
    path: Path,
    rows: Iterable[dict[str, str]],
    *,
    encoding: str = "windows-1252",
    delimiter: str = ",",
    headers: list[str] | None = None,
) -> Path:
    """The rows as Excel saves CSV: CRLF line ends, the given encoding ('utf-8-sig' writes a
    byte-order mark) and delimiter."""
    headers = headers or HEADERS
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def national_xlsx(path: Path, rows: Iterable[dict[str, str]]) -> Path:
    """The rows as an XLSX workbook, dates as date cells and numbers as numbers, as the webtool's
    spreadsheet export has them."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADERS)
    dated = {title for title, field in COLUMNS if field in DATES}
    numbers = {"3.04 TScore", "7.06 NumReFracSinceIndex", "2.01 Height"}
    for row in rows:
        cells: list[object] = []
        for title in HEADERS:
            value = row.get(title, "")
            if value and title in dated:
                cells.append(dt.datetime.strptime(value, "%d/%m/%Y"))
            elif value and title in numbers:
                cells.append(float(value))
            else:
                cells.append(value or None)
        sheet.append(cells)
    book.save(path)
    return path
