"""What every report chart shares: colours with one meaning each, the smallest text (8 pt on the
page), the drawing as an SVG data URI (vector, its text kept as text), and the chart's data as
a table (for screen readers and reuse)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

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
# Every chart is drawn as wide as it is shown (the page's body, 184 mm, or a panel's share of
# it), in points, so a font size in a chart is its size on the page: none is below this.
MIN_FONT = 8.0


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
