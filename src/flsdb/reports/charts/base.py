"""What every report chart shares: colours with one meaning each, the PNG rendering, and the
chart's data as a table (for screen readers and reuse)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

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
FLAG_WORDS = {
    "high_alarm": "alarm: above the outer limit",
    "high_alert": "alert: above the inner limit",
    "inside": "inside the limits",
    "low_alert": "alert: below the inner limit",
    "low_alarm": "alarm: below the outer limit",
}
matplotlib.rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "font.size": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 9,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "legend.frameon": False,
    }
)
DPI = 120
GRID_DPI = 100  # the two full-page grids in every FLS report: fewer pixels, faster PDFs


@dataclass(frozen=True)
class DataTable:
    """The numbers a chart draws, as rows of text."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


# JPEG at high quality without chroma subsampling: crisp enough for line art in print, and the
# PDF renderer passes JPEG through where it would decode and re-compress a PNG (a tenth of a
# second per page of chart, across a hundred reports).
JPEG = {"quality": 90, "subsampling": 0}


@dataclass(frozen=True)
class Graphic:
    """A chart as an image, its words and its data."""

    image: bytes
    alt: str
    table: DataTable | None = field(default=None)

    @property
    def data_uri(self) -> str:
        return "data:image/jpeg;base64," + base64.b64encode(self.image).decode()


def render(figure: Figure, alt: str, table: DataTable | None = None, dpi: int = DPI) -> Graphic:
    buffer = io.BytesIO()
    # Fixed margins (set by each chart) instead of tight bounding boxes: measuring every label's
    # extent doubles the time per chart, which matters across a hundred reports.
    figure.savefig(buffer, format="jpeg", dpi=dpi, pil_kwargs=JPEG)
    return Graphic(buffer.getvalue(), alt, table)


def canvas_image(canvas: FigureCanvasAgg) -> bytes:
    """What an Agg canvas holds now, as the reports' image format."""
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", **JPEG)
    return buffer.getvalue()


def percent(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}%"


def count(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    number = float(str(value))
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
