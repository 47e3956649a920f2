"""The report set on synthetic national data, looked at as pages: no page more than half empty
unless a section starts on the next, outliers named, charts drawing only what tables show."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from flsdb.figures import PeriodFigures, audited, compute_figures
from flsdb.ingest import open_upload, validate
from flsdb.kpi import parse_period
from flsdb.kpi.sources import source_from_frames
from flsdb.reports.build import ReportSet, build_reports
from flsdb.synth import generate, write_upload_files
from tests.reports.pdf_text import page_texts

AS_OF = dt.date(2026, 1, 31)


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> tuple[PeriodFigures, ReportSet]:
    folder = tmp_path_factory.mktemp("synthetic")
    data = generate(services=14, records=9000, year=2024, seed=3, history_years=1, as_of=AS_OF)
    services_path, records_path = write_upload_files(data, folder)
    services = validate(open_upload(services_path), "services", upload_date=AS_OF)
    records = validate(
        open_upload(records_path),
        "records",
        known_services=set(services.frame["service_code"].to_list()),
        upload_date=AS_OF,
    )
    source = source_from_frames(records.frame, services.frame.drop("_row").to_pandas(), "synthetic")
    report_data = compute_figures(source, parse_period("2024"), AS_OF)
    codes = list(report_data.services["service_code"])
    regions = sorted(report_data.services["region_code"].unique())
    result = build_reports(
        report_data,
        tmp_path_factory.mktemp("reports"),
        services=codes[:2],
        regions=regions[:2],
        jobs=2,
    )
    return report_data, result


def filled_share(png: Path) -> float:
    """How far down the page body the last ink reaches (0 to 1), header and footer left out."""
    pixels = np.asarray(Image.open(png).convert("L"))
    height = pixels.shape[0]
    top, bottom = int(height * 17 / 297), int(height * (297 - 15) / 297)
    ink = np.flatnonzero((pixels[top:bottom] < 230).any(axis=1))
    return 0.0 if len(ink) == 0 else (ink[-1] + 1) / (bottom - top)


def check_pages(pdf: Path, html: Path, folder: Path) -> list[str]:
    """Pages more than half empty whose next page does not start a section."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    subprocess.run(
        ["pdftoppm", "-r", "20", "-gray", "-png", str(pdf), str(folder / "p")], check=True
    )
    images = sorted(folder.glob("p-*.png"))
    text = html.read_text()
    sections = [
        unescape(re.sub("<[^>]+>", "", h)).strip() for h in re.findall(r"<h2[^>]*>(.*?)</h2>", text)
    ]
    # The text is read only for a PDF with a half-empty page, by Poppler as the other report
    # tests read it (tests/reports/pdf_text.py: 0.1 CPU s for the national report's 24 pages,
    # where pypdf took about 1 s to reach the first page it read; on these reports both find
    # a section's start on the same pages).
    problems = []
    for index, image in enumerate(images[:-1]):
        share = filled_share(image)
        if share >= 0.5:
            continue
        body = page_texts(pdf)[index + 1]
        starts_section = any(
            (position := body.find(title)) >= 0 and position < 400 for title in sections
        )
        if not starts_section:
            problems.append(f"{pdf.name} page {index + 1} is {share:.0%} full")
    return problems


def test_no_page_is_more_than_half_empty_unless_a_section_follows(
    national: tuple[PeriodFigures, ReportSet], tmp_path: Path
) -> None:
    _, result = national
    problems = []
    for paths in (result.national, *result.services.values(), *result.regions.values()):
        html, pdf = (next(p for p in paths if p.suffix == s) for s in (".html", ".pdf"))
        problems += check_pages(pdf, html, tmp_path / pdf.stem)
    assert problems == []


def test_funnels_state_their_method_and_name_alarm_outliers(
    national: tuple[PeriodFigures, ReportSet],
) -> None:
    data, result = national
    html = result.national[0].read_text()
    for kpi, inequity in data.inequities.items():
        assert inequity.funnel.method == "arcsine" and inequity.funnel.overdispersion == "additive"
        for code in inequity.outside("low_alarm", "high_alarm"):
            assert data.unit_name("service", code) in html, (kpi, code)
    assert html.count("additive random effects for overdispersion, phi") >= len(data.inequities)


def test_charts_draw_only_published_values(national: tuple[PeriodFigures, ReportSet]) -> None:
    data, result = national
    html = unescape(result.national[0].read_text())
    # As the reports publish them: the gate's tables (`audited`, as `build_reports` uses).
    for kpi, inequity in audited(data).inequities.items():
        hidden = [c for c, shown in zip(inequity.names, inequity.shown, strict=True) if not shown]
        table = re.search(rf"Funnel plot of \d+ FLSs for {kpi} .*?</table>", html, re.S)
        assert table is not None, kpi
        for code in hidden:
            assert f"({code})" not in table.group(0), (kpi, code)


def test_the_page_check_finds_a_half_empty_page(tmp_path: Path) -> None:
    from weasyprint import HTML

    html = tmp_path / "doc.html"
    html.write_text(
        "<html><body><h2>First</h2><p>A short page.</p>"
        '<p style="break-before: page">Not a new section.</p>'
        '<h2 style="break-before: page">Second</h2><p>x</p></body></html>'
    )
    pdf = tmp_path / "doc.pdf"
    HTML(filename=str(html)).write_pdf(pdf)
    problems = check_pages(pdf, html, tmp_path / "pages")
    # Page 1 is nearly empty and page 2 goes on with the same section; page 2 is nearly empty
    # too, but a section starts on page 3.
    assert len(problems) == 1 and problems[0].startswith("doc.pdf page 1 is ")
