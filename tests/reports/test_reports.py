"""Reports from hand-built records: content, suppression, every page's context, no patient data."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from flsdb.kpi import parse_period
from flsdb.kpi.sources import source_from_files
from flsdb.reports.build import ReportSet, build_reports
from flsdb.reports.data import ReportData, collect
from flsdb.reports.suppression import suppress
from tests.factory import write_records, write_services
from tests.kpi.cases import AS_OF, ROWS


@pytest.fixture(scope="module")
def report_data(tmp_path_factory: pytest.TempPathFactory) -> ReportData:
    folder = tmp_path_factory.mktemp("data")
    source = source_from_files(
        write_records(folder / "r.csv", ROWS), write_services(folder / "s.csv"), upload_date=AS_OF
    )
    return collect(source, parse_period("2024"), AS_OF)


@pytest.fixture(scope="module")
def reports(report_data: ReportData, tmp_path_factory: pytest.TempPathFactory) -> ReportSet:
    return build_reports(report_data, tmp_path_factory.mktemp("out"), jobs=1)


def test_every_report_is_written(reports: ReportSet) -> None:
    assert [p.suffix for p in reports.national] == [".html", ".pdf"]
    assert sorted(reports.services) == ["FLS01", "FLS02", "WAL01"]
    assert sorted(reports.regions) == ["7A1", "QE1"]
    for paths in [reports.national, *reports.services.values(), *reports.regions.values()]:
        pdf = next(p for p in paths if p.suffix == ".pdf")
        assert pdf.read_bytes()[:5] == b"%PDF-"
        assert len(PdfReader(pdf).pages) >= 1


def test_every_pdf_page_states_period_extract_records_and_caseload(reports: ReportSet) -> None:
    for paths in [reports.national, reports.services["FLS01"], reports.regions["QE1"]]:
        pdf = next(p for p in paths if p.suffix == ".pdf")
        for page in PdfReader(pdf).pages:
            text = " ".join(page.extract_text().split())
            assert "period 2024" in text
            assert "data as of 2025-03-01" in text
            assert "9 records from 3 FLSs" in text
            assert "caseload: expected_spine" in text


def test_national_report_content(reports: ReportSet) -> None:
    html = reports.national[0].read_text()
    for heading in (
        "Headline figures",
        "Recommendations",
        "The KPIs",
        "Identification against the expected caseload",
        "Variation between FLSs",
        "Higher-risk fracture sites",
        "Treatment recommended",
        "Falls",
        "Breakdowns by age, sex and care home",
    ):
        assert heading in html
    # kpi07 nationally: 7 of 9 (hand-computed in tests/kpi/cases.py); kpi09 is 3 of 5, so its
    # count is suppressed in a published report.
    assert re.search(r"kpi07 Bone therapy recommended</td>.*?<b>77.8%</b>", html, re.S)
    assert re.search(r"kpi09 Monitoring at 16 weeks</td>.*?<b>suppressed</b>", html, re.S)
    # Recommendations state their threshold and the units they pick out.
    assert "identify at least 80% of the expected spine fracture caseload" in html
    assert "Applies to 2 regions: 7A1, QE1" in html
    # The national run charts have months to show (kpi07 has patients in 9 months of 2024).
    assert "kpi07 Bone therapy recommended: too few months" not in html
    # Every chart has alternative text.
    images = re.findall(r"<img [^>]*>", html)
    assert images and all('alt="' in img and 'alt=""' not in img for img in images)


def test_national_outputs_suppress_small_counts(reports: ReportSet) -> None:
    html = reports.national[0].read_text()
    # Wales has 1 record: its kpi03 numerator/denominator must not appear as a count.
    assert "&lt;5" in html
    table = Path(reports.tables[0]).parent / "benchmark-service-2024.csv"
    with table.open() as handle:
        rows = {(r["unit"], r["kpi"]): r for r in csv.DictReader(handle)}
    wales = rows[("WAL01", "kpi07")]
    assert (wales["numerator"], wales["denominator"], wales["percent"]) == ("<5", "<5", "")
    fls01 = rows[("FLS01", "kpi03")]
    assert (fls01["numerator"], fls01["denominator"]) == ("<5", "7")
    assert rows[("FLS01", "kpi01")]["numerator"] != "<5"  # fields, not patients
    assert rows[("FLS01", "kpi02")]["denominator"] == "200"


def test_xlsx_tables(reports: ReportSet) -> None:
    book = openpyxl.load_workbook(next(p for p in reports.tables if p.suffix == ".xlsx"))
    assert book.sheetnames == ["nations", "regions", "services", "definitions"]
    services = book["services"]
    assert services.freeze_panes == "A2"
    header = [c.value for c in services[1]]
    assert header[:4] == ["level", "unit", "period", "kpi"]
    definitions = [row[0].value for row in book["definitions"].iter_rows(min_row=2)]
    assert "kpi11" in definitions
    rag_column = header.index("rag") + 1
    coloured = [services.cell(row=r, column=rag_column) for r in range(2, services.max_row + 1)]
    greens = [c for c in coloured if c.value == "green"]
    assert greens and greens[0].fill.fgColor.rgb.endswith("1A9850")


def test_fls_report_content(reports: ReportSet) -> None:
    html = reports.services["FLS01"][0].read_text()
    assert "North FLS (FLS01)" in html
    assert "Place in each funnel" in html
    assert "Month by month (SPC)" in html
    assert "Data completeness" in html
    # FLS01 kpi07: 5 of 7 (its own counts are not suppressed in its own report).
    assert re.search(r"kpi07 Bone therapy recommended</td><td><b>71.4%</b></td><td>5 / 7", html)


def test_region_report_puts_fls_side_by_side(reports: ReportSet) -> None:
    html = reports.regions["QE1"][0].read_text()
    assert "<th>FLS01</th><th>FLS02</th><th>region</th>" in html


def test_no_patient_identifiable_data_in_any_output(reports: ReportSet) -> None:
    identifiers = {row["nhs_number"] for row in ROWS} | {row["date_of_birth"] for row in ROWS}
    files = [*reports.national, *reports.tables]
    files += [p for paths in [*reports.services.values(), *reports.regions.values()] for p in paths]
    for path in files:
        if path.suffix == ".pdf":
            text = " ".join(page.extract_text() for page in PdfReader(path).pages)
        elif path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path)
            text = " ".join(str(c.value) for s in book for row in s.iter_rows() for c in row)
        else:
            text = path.read_text()
        for identifier in identifiers:
            assert identifier not in text, (identifier, path)


def test_no_suppression_for_internal_use(report_data: ReportData, tmp_path: Path) -> None:
    result = build_reports(
        report_data,
        tmp_path,
        suppression=False,
        services=[],
        regions=False,
        formats=("html",),
        jobs=1,
    )
    table = pd.read_csv(tmp_path / "benchmark-service-2024.csv", dtype=str)
    wales = table[(table["unit"] == "WAL01") & (table["kpi"] == "kpi07")].iloc[0]
    assert (wales["numerator"], wales["denominator"], wales["percent"]) == ("1", "1", "100.0")
    assert "&lt;5" not in result.national[0].read_text()


def test_suppression_rules() -> None:
    table = pd.DataFrame(
        {
            "kpi": ["kpi03", "kpi03", "kpi01", "kpi02", "kpi09"],
            "numerator": [4, 5, 3, 2, 0],
            "denominator": [10, 4, 17, 3.5, 6],
            "percent": [40.0, 100.0, 17.6, 57.1, 0.0],
            "ci_low": [1.0] * 5,
            "ci_high": [2.0] * 5,
            "rag": ["red"] * 5,
            "not_due": [None, None, None, None, 2],
        }
    )
    shown = suppress(table)
    assert shown["numerator"].tolist() == ["<5", 5, 3, "<5", 0]
    assert shown["denominator"].tolist() == [10, "<5", 17, 3.5, 6]
    assert shown["percent"].tolist() == [None, None, 17.6, None, 0.0]
    assert shown["not_due"].tolist()[-1] == "<5"
