"""What every report chart shares: colours with one meaning each, the SVG rendering (vector
drawings whose text stays text, at least 8 pt on the page), and the chart's data as a table
(for screen readers and reuse)."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

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
XLINK = "{http://www.w3.org/1999/xlink}"
_NO_TURN = re.compile(r"rotate\(-?0 [-\d.e]+ [-\d.e]+\)")
_PATH_TOKEN = re.compile(r"[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def flatten(svg: bytes) -> bytes:
    """The drawing without what costs the PDF writer and draws nothing new: matplotlib wraps
    every artist in a group that only names it (half the elements of a chart) and adds
    metadata; and it draws every marker (a tick, a point) as its own copy of a shape, which
    the PDF writer draws as a group of its own. Copies side by side with the same look become
    one path of many shapes (a funnel grid's 100 ticks and points, an SPC grid's 300)."""
    ElementTree.register_namespace("", SVG[1:-1])
    ElementTree.register_namespace("xlink", XLINK[1:-1])
    root = ElementTree.fromstring(svg)
    shapes = {e.get("id"): e for e in root.iter(f"{SVG}path") if e.get("id")}

    def unwrap(parent: ElementTree.Element) -> None:
        children: list[ElementTree.Element] = []
        for child in parent:
            unwrap(child)
            if child.tag == f"{SVG}metadata":
                continue
            if _NO_TURN.fullmatch(child.get("transform", "")):  # a tick label's rotate(-0 x y)
                del child.attrib["transform"]
            if child.tag == f"{SVG}g" and set(child.attrib) <= {"id"}:
                children.extend(child)
            else:
                children.append(child)
        parent[:] = children

    unwrap(root)
    # Once every naming group is gone, so that a tick's mark and the next tick's are siblings.
    for element in list(root.iter()):
        if len(element):
            element[:] = _merge_copies(list(element), shapes)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _style(text: str | None) -> dict[str, str]:
    pairs = (item.split(":", 1) for item in (text or "").split(";") if ":" in item)
    return {k.strip(): v.strip() for k, v in pairs}


def _moved(d: str, dx: float, dy: float) -> str | None:
    """A path's data moved by (dx, dy); None for data this cannot move (relative commands)."""
    out: list[str] = []
    axis = 0
    for token in _PATH_TOKEN.findall(d):
        if token.isalpha():
            if token not in "MLCQZz":
                return None
            out.append(token)
            axis = 0
            continue
        out.append(f"{float(token) + (dy if axis else dx):.3f}")
        axis ^= 1
    return " ".join(out)


def _merge_copies(children: list[Any], shapes: dict[str | None, Any]) -> list[Any]:
    """Runs of <use> copies of one shape with one look, as single paths, each where the first
    copy of its look was (so a letter drawn on a marker stays on top of it)."""
    merged: list[Any] = []
    run: dict[tuple[str, str], tuple[Any, list[str]]] = {}

    def close_run() -> None:
        for path, parts in run.values():
            path.set("d", " ".join(parts))
        run.clear()

    for child in children:
        shape = None
        if child.tag == f"{SVG}use" and set(child.attrib) <= {f"{XLINK}href", "x", "y", "style"}:
            shape = shapes.get(child.get(f"{XLINK}href", "").lstrip("#"))
        moved = None
        if shape is not None and set(shape.attrib) <= {"id", "d", "style"}:
            x, y = float(child.get("x", 0)), float(child.get("y", 0))
            moved = _moved(shape.get("d", ""), x, y)
        if moved is None or shape is None:
            # Text between copies (tick labels between tick marks) does not end a run: it is
            # drawn after the copies before it, as it was, and after the ones that follow it.
            if child.tag != f"{SVG}text":
                close_run()
            merged.append(child)
            continue
        # The shape's own style wins over what it inherits from the copy.
        look = {**_style(child.get("style")), **_style(shape.get("style"))}
        style = "; ".join(f"{k}: {v}" for k, v in look.items())
        key = (shape.get("d", ""), style)
        if key not in run:
            path = ElementTree.Element(f"{SVG}path", {"d": "", "style": style})
            merged.append(path)
            run[key] = (path, [])
        run[key][1].append(moved)
    close_run()
    return merged


def render(figure: Figure, alt: str, table: DataTable | None = None) -> Graphic:
    return Graphic(svg_bytes(figure), alt, table)


def percent(value: float | None, digits: int = 1) -> str:
    """A percentage as printed; none (or not a number: a run chart has no limits) is blank."""
    if value is None or value != value:
        return ""
    return f"{value:.{digits}f}%"


def count(value: object) -> str:
    """A count to print: '1,352'; a count worked out as a share times its denominator
    (118.99999999999999) is the whole number it is, never '119.0'."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    number = float(str(value))
    if number != number:  # NaN: nothing to count
        return "–"
    if abs(number - round(number)) < 1e-6:
        return f"{round(number):,d}"
    return f"{number:,.1f}"


def axis_range(values: list[float], low: float = 0.0, high: float = 100.0) -> tuple[float, float]:
    """A y-range around the values shown (with a margin), within [low, high] and a little
    beyond, so that a point at 0% or 100% is drawn whole."""
    finite = [v for v in values if v == v]  # NaN is not equal to itself
    if not finite:
        return low - 3, high + 3
    bottom, top = min(finite), max(finite)
    margin = max(2.0, (top - bottom) * 0.08)
    return max(low - 3, bottom - margin), min(high + 3, top + margin)
