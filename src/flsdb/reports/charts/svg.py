"""SVG written directly for every report chart (no plotting library): a few paths (one per line
style and per colour of point or bar), no clipping, and text at the page's own size (the drawing
is as wide as its place on the page, in points). The PDF writer draws each element and lays out
each letter of an SVG text on its own, so the small multiples (SPC and funnel panels) carry only
their axis values, with their titles and legends as HTML around them."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from html import escape

from flsdb.reports.charts.base import INK, MIN_FONT
from flsdb.reports.charts.pdf_drawing import MARK

GRID_INK = "#DDDDDD"
# How far (in points on the page) a funnel's limit curve may be drawn from its computed points:
# a twentieth of a point, far finer than print or screen shows (a limit is a 0.8 pt line).
CURVE_TOLERANCE = 0.05
# Every text's look, said once for the drawing (a style attribute on each text would be parsed
# for each).
STYLE = (
    f"<style>text {{ font-family: DejaVu Sans; font-size: {MIN_FONT:g}px; fill: {INK} }}</style>"
)


def document(width: float, height: float, parts: Iterable[str]) -> bytes:
    """An SVG drawing of `width` x `height` points (its user units are points)."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}pt" height="{height:g}pt" '
        f'viewBox="0 0 {width:g} {height:g}" version="1.1" {MARK}="1">{STYLE}'
        + "".join(p for p in parts if p)
    ).encode() + b"</svg>"


def path(d: str, colour: str, width: float, dashes: str = "") -> str:
    """A stroked path (nothing when it has no segments)."""
    if not d:
        return ""
    dash = f' stroke-dasharray="{dashes}"' if dashes else ""
    return (
        f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{width:g}"{dash} '
        'stroke-linejoin="round"/>'
    )


def dots(points: Iterable[tuple[float, float]], colour: str, radius: float) -> str:
    """Filled round dots, all in one path: each a segment of no length with round ends (PDF
    draws it as a disc of the line's width), two numbers a dot."""
    d = " ".join(f"M {x:.2f} {y:.2f} h 0" for x, y in points)
    if not d:
        return ""
    return (
        f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{2 * radius:g}" '
        'stroke-linecap="round"/>'
    )


def line(xs: Sequence[float], ys: Sequence[float], tolerance: float = 0.0) -> str:
    """A line through the points (in drawing units), broken where a value is missing. With a
    `tolerance`, a smooth curve's points that lie within it of the line drawn are left out
    (every point stays within `tolerance` of the line): the PDF writer parses each point of
    every drawing of every document."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(xs, ys, strict=True):
        if math.isfinite(x) and math.isfinite(y):
            runs[-1].append((x, y))
        elif runs[-1]:
            runs.append([])
    out: list[str] = []
    for run in runs:
        kept = _simplified(run, tolerance) if tolerance > 0 else run
        out += [f"{'L' if i else 'M'} {x:.2f} {y:.2f}" for i, (x, y) in enumerate(kept)]
    return " ".join(out)


def _simplified(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """The points needed to draw a polyline within `tolerance` of every one of `points`
    (Ramer-Douglas-Peucker): the ends, and recursively the point farthest from the chord
    between them while it is farther than `tolerance`."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    spans = [(0, len(points) - 1)]
    while spans:
        first, last = spans.pop()
        (x0, y0), (x1, y1) = points[first], points[last]
        length = math.hypot(x1 - x0, y1 - y0)
        farthest, distance = first, 0.0
        for i in range(first + 1, last):
            x, y = points[i]
            off = (
                abs((x1 - x0) * (y0 - y) - (x0 - x) * (y1 - y0)) / length
                if length
                else math.hypot(x - x0, y - y0)
            )
            if off > distance:
                farthest, distance = i, off
        if distance > tolerance:
            keep[farthest] = True
            spans += [(first, farthest), (farthest, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def steps(xs: Sequence[float], ys: Sequence[float]) -> str:
    """Steps changing half way between points (a limit that differs with each point's
    patients), broken where a value is missing."""
    out: list[str] = []
    last: float | None = None

    def run_ends() -> None:
        if last is not None and not out[-1].startswith("M"):
            out.append(f"H {last:.2f}")

    for x, y in zip(xs, ys, strict=True):
        if not math.isfinite(y):
            run_ends()
            last = None
            continue
        if last is None:
            out.append(f"M {x:.2f} {y:.2f}")
        else:
            # Across to half way and up or down: the level runs on to the next step (one
            # horizontal segment, not two in line).
            out.append(f"H {(last + x) / 2:.2f} V {y:.2f}")
        last = x
    run_ends()
    return " ".join(out)


# DejaVu Sans's advance widths (units of 1/2048 em) for the printable ASCII characters, ' ' to
# '~'. The PDF writer lays out each letter of an SVG text on its own (no kerning), so a text's
# width is the sum of its letters' advances.
_ADVANCES = (
    651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690,
    1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690, 690, 1716, 1716, 1716,
    1087, 2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767,
    1532, 1612, 1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799, 690,
    799, 1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260, 721, 1300, 1298, 569, 569, 1186,
    569, 1995, 1298, 1253, 1300, 1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075,
    1303, 690, 1303, 1716,
)  # fmt: skip
_OTHER_ADVANCE = 1303  # a digit's, for any other character


BOLD_WIDER = 1.12  # DejaVu Sans Bold is about this much wider than the regular face


def text_width(words: str, size: float = MIN_FONT, bold: bool = False) -> float:
    """The width of a text drawn at `size` in DejaVu Sans (the drawings' font)."""
    units = sum(_ADVANCES[ord(c) - 32] if 32 <= ord(c) < 127 else _OTHER_ADVANCE for c in words)
    return units * size / 2048 * (BOLD_WIDER if bold else 1.0)


def text(x: float, y: float, words: str, anchor: str = "start", colour: str = INK) -> str:
    """Text at the page's smallest size (8 pt), its baseline at y; `anchor` ('start', 'middle'
    or 'end') says which of its points stands at x. The shift is worked out here, not by the
    PDF writer: it draws a text anchored otherwise than at its start as a group of its own (a
    PDF object each), which costs as much as the letters."""
    if anchor != "start":
        x -= text_width(words) / (2 if anchor == "middle" else 1)
    fill = "" if colour == INK else f' fill="{colour}"'
    return f'<text x="{x:.2f}" y="{y:.2f}"{fill}>{words}</text>'


def label(
    x: float, y: float, words: str, anchor: str = "start", colour: str = INK, title: bool = False
) -> str:
    """A text from the data (a name, a legend's words), escaped; `title` draws it at 9 pt bold.
    Placed as `text` places it."""
    size = 9.0 if title else MIN_FONT
    if anchor != "start":
        x -= text_width(words, size, title) / (2 if anchor == "middle" else 1)
    fill = "" if colour == INK else f' fill="{colour}"'
    look = ' style="font-size: 9px; font-weight: bold"' if title else ""
    return f'<text x="{x:.2f}" y="{y:.2f}"{fill}{look}>{escape(words, quote=False)}</text>'


def boxes(
    rects: Iterable[tuple[float, float, float, float]],
    fill: str,
    stroke: str = "",
    width: float = 0.5,
) -> str:
    """Filled rectangles (x, y, width, height; none of no width), all in one path."""
    d = " ".join(
        f"M {x:.2f} {y:.2f} h {w:.2f} v {h:.2f} h {-w:.2f} Z" for x, y, w, h in rects if w > 0
    )
    if not d:
        return ""
    outline = f' stroke="{stroke}" stroke-width="{width:g}"' if stroke else ""
    return f'<path d="{d}" fill="{fill}"{outline}/>'


def hatching(rects: Iterable[tuple[float, float, float, float]], gap: float = 3.0) -> str:
    """Diagonal lines (up to the right) across each rectangle, inside it, as one path's data."""
    out: list[str] = []
    for x, y, w, h in rects:
        if w <= 0:
            continue
        right, bottom = x + w, y + h
        c = x + y + gap
        while c < right + bottom:
            x0 = max(x, c - bottom)
            x1 = min(right, c - y)
            if x1 > x0:
                out.append(f"M {x0:.2f} {c - x0:.2f} L {x1:.2f} {c - x1:.2f}")
            c += gap
    return " ".join(out)


LEGEND_LINE = 12.0
# A legend's swatch: drawn into the 16 x 8 box whose top left corner is (x, y).
Swatch = Callable[[float, float], str]


def box_swatch(fill: str, stroke: str = "", hatch: bool = False) -> Swatch:
    def draw(x: float, y: float) -> str:
        rect = (x + 1, y, 14.0, 8.0)
        lines = hatching([rect], 2.5) if hatch else ""
        return boxes([rect], fill, stroke) + (path(lines, stroke or INK, 0.4) if lines else "")

    return draw


def line_swatch(colour: str, width: float, dashes: str = "") -> Swatch:
    return lambda x, y: path(f"M {x + 1:.2f} {y + 4:.2f} h 14", colour, width, dashes)


def dot_swatch(colour: str, radius: float) -> Swatch:
    return lambda x, y: dots([(x + 8, y + 4)], colour, radius)


def legend_rows(
    entries: Sequence[tuple[Swatch, str]], left: float, right: float, top: float
) -> tuple[list[str], float]:
    """A legend drawn in the chart: each entry a swatch and its words, as many on a line as
    fit between `left` and `right` (the first line's baseline at `top`); returns the parts and
    the baseline a line below the last."""
    parts: list[str] = []
    x, y = left, top
    for swatch, words in entries:
        width = 20 + text_width(words) + 10
        if x > left and x + width - 10 > right:
            x, y = left, y + LEGEND_LINE
        parts.append(swatch(x, y - 7))
        parts.append(label(x + 20, y, words))
        x += width
    return parts, y + LEGEND_LINE


def backed_text(x: float, y: float, words: str, anchor: str, colour: str) -> str:
    """Text on a white ground (a note over the plot), right-aligned at x for 'end'."""
    width = text_width(words) + 3
    left = x - width + 1.5 if anchor == "end" else x - 1.5
    return (
        f'<rect x="{left:.2f}" y="{y - MIN_FONT * 0.85:.2f}" width="{width:.2f}" '
        f'height="{MIN_FONT * 1.1:.2f}" fill="#ffffff" fill-opacity="0.9"/>'
        + text(x, y, words, anchor, colour)
    )


def nice_ticks(low: float, high: float, count: int = 3) -> list[float]:
    """About `count` round values (1, 2 or 5 times a power of ten apart) within [low, high]."""
    if not high > low:
        return [low]
    raw = (high - low) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(s * power for s in (1, 2, 2.5, 5, 10) if s * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def tick_label(value: float, suffix: str = "") -> str:
    return f"{value:,.0f}{suffix}" if float(value).is_integer() else f"{value:,.1f}{suffix}"


def axes(
    box: tuple[float, float, float, float],
    y_ticks: Sequence[tuple[float, str]],
    x_ticks: Sequence[tuple[float, str]],
    *,
    grid: bool = True,
) -> list[str]:
    """The left and bottom axes of a plot `box` (left, top, right, bottom), their tick marks,
    light grid lines across at the y ticks, and the ticks' labels (empty: a mark only)."""
    left, top, right, bottom = box
    parts = []
    if grid:
        across = " ".join(f"M {left:g} {y:.2f} H {right:g}" for y, _ in y_ticks if y < bottom - 1)
        parts.append(path(across, GRID_INK, 0.5))
    d = f"M {left:g} {top:g} V {bottom:g} H {right:g} "
    d += " ".join(f"M {left - 2.5:g} {y:.2f} h 2.5" for y, _ in y_ticks)
    d += " " + " ".join(f"M {x:.2f} {bottom:g} v 2.5" for x, _ in x_ticks)
    parts.append(path(d, INK, 0.6))
    parts += [text(left - 4, y + 2.8, words, "end") for y, words in y_ticks if words]
    parts += [text(x, bottom + 11, words, "middle") for x, words in x_ticks if words]
    return parts


def scale(low: float, high: float, start: float, end: float) -> Callable[[float], float]:
    """Values from [low, high] to drawing units from `start` to `end`."""
    span = (high - low) or 1.0
    return lambda value: start + (value - low) / span * (end - start)


def key(swatch: str, words: str) -> str:
    """One entry of a legend written in HTML: a 16 x 8 swatch drawn as in the panels, and its
    words. The swatch is hidden from screen readers in HTML; in the tagged PDF, where it is a
    figure, its title is its alternative text."""
    return (
        f'<span class="key"><svg class="swatch" width="16" height="8" viewBox="0 0 16 8" '
        f'aria-hidden="true" role="presentation"><title>key: {escape(words)}</title>{swatch}'
        f"</svg>{words}</span>"
    )


def dash(colour: str, width: float, dashes: str = "") -> str:
    """A legend's swatch of a line drawn with `path`."""
    return path("M 1 4 H 15", colour, width, dashes)
