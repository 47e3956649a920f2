"""What every report chart shares: colours with one meaning each, the SVG rendering (vector
drawings whose text stays text, at least 8 pt on the page), and the chart's data as a table
(for screen readers and reuse)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

from flsdb.figures import (
    FLAG_WORDS as FLAG_WORDS,  # the funnels' flags in words, shared with the web
)

# Okabe-Ito: distinguishable with every common colour-vision deficiency. Each colour has one
# meaning across the reports: blue better / improvement, orange worse / concern, grey neither,
# yellow (only ever) the FLS a report is about, green the target line.
BLUE, ORANGE, SKY, GREEN, VERMILLION, PURPLE, GREY, YELLOW = (
    "#0072B2",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#8C8C8C",
    "#F0E442",
)
INK = "#222222"
LIMIT_INK = "#444444"
LABEL_COLOURS = {"improvement": BLUE, "concern": ORANGE, "neutral": GREY}
FLAG_COLOURS = {
    "high_alarm": BLUE,
    "high_alert": SKY,
    "inside": GREY,
    "low_alert": ORANGE,
    "low_alarm": VERMILLION,
}
matplotlib.rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "font.size": 8,
        "axes.labelsize": 8,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "legend.fontsize": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 9,
        # Text stays text in the SVG (the PDF's own font, selectable, read aloud), and the
        # files are the same from run to run.
        "svg.fonttype": "none",
        "svg.hashsalt": "flsdb",
        "svg.image_inline": True,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "legend.frameon": False,
    }
)
# Every chart is drawn 7.2 inches wide and shown at the page's width (184 mm, 7.24 inches), so a
# font size in a chart is (within 1%) its size on the page: none is below this.
MIN_FONT = 8.0
# The resolution of the parts of a chart drawn as a picture inside its SVG (dense point clouds).
RASTER_DPI = 220


@dataclass(frozen=True)
class DataTable:
    """The numbers a chart draws, as rows of text."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Graphic:
    """A chart as an SVG drawing (and, for a grid shared by many reports, a transparent SVG
    laid over it with what is one report's own), its words and its data."""

    image: bytes
    alt: str
    table: DataTable | None = field(default=None)
    overlay: bytes | None = field(default=None)

    @property
    def data_uri(self) -> str:
        return svg_uri(self.image)

    @property
    def overlay_uri(self) -> str:
        return "" if self.overlay is None else svg_uri(self.overlay)


def svg_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def svg_bytes(figure: Figure, transparent: bool = False) -> bytes:
    """A figure as SVG, without the metadata that changes from run to run."""
    buffer = io.BytesIO()
    # Fixed margins (set by each chart) instead of tight bounding boxes, so that a grid and the
    # overlay drawn for it line up exactly.
    figure.savefig(
        buffer, format="svg", metadata={"Date": None}, transparent=transparent, dpi=RASTER_DPI
    )
    return flatten(buffer.getvalue())


SVG = "{http://www.w3.org/2000/svg}"


def flatten(svg: bytes) -> bytes:
    """The drawing without what costs the PDF writer and draws nothing: matplotlib wraps every
    artist in a group that only names it (half the elements of a chart) and adds metadata."""
    from xml.etree import ElementTree

    ElementTree.register_namespace("", SVG[1:-1])
    ElementTree.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    root = ElementTree.fromstring(svg)

    def unwrap(parent: ElementTree.Element) -> None:
        children: list[ElementTree.Element] = []
        for child in parent:
            unwrap(child)
            if child.tag == f"{SVG}metadata":
                continue
            if child.tag == f"{SVG}g" and set(child.attrib) <= {"id"}:
                children.extend(child)
            else:
                children.append(child)
        parent[:] = children

    unwrap(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def render(figure: Figure, alt: str, table: DataTable | None = None) -> Graphic:
    return Graphic(svg_bytes(figure), alt, table)


def percent(value: float | None, digits: int = 1) -> str:
    """A percentage as printed; none (or not a number: a run chart has no limits) is blank."""
    if value is None or value != value:
        return ""
    return f"{value:.{digits}f}%"


def count(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    number = float(str(value))
    if number != number:  # NaN: nothing to count
        return "–"
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.1f}"


def axis_range(values: list[float], low: float = 0.0, high: float = 100.0) -> tuple[float, float]:
    """A y-range around the values shown (with a margin), within [low, high] and a little
    beyond, so that a point at 0% or 100% is drawn whole."""
    finite = [v for v in values if v == v]  # NaN is not equal to itself
    if not finite:
        return low - 3, high + 3
    bottom, top = min(finite), max(finite)
    margin = max(2.0, (top - bottom) * 0.08)
    return max(low - 3, bottom - margin), min(high + 3, top + margin)
