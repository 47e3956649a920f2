"""Both front doors build reports by one use case (services.report_files): a report downloaded
from the web is the one `flsdb report` writes for the same period, extract date and FLS, notes
included (the national lock's), on both backends (the PDF on SQLite)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from flsdb.figures import PeriodFigures
from flsdb.reports import build
from tests.command import flsdb_here
from tests.web.conftest import Site
from tests.web.downloads import figures_once

PARAMS = {"period": "2024", "as_of": "2025-06-30"}


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _same_pdf_text(web: bytes, written: bytes) -> bool:
    """The two PDFs' text is the same: at once when the files are (WeasyPrint writes the same
    bytes for the same HTML), else read page by page (pypdf's text extraction of the two
    reports cost about 3 s of processor time)."""
    return web == written or _pdf_text(web) == _pdf_text(written)


def _pdf_of_the_fls_report_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The report set's writer (`reports.build.write_report`, which the command's `--jobs 1`
    calls in this process) writes the national and region reports as HTML only: their HTML is
    compared below, their PDFs are not (the national PDF was about half of the test's
    processor time); the FLS report, whose PDF is compared, is written as asked."""
    write = build.write_report

    def written(
        data: PeriodFigures, kind: str, unit: str, out: Path, formats: tuple[str, ...]
    ) -> list[Path]:
        if kind in ("national", "region"):
            formats = tuple(f for f in formats if f != "pdf")
        return write(data, kind, unit, out, formats)

    monkeypatch.setattr(build, "write_report", written)


def test_a_web_download_equals_the_command_lines_report(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nurse, analyst = site.client("nurse"), site.client("analyst")
    locked = analyst.post("/api/locks", json={"period": "2024", "confirm": True})
    assert locked.status_code == 201, locked.text
    out = tmp_path / "reports"
    # The FLS report's PDF (made from the HTML compared below, by the same code on either
    # backend) is compared on SQLite; on PostgreSQL the command writes HTML only (a PDF costs
    # seconds).
    pdf_option = () if site.url.startswith("sqlite") else ("--no-pdf",)
    with monkeypatch.context() as patch:
        _pdf_of_the_fls_report_only(patch)
        done = flsdb_here(
            "report",
            "--period",
            "2024",
            "--as-of",
            PARAMS["as_of"],
            "--db",
            site.url,
            "--out",
            str(out),
            "--fls",
            "FLS01",
            "--region",
            "QE1",
            "--jobs",
            "1",
            *pdf_option,
            cwd=tmp_path,
        )
    assert done.returncode == 0, done.stderr
    written = {p.name: p for p in out.rglob("*") if p.is_file()}
    figures_once(monkeypatch)

    fls = nurse.get("/download/fls/FLS01.html", params=PARAMS)
    assert fls.status_code == 200, fls.text
    name = fls.headers["content-disposition"].split('filename="')[1].rstrip('"')
    # The lock's note, which the web's download once lacked, is in both.
    assert "locked" in fls.text and "by analyst" in fls.text
    assert fls.text == written[name].read_text(encoding="utf-8")

    if not pdf_option:
        pdf = nurse.get("/download/fls/FLS01.pdf", params=PARAMS)
        name = pdf.headers["content-disposition"].split('filename="')[1].rstrip('"')
        assert _same_pdf_text(pdf.content, written[name].read_bytes())
    else:
        assert not [name for name in written if name.endswith(".pdf")]

    for path in ("/download/region/QE1.html", "/download/national/all.html"):
        page = analyst.get(path, params=PARAMS)
        assert page.status_code == 200, page.text
        name = page.headers["content-disposition"].split('filename="')[1].rstrip('"')
        assert page.text == written[name].read_text(encoding="utf-8"), path

    table = analyst.get("/download/benchmark/all.csv", params=PARAMS)
    name = table.headers["content-disposition"].split('filename="')[1].rstrip('"')
    assert table.text == written[name].read_text(encoding="utf-8")
    assert "FLS01" in table.text
