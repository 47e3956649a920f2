"""What a published output says about itself, and a workbook people can use: synthetic data
marked on every page, file name and table; an FLS's own report marked for that FLS only and
kept under internal/fls/; an unlocked period provisional on every page; numeric columns of
numbers only, dates as dates, filters, frozen headers, widths and document properties; tagged
PDF (PDF/UA)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from pypdf import PdfReader

from flsdb.figures import PeriodFigures, compute_figures
from flsdb.kpi import parse_period
from flsdb.kpi.sources import source_from_files
from flsdb.reports.build import ReportSet, build_reports
from flsdb.reports.marking import SYNTHETIC
from tests.factory import SERVICES, write_records, write_services
from tests.kpi.cases import AS_OF, ROWS
from tests.reports.cases import CASES_GROUP
from tests.reports.pdf_text import page_texts, pdf_of

# On the worker of the reports' test set (one xdist group): the synthetic set is that set's
# records with the services marked synthetic, which changes nothing the intruder's audit reads,
# so the audit's outcome for the set checked there (tests/reports/cases.py) is found by its
# fingerprint (figures.passed) instead of being searched again: about 10 of this module's 21
# CPU seconds when it ran on a worker of its own.
pytestmark = CASES_GROUP


@pytest.fixture(scope="module")
def synthetic_data(tmp_path_factory: pytest.TempPathFactory) -> PeriodFigures:
    folder = tmp_path_factory.mktemp("synthetic")
    services = [{**row, "synthetic": "yes"} for row in SERVICES]
    source = source_from_files(
        write_records(folder / "r.csv", ROWS),
        write_services(folder / "s.csv", services),
        upload_date=AS_OF,
    )
    return compute_figures(source, parse_period("2024"), AS_OF)


@pytest.fixture(scope="module")
def synthetic(synthetic_data: PeriodFigures, tmp_path_factory: pytest.TempPathFactory) -> ReportSet:
    # In this process (jobs=1): about 1 CPU s less than two forked workers, each setting up
    # its fonts; the workers' path is test_layout's (and the demo's).
    return build_reports(synthetic_data, tmp_path_factory.mktemp("out"), jobs=1)


def every_file(result: ReportSet) -> list[Path]:
    paths = [*result.national, *result.tables]
    for group in (result.services, result.regions):
        paths += [p for paths in group.values() for p in paths]
    return paths


def test_the_services_table_says_the_data_are_synthetic(synthetic_data: PeriodFigures) -> None:
    assert synthetic_data.synthetic and synthetic_data.provisional


def test_synthetic_data_are_marked_on_every_page_file_name_and_table(synthetic: ReportSet) -> None:
    paths = every_file(synthetic)
    assert len(paths) == 2 + 5 + 2 * 3 + 2 * 2
    assert all(p.name.startswith("synthetic-") for p in paths), [p.name for p in paths]
    for path in paths:
        if path.suffix == ".pdf":
            pages = page_texts(path)
            assert all(SYNTHETIC in page for page in pages), path.name
            assert all("Provisional" in page for page in pages), path.name
        elif path.suffix == ".html":
            html = path.read_text()
            assert f'<p class="banner banner-synthetic">{SYNTHETIC}.' in html
            assert "<title>SYNTHETIC DATA: not real services · " in html
            assert re.search(r"<title>[^<]*Provisional · ", html)
        elif path.suffix == ".csv":
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
            assert set(table["marking"]) == {SYNTHETIC}, path.name
        else:
            book = openpyxl.load_workbook(path)
            for sheet in book:
                top = [str(sheet.cell(row=r, column=1).value) for r in (1, 2)]
                assert top[0].startswith(SYNTHETIC) and top[1].startswith("Provisional"), sheet
            assert book.properties.title == "FLS audit benchmark, period 2024"
            assert SYNTHETIC in str(book.properties.description)


def test_an_fls_report_is_for_that_fls_only_and_kept_internal(synthetic: ReportSet) -> None:
    for code, paths in synthetic.services.items():
        for path in paths:
            assert path.parent == synthetic.folder / "internal" / "fls", path
        pages = page_texts(pdf_of(paths))
        assert len(pages) > 1
        for page in pages:
            assert f"Not for publication: for FLS {code} only" in page
            # Its header says its own counts are unsuppressed, and never that they are hidden.
            assert "this FLS's own counts are not suppressed" in page
            assert "counts of 1 to 4 shown as <5 ·" not in page
        html = next(p for p in paths if p.suffix == ".html").read_text()
        assert "own counts are shown in full, unsuppressed" in html
    # Its note is marked as every file made from synthetic data is (the name says so).
    assert not (synthetic.folder / "internal" / "README.txt").exists()
    note = (synthetic.folder / "internal" / "synthetic-README.txt").read_text()
    assert note.startswith("NOT FOR PUBLICATION") and "for that FLS only" in note
    assert not (synthetic.folder / "fls").exists()
    # The published reports are not marked as an FLS's.
    for text in page_texts(pdf_of(synthetic.national)):
        assert "Not for publication" not in text


def test_reports_are_tagged_pdf_ua(synthetic: ReportSet) -> None:
    for pdf in (pdf_of(synthetic.national), pdf_of(synthetic.regions["QE1"])):
        reader = PdfReader(pdf)
        root = reader.trailer["/Root"]
        assert "/StructTreeRoot" in root, pdf.name
        assert bool(root["/MarkInfo"]["/Marked"]) is True
        assert root["/Lang"] == "en"
        metadata = root["/Metadata"].get_object().get_data().decode()
        assert "pdfuaid:part" in metadata
        assert reader.metadata is not None and reader.metadata.title


def _figures(node: object, found: list[object]) -> list[object]:
    """Every /Figure structure element under a tagged PDF's structure tree node."""
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, list):
        for child in node:
            _figures(child, found)
    elif hasattr(node, "get"):
        if node.get("/S") == "/Figure":
            found.append(node)
        if "/K" in node:
            _figures(node["/K"], found)
    return found


def test_every_figure_in_the_pdfs_has_alternative_text(synthetic: ReportSet) -> None:
    """PDF/UA: the SPC and funnel legends' swatches are figures too; each says what it is."""
    fls = next(iter(synthetic.services.values()))
    for pdf in (pdf_of(synthetic.national), pdf_of(fls)):
        root = PdfReader(pdf).trailer["/Root"]
        figures = _figures(root["/StructTreeRoot"], [])
        assert len(figures) > 10, pdf.name
        missing = [f for f in figures if not str(f.get("/Alt", "")).strip()]
        assert not missing, (pdf.name, len(missing))


def test_no_text_in_the_stylesheet_is_under_8pt() -> None:
    from importlib import resources

    css = resources.files("flsdb.reports").joinpath("templates/style.css").read_text("utf-8")
    sizes = [float(s) for s in re.findall(r"font-size: ([0-9.]+)pt", css)]
    assert sizes and min(sizes) >= 8.0


def _sheet(book: openpyxl.Workbook, name: str) -> tuple[Worksheet, int]:
    sheet = book[name]
    header = next(r for r in range(1, 15) if sheet.cell(row=r, column=1).value in ("FLS", "level"))
    return sheet, header


def test_workbook_numeric_columns_hold_numbers_only(synthetic: ReportSet) -> None:
    book = openpyxl.load_workbook(next(p for p in synthetic.tables if p.suffix == ".xlsx"))
    wide, header = _sheet(book, "FLS benchmark")
    parts = [wide.cell(row=header + 1, column=c).value for c in range(1, wide.max_column + 1)]
    kpis = [wide.cell(row=header, column=c).value for c in range(1, wide.max_column + 1)]
    assert kpis[9] == "kpi01 Data completeness"  # the KPI's name beside its code
    assert parts[9:17] == [
        "n", "n withheld", "N", "N withheld", "%", "RAG", "rank from", "rank to",
    ]  # fmt: skip
    numeric = [
        c for c, p in enumerate(parts, start=1) if p in ("n", "N", "%", "rank from", "rank to")
    ]
    numeric += [8]  # records
    assert wide.cell(row=header, column=9).value == "records withheld"
    markers = [c for c, p in enumerate(parts, start=1) if p in ("n withheld", "N withheld")]
    markers += [9]
    withheld = 0
    for r in range(header + 2, wide.max_row + 1):
        for c in numeric:
            value = wide.cell(row=r, column=c).value
            assert value is None or isinstance(value, int | float), (r, c, value)
        for c in markers:
            marker = wide.cell(row=r, column=c).value
            if marker is not None:
                withheld += 1
                assert marker in ("<5", "c")
                assert wide.cell(row=r, column=c - 1).value is None
    assert withheld > 0  # the small Welsh FLS's counts are withheld
    as_of = wide.cell(row=header + 2, column=7)
    assert as_of.is_date and as_of.value.date() == AS_OF and as_of.number_format == "d mmm yyyy"
    assert wide.cell(row=header + 2, column=6).value == 2024
    assert wide.freeze_panes == f"C{header + 2}"
    assert wide.auto_filter.ref is not None and wide.auto_filter.ref.startswith(f"A{header + 1}:")
    # Widths fit: the longest FLS name and region name are not clipped.
    width = wide.column_dimensions["C"].width
    assert width >= max(len(r["region_name"]) for r in SERVICES)
    long, header = _sheet(book, "services (long)")
    columns = [long.cell(row=header, column=c).value for c in range(1, long.max_column + 1)]
    assert columns[:10] == [
        "level", "unit", "unit_name", "period", "kpi", "kpi_name", "numerator",
        "numerator_withheld", "denominator", "denominator_withheld",
    ]  # fmt: skip
    numeric = [columns.index(c) + 1 for c in ("numerator", "denominator", "percent", "not_due")]
    markers = 0
    for r in range(header + 1, long.max_row + 1):
        for c in numeric:
            value = long.cell(row=r, column=c).value
            assert value is None or isinstance(value, int | float), (r, c, value)
        markers += long.cell(row=r, column=8).value is not None
        assert long.cell(row=r, column=4).value == 2024
    assert markers > 0
    assert long.freeze_panes == f"A{header + 1}" and long.auto_filter.ref.startswith(f"A{header}")
    names = [long.cell(row=r, column=6).value for r in range(header + 1, long.max_row + 1)]
    assert "Bone therapy recommended" in names
    units = [long.cell(row=r, column=3).value for r in range(header + 1, long.max_row + 1)]
    assert long.column_dimensions["C"].width >= max(len(u) for u in units) > 10
    assert book["definitions"].auto_filter.ref is not None


def test_no_float_counts_or_nan_in_any_report(synthetic: ReportSet) -> None:
    for path in every_file(synthetic):
        if path.suffix == ".pdf":
            text = " ".join(page_texts(path))
        elif path.suffix == ".html":
            text = re.sub(r"<[^>]+>", " ", path.read_text())
        else:
            continue
        assert not re.search(r"\bnan\b", text, re.I), path.name
        assert not re.search(r"(?<![\d.])\d{1,3}(,\d{3})*\.0 /", text), path.name  # 430.0 / 500


def chart_svgs(html: str) -> list[str]:
    return [
        base64.b64decode(m).decode()
        for m in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    ]


def test_charts_are_vector_drawings_with_text_of_8_pt_or_more(synthetic: ReportSet) -> None:
    page_width = 184 / 25.4 * 72  # the body's width in points: every chart is drawn across it
    for paths in (synthetic.national, *synthetic.services.values(), *synthetic.regions.values()):
        html = next(p for p in paths if p.suffix == ".html").read_text()
        assert "data:image/jpeg" not in html and "data:image/png" not in html
        # Text stays text (no outlines); a grid's overlay of one FLS's markers has none.
        drawings = [svg for svg in chart_svgs(html) if "<text" in svg]
        # A region of one FLS has no chart (its table says it all); every other report has.
        assert drawings or paths[0].name.endswith("region-report-7A1-2024.html"), paths[0].name
        for svg in drawings:
            width = float(re.search(r'<svg[^>]* width="([\d.]+)pt"', svg).group(1))  # type: ignore[union-attr]
            sizes = [float(v) for v in re.findall(r"font-size: ?([\d.]+)px", svg)]
            sizes += [float(v) for v in re.findall(r"font: [^;\"]*?([\d.]+)px", svg)]
            assert sizes, paths[0].name
            # Shown at the page's width: a chart's font size times this scale is its size on paper.
            assert min(sizes) * page_width / width >= 7.95, (paths[0].name, min(sizes))
