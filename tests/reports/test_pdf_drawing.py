"""Our chart drawings drawn straight into the PDF (`charts.pdf_drawing`) look as WeasyPrint's own
SVG drawing draws them: every kind of element the charts use, compared pixel by pixel on the
rendered page, and the texts read back from the PDF. A drawing that uses anything else goes to
WeasyPrint whole."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from flsdb.reports.charts import pdf_drawing
from flsdb.reports.charts import svg as draw
from flsdb.reports.render import print_setup

pytest.importorskip("weasyprint")
Image = pytest.importorskip("PIL.Image")
ImageChops = pytest.importorskip("PIL.ImageChops")


def _drawing(extra: str = "") -> bytes:
    parts = [
        draw.path(draw.line([10, 60, 110, 160], [80, 40, 60, 20]), "#0072B2", 0.8, "3 1.5"),
        draw.path(draw.steps([10, 60, 110, 160], [90, 70, 75, 50]), "#555555", 0.6),
        draw.dots([(20, 30), (40, 35), (90, 55)], "#E69F00", 1.8),
        draw.boxes([(120, 60, 20, 25), (145, 50, 20, 35)], "#1A9850", "#222222"),
        draw.text(5, 95, "0%"),
        draw.text(160, 95, "1,000", anchor="end"),
        draw.text(90, 10, "middle 50%", anchor="middle"),
        draw.label(30, 20, "A title", title=True),
        '<rect x="60" y="85" width="40" height="10" fill="#ffffff" fill-opacity="0.5"/>',
        extra,
    ]
    return draw.document(170, 100, parts)


def _pdf(tmp_path: Path, name: str, drawing: bytes) -> Path:
    from weasyprint import HTML

    fonts, stylesheet, _ = print_setup()  # installs the drawing as the reports do
    source = base64.b64encode(drawing).decode()
    html = f'<img alt="a chart" src="data:image/svg+xml;base64,{source}" style="width: 170pt">'
    path = tmp_path / f"{name}.pdf"
    HTML(string=html).write_pdf(path, stylesheets=[stylesheet], font_config=fonts)
    return path


def _page(pdf: Path) -> object:
    out = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(out)], check=True)
    return Image.open(out.with_suffix(".png")).convert("L")


def _both(tmp_path: Path, drawing: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    plans: list[object] = []
    planned = pdf_drawing._plan_of

    def noted(svg: object) -> object:
        found = planned(svg)
        plans.append(found)
        return found

    monkeypatch.setattr(pdf_drawing, "_plan_of", noted)
    ours = _pdf(tmp_path, "ours", drawing)
    monkeypatch.setattr(pdf_drawing, "_plan_of", lambda svg: None)  # WeasyPrint's own
    theirs = _pdf(tmp_path, "theirs", drawing)
    assert plans and all(p is not None for p in plans)
    return ours, theirs


def test_a_chart_drawn_here_looks_as_weasyprint_draws_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, theirs = _both(tmp_path, _drawing(), monkeypatch)
    mine, reference = _page(ours), _page(theirs)
    assert mine.size == reference.size  # type: ignore[attr-defined]
    ink = sum(reference.histogram()[:200])  # type: ignore[attr-defined]
    assert ink > 2_000  # the reference has the drawing on it
    diff = ImageChops.difference(mine, reference)
    # Anti-aliased edges of letters placed a fraction of a pixel apart may differ; nothing
    # more (a line, a dot, a box or a word missing or moved would be thousands of pixels).
    differing = sum(diff.histogram()[97:])
    assert differing <= ink * 0.005, (differing, ink)
    words = subprocess.run(
        ["pdftotext", "-raw", str(ours), "-"], check=True, capture_output=True, text=True
    ).stdout.split()
    for expected in ("0%", "1,000", "middle", "50%", "A", "title"):
        assert expected in words


def test_a_drawing_with_anything_else_is_left_to_weasyprint() -> None:
    from xml.etree import ElementTree

    from weasyprint.svg import SVG

    def plan(drawing: bytes) -> object:
        return pdf_drawing._plan_of(SVG(ElementTree.fromstring(drawing), None, None))

    assert plan(_drawing()) is not None
    for extra in (
        '<circle cx="5" cy="5" r="2" fill="red"/>',
        '<path d="M 1 1 C 2 2 3 3 4 4" stroke="red"/>',
        '<path d="M 1 1 L 2 2" stroke="red" transform="rotate(45)"/>',
        '<text x="1" y="2" text-anchor="middle">x</text>',
        '<g><path d="M 1 1 L 2 2" stroke="red"/></g>',
    ):
        assert plan(_drawing(extra)) is None, extra
    # Only drawings marked as ours are drawn here (any other SVG is WeasyPrint's).
    unmarked = _drawing().replace(f' {pdf_drawing.MARK}="1"'.encode(), b"")
    assert SVG(ElementTree.fromstring(unmarked), None, None).tree.get(pdf_drawing.MARK) is None
    assert SVG(ElementTree.fromstring(_drawing()), None, None).tree.get(pdf_drawing.MARK) == "1"
