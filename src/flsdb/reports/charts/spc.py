"""Monthly SPC charts as NHS England's Making Data Count draws them: points coloured by what they
signal, centre and process limits, the target, the baseline shaded, and the variation and
assurance icons.

Each panel is written here as SVG directly (no plotting library): a few paths (one per line and
per colour of point), no clipping, and text only for the axis values. The titles, icons and
legend are HTML around the drawings (the report's templates), where the PDF writer lays out a
line of text at once instead of each letter of an SVG text on its own."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from markupsafe import Markup

from flsdb.dates import point_label, uk_month
from flsdb.figures.spc import SpcPanel
from flsdb.reports.charts import svg
from flsdb.reports.charts.base import (
    BLUE,
    GREEN,
    GREY,
    INK,
    LABEL_COLOURS,
    LIMIT_INK,
    ORANGE,
    PURPLE,
    DataTable,
    percent,
    svg_uri,
)
from flsdb.stats.spc import Variation

ICON_COLOURS = {"improvement": BLUE, "concern": ORANGE, "neither": PURPLE, "common": GREY}
ASSURANCE_ICONS = {"pass": ("P", BLUE), "fail": ("F", ORANGE), "hit_and_miss": ("?", GREY)}
VARIATION_WORDS = {
    "common": "common cause variation only",
    "improvement_high": "special cause: improvement (high)",
    "improvement_low": "special cause: improvement (low)",
    "concern_high": "special cause: concern (high)",
    "concern_low": "special cause: concern (low)",
    "neither_high": "special cause (high)",
    "neither_low": "special cause (low)",
}
ASSURANCE_WORDS = {
    "pass": "the target is consistently met",
    "fail": "the target is consistently missed: the process must change to meet it",
    "hit_and_miss": "the target will be met in some months and missed in others",
}
BASELINE_FILL = "#EEEEEE"
COLUMNS = ("KPI", "month", "n", "N", "%", "mean", "lower limit", "upper limit", "signal")
# A panel's drawing in points: as wide as half the page's body (184 mm) less the gap between the
# two columns, so that its text is drawn at its own size (8 pt) on the page.
WIDTH = 255.0
PLOT_HEIGHT = 66.0
LEFT, RIGHT, TOP, BOTTOM = 27.0, 5.0, 5.0, 4.0
MONTH_ROOM = 12.0  # below the lowest panels, for the months' names
POINT_RADIUS = 1.9
LIMIT_DASHES, TARGET_DASHES = "2.6 1.1", "4 2"


def variation_symbol(variation: Variation) -> tuple[str, str]:
    """The icon's letter and colour: H or L for special cause, ~ for common cause."""
    if variation == "common":
        return "~", ICON_COLOURS["common"]
    kind, side = variation.split("_")
    return ("H" if side == "high" else "L"), ICON_COLOURS[kind]


@dataclass(frozen=True)
class SpcPanelDrawing:
    """One KPI's panel as the report shows it: its title, icons (inline SVG, as in the table),
    the drawing (None: too few months for a chart) and its words for a screen reader."""

    title: str
    svg: bytes | None
    alt: str
    icons: str = ""
    table: DataTable | None = None  # the panel's own numbers (each chart's data beside it)

    @property
    def data_uri(self) -> str:
        return "" if self.svg is None else svg_uri(self.svg)


@dataclass(frozen=True)
class SpcGraphic:
    """A unit's SPC grid: its panels in order, its words and its data."""

    panels: tuple[SpcPanelDrawing, ...]
    alt: str
    table: DataTable
    overlay: None = None
    kinds: frozenset[str] = frozenset({"month"})  # 'month', 'quarter', 'run': what is drawn

    @property
    def legend(self) -> Markup:
        """The key to what the panels draw: mean, limits and baseline only where a chart has
        them; the median where a panel is a run chart."""
        return legend(self.kinds)

    @property
    def image(self) -> bytes:
        """Every panel's drawing, one after the other (what differs from unit to unit)."""
        return b"".join(p.svg or p.title.encode() for p in self.panels)


class SpcGrid:
    """Monthly charts, one panel per KPI, over a fixed run of months (the x-axis, its ticks and
    their names laid out once); each unit's panels are written as SVG from its figures."""

    def __init__(self, titles: Sequence[str], months: Sequence[str]) -> None:
        self.titles = list(titles)
        self.months = list(months)
        self.index = {m: i for i, m in enumerate(self.months)}
        count = max(1, len(self.months))
        self.ticks = list(range(0, count, max(1, count // 4)))
        self.plot_width = WIDTH - LEFT - RIGHT

    def x(self, position: float) -> float:
        """Where a month (its index, or between two) is drawn across the plot."""
        return LEFT + (position + 0.5) / max(1, len(self.months)) * self.plot_width

    def render(
        self, panels: dict[str, SpcPanel], unit: str, kinds: dict[str, str] | None = None
    ) -> SpcGraphic:
        """The unit's panels (`kinds`: 'month', 'quarter' or 'run' by title, for their words)."""
        drawings = []
        rows: list[tuple[str, ...]] = []
        for i, title in enumerate(self.titles):
            found = panels.get(title)
            lowest = i + 2 >= len(self.titles)
            if found is None:
                drawings.append(
                    SpcPanelDrawing(title, None, f"{title}: too few months with patients.")
                )
                continue
            kind = (kinds or {}).get(title, "month")
            own = _rows(title, found, kind)
            drawings.append(
                SpcPanelDrawing(
                    title,
                    self.panel_svg(found, lowest, kind),
                    _alt(title, found, kind),
                    _icons(found) if kind != "run" or any(found.chart.signals) else "",
                    DataTable(COLUMNS, tuple(own)),
                )
            )
            rows += own
        drawn = frozenset((kinds or {}).get(t, "month") for t in panels)
        limits = drawn - {"run"}
        what = (
            "mean (solid), process limits (dashed), target (green)"
            if limits
            else "the median of the quarters (solid), target (green)"
        )
        if limits and "run" in drawn:
            what += "; run charts of quarters: their median (solid), no limits"
        return SpcGraphic(
            tuple(drawings),
            f"SPC charts for {unit}, one per KPI: {what}; blue points signal improvement, "
            "orange concern, grey common cause; the icons give the variation and assurance of "
            "the latest point.",
            DataTable(COLUMNS, tuple(rows)),
            kinds=drawn or frozenset({"month"}),
        )

    def panel_svg(self, panel: SpcPanel, lowest: bool, kind: str = "month") -> bytes:
        """One panel: the baseline shaded, grid lines at the axis values, the axes and their
        ticks, the target, the values, mean and limits, and the points by colour."""
        chart = panel.chart
        low, high = span(panel)
        bottom = TOP + PLOT_HEIGHT
        y = svg.scale(low, high, bottom, TOP)
        xs = [self.x(self.index[m]) for m in panel.months]
        parts = []
        # A run chart has no baseline: its median is of every quarter shown.
        base = list(panel.months)[chart.baseline] if kind != "run" else []
        if base:
            left = self.x(self.index[base[0]] - 0.5)
            right = self.x(self.index[base[-1]] + 0.5)
            parts.append(
                f'<rect x="{left:.2f}" y="{TOP:g}" width="{right - left:.2f}" '
                f'height="{PLOT_HEIGHT:g}" fill="{BASELINE_FILL}"/>'
            )
        ticks = [low, (low + high) / 2, high]
        parts += svg.axes(
            (LEFT, TOP, WIDTH - RIGHT, bottom),
            [(y(t), f"{t:g}%") for t in ticks],
            [(self.x(t), uk_month(self.months[t]) if lowest else "") for t in self.ticks],
        )
        note = ""
        if panel.target is not None and low <= panel.target <= high:
            ends = f"M {self.x(self.index[panel.months[0]] - 0.5):.2f} {y(panel.target):.2f} "
            ends += f"H {self.x(self.index[panel.months[-1]] + 0.5):.2f}"
            parts.append(svg.path(ends, GREEN, 0.9, TARGET_DASHES))
        elif panel.target is not None:
            where = "above" if panel.target > high else "below"
            note = f"target {panel.target:g}%, {where} the scale"
        values = [float(v) * 100 for v in chart.values]
        parts.append(svg.path(svg.line(xs, [y(v) for v in values]), "#777777", 0.7))
        # The centre line is level between changes: its points in line are left out.
        centre = svg.line(xs, [y(float(v) * 100) for v in chart.centre], svg.CURVE_TOLERANCE)
        parts.append(svg.path(centre, INK, 0.9))
        for limit in (chart.upper, chart.lower):
            drawn = [y(float(v) * 100) for v in limit]
            parts.append(svg.path(svg.steps(xs, drawn), LIMIT_INK, 0.7, LIMIT_DASHES))
        labels = chart.labels(panel.direction)  # type: ignore[arg-type]
        for label, colour in LABEL_COLOURS.items():
            at = [
                (x, y(v))
                for x, v, kind in zip(xs, values, labels, strict=True)
                if kind == label and math.isfinite(v)
            ]
            parts.append(svg.dots(at, colour, POINT_RADIUS))
        if note:
            parts.append(svg.backed_text(WIDTH - RIGHT - 1, TOP + 8, note, "end", GREEN))
        height = bottom + BOTTOM + (MONTH_ROOM if lowest else 0)
        return svg.document(WIDTH, height, parts)


def span(panel: SpcPanel | None) -> tuple[float, float]:
    """A round y-range (multiples of 20 percent) holding a panel's points and limits."""
    if panel is None:
        return (0.0, 100.0)
    chart = panel.chart
    # The target is left out: a target far from the data would squash the chart; it is noted.
    shown = [*(chart.values * 100), *(chart.upper * 100), *(chart.lower * 100)]
    finite = [v for v in shown if np.isfinite(v)]
    if not finite:
        return (0.0, 100.0)
    low = max(0.0, np.floor((min(finite) - 1) / 20) * 20)
    high = min(100.0, np.ceil((max(finite) + 1) / 20) * 20)
    return (float(low), float(max(high, low + 20)))


def _icons(panel: SpcPanel) -> Markup:
    letter, colour = variation_symbol(panel.variation)
    icons = icon(letter, colour)
    assurance = ASSURANCE_ICONS.get(panel.assurance or "")
    if assurance is not None:
        icons += icon(*assurance)
    return icons


def _alt(title: str, panel: SpcPanel, kind: str) -> str:
    chart = panel.chart
    words = {"month": "by month", "quarter": "by quarter", "run": "a run chart of quarters"}
    signals = sum(1 for s in chart.signals if s)
    last = float(chart.values[-1])
    latest = percent(last * 100) if math.isfinite(last) else "withheld"
    return (
        f"{title}, {words.get(kind, 'by month')}: latest {latest} "
        f"({uk_month(panel.months[-1])}), {'median' if kind == 'run' else 'mean'} "
        f"{percent(chart.centre[-1] * 100)}; {VARIATION_WORDS[panel.variation]}"
        + (f"; {ASSURANCE_WORDS[panel.assurance]}" if panel.assurance else "")
        + f"; {signals} point{'s' if signals != 1 else ''} with a signal."
    )


def _rows(title: str, panel: SpcPanel, kind: str = "month") -> list[tuple[str, ...]]:
    """The panel's data table: a row per point, its month (or quarter) in words."""
    chart = panel.chart
    out: list[tuple[str, ...]] = []
    for i, iso in enumerate(panel.months):
        month = point_label(str(iso), kind)  # 'quarter' and 'run' points are quarters
        mark = panel.marks[i] if i < len(panel.marks) else None
        if mark is not None:  # withheld (`reports.spc_counts`): its markers, nothing derived
            counts = tuple(v if isinstance(v, str) else f"{float(v):.0f}" for v in mark)  # type: ignore[arg-type]
            centre = percent(chart.centre[i] * 100)
            out.append((title, month, *counts, "withheld", centre, "", "", ""))
            continue
        out.append(
            (
                title,
                month,
                f"{panel.numerators[i]:.0f}",
                f"{panel.denominators[i]:.0f}",
                percent(chart.values[i] * 100),
                percent(chart.centre[i] * 100),
                percent(chart.lower[i] * 100),
                percent(chart.upper[i] * 100),
                ", ".join(chart.signals[i]),
            )
        )
    return out


# Each icon colour's class in the reports' stylesheet (style.css sets its letter and ring to
# that colour). A class, not a style attribute: the PDF writer parses every style attribute of
# every document anew and cannot share the computed style of elements that carry one (about
# 1,500 calls an icon; an FLS report has 40 icons).
ICON_CLASSES = {BLUE: "icon-blue", ORANGE: "icon-orange", PURPLE: "icon-purple", GREY: "icon-grey"}


def icon(letter: str, colour: str) -> Markup:
    """A Making Data Count style icon: a ringed circle with a letter in `colour` (one of the
    icon colours), drawn by the HTML's own styles (an inline SVG is a drawing of its own for
    the PDF writer, its letter laid out apart)."""
    return Markup(f'<span class="icon {ICON_CLASSES[colour]}">{letter}</span>')


# What the panels' lines, points and shading mean: HTML above them (a line of text is laid out
# at once; in the drawing each letter would be), with the panels' own strokes as its swatches.
_POINTS = [
    svg.key(f'<circle cx="8" cy="4" r="{POINT_RADIUS}" fill="{c}"/>', words)
    for c, words in ((BLUE, "improvement"), (ORANGE, "concern"), (GREY, "common cause"))
]
_LIMITS = [
    svg.key(svg.dash(INK, 0.9), "mean"),
    svg.key(svg.dash(LIMIT_INK, 0.7, LIMIT_DASHES), "process limits"),
]
_TARGET = svg.key(svg.dash(GREEN, 0.9, TARGET_DASHES), "target")
_BASELINE = svg.key(f'<rect x="1" y="0" width="14" height="8" fill="{BASELINE_FILL}"/>', "baseline")
_MEDIAN = svg.key(svg.dash(INK, 0.9), "median (run charts)")


def legend(kinds: frozenset[str]) -> Markup:
    """The key for the kinds of chart drawn: a run chart has a median and no mean, limits or
    baseline."""
    limits = bool(kinds - {"run"})
    keys = [*_POINTS]
    if limits:
        keys += [*_LIMITS, _TARGET, _BASELINE]
    else:
        keys += [_TARGET]
    if "run" in kinds:
        keys.append(_MEDIAN if limits else svg.key(svg.dash(INK, 0.9), "median"))
    return Markup(" ".join(keys))


LEGEND = legend(frozenset({"month"}))
