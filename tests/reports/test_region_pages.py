"""A region report of six FLSs (the largest regions of the demo) leaves no page half empty
(review item 6): its chart of the headline KPIs, which needs most of a page, fills page 1 below
the heading, and the table follows; before, page 2 held the table's last rows alone (40%) while
the chart took page 3."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from pypdf import PdfReader

from flsdb.figures import compute_figures
from flsdb.kpi import parse_period
from flsdb.kpi.sources import source_from_files
from flsdb.reports.region import printed_height_mm, region_report
from flsdb.synth import generate, write_upload_files
from tests.reports.test_layout import check_pages, filled_share

AS_OF = dt.date(2025, 3, 31)


def test_a_region_of_six_flss_has_no_half_empty_page(tmp_path: Path) -> None:
    made = generate(services=6, records=3000, year=2024, seed=5, history_years=0, as_of=AS_OF)
    services = made.services.with_columns(
        region_code=pl.lit("QYG"), region_name=pl.lit("Cheshire and Merseyside ICB")
    )
    made = type(made)(services, made.records, made.as_of)
    services_path, records_path = write_upload_files(made, tmp_path / "data")
    source = source_from_files(records_path, services_path, upload_date=AS_OF)
    data = compute_figures(source, parse_period("2024"), AS_OF)
    (tmp_path / "regions").mkdir()
    paths = region_report(data, "QYG", tmp_path, ("html", "pdf"))
    html, pdf = (next(p for p in paths if p.suffix == s) for s in (".html", ".pdf"))
    assert len(PdfReader(pdf).pages) >= 2
    assert check_pages(pdf, html, tmp_path / "pages") == []
    # Stricter than a section's start allows: every page but the last at least half full.
    images = sorted((tmp_path / "pages").glob("p-*.png"))
    shares = [round(filled_share(image), 2) for image in images[:-1]]
    assert all(share >= 0.5 for share in shares), shares
    # The chart comes before the table: page 1 holds it whole.
    text = html.read_text()
    assert text.index("<figure>") < text.index('<table class="fixed">')


def test_a_drawing_s_printed_height_is_read_from_its_size() -> None:
    svg = b'<?xml version="1.0"?>\n<svg xmlns="x" width="518.4pt" height="259.2pt" viewBox="0">'
    assert printed_height_mm(svg) == 92.0  # half the body's 184 mm width
    assert printed_height_mm(b"<svg>") is None
