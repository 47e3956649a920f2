"""The FLS report's funnel grid: one small funnel per KPI with the FLS marked, written as SVG
directly. Each panel's drawing of the limits, the national value and the other FLSs' published
points is made once and shared by every FLS report; the FLS's yellow diamond is added to its own
copy. Titles and the legend are HTML around the panels (see `charts.svg`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from markupsafe import Markup

from flsdb.reports.charts import svg
from flsdb.reports.charts.base import (
    FLAG_COLOURS,
    FLAG_WORDS,
    INK,
    LIMIT_INK,
    YELLOW,
    DataTable,
    axis_range,
    count,
    percent,
    svg_uri,
)
from flsdb.reports.charts.funnels import _curve, _points
from flsdb.stats.inequity import Inequity

# Three panels across the page's body (184 mm, 521.6 pt) with two gaps of 2%.
WIDTH = 170.0
PLOT_HEIGHT = 62.0
LEFT, RIGHT, TOP, BOTTOM = 29.0, 13.0, 5.0, 16.0
POINT_RADIUS = 1.3
DIAMOND = float(np.sqrt(42) * np.sqrt(2) / 2)  # half the diagonal of a 42 pt^2 diamond
INNER_DASHES, OUTER_DASHES = "3 1.6", "0.8 1.3"


@dataclass(frozen=True)
class FunnelPanel:
    """One KPI's funnel as an FLS report shows it: title, drawing (with the FLS marked), words."""

    title: str
    svg: bytes
    alt: str
    table: DataTable | None = None  # the FLS's own row (each chart's data beside it)

    @property
    def data_uri(self) -> str:
        return svg_uri(self.svg)


@dataclass(frozen=True)
class FunnelGraphic:
    panels: tuple[FunnelPanel, ...]
    alt: str
    table: DataTable
    legend: Markup
    overlay: None = None

    @property
    def image(self) -> bytes:
        return b"".join(p.svg for p in self.panels)


@dataclass(frozen=True)
class Axes:
    """Where a panel draws a denominator (x, on a log scale from 1 patient: a small FLS's
    point stands clear of the axis however large the largest FLS) and a percentage (y)."""

    x_max: float
    y_low: float
    y_high: float

    def x(self, n: float) -> float:
        log = np.log10(max(float(n), 1.0))
        return svg.scale(0.0, float(np.log10(self.x_max)), LEFT, WIDTH - RIGHT)(log)

    def y(self, value: float) -> float:
        return svg.scale(self.y_low, self.y_high, TOP + PLOT_HEIGHT, TOP)(value)


def log_ticks(high: float) -> list[float]:
    """The powers of ten from 1 to `high`: 1, 10, 100, 1,000."""
    return [10.0**p for p in range(int(np.floor(np.log10(max(high, 1.0)) + 1e-9)) + 1)]


class FunnelGrid:
    """Small multiples, one funnel per KPI: each panel's shared drawing made once; `render`
    adds an FLS's diamonds and its table."""

    def __init__(self, results: dict[str, Inequity], titles: dict[str, str]) -> None:
        self.results = results
        self.titles = {key: titles[key] for key in results}
        self.axes: dict[str, Axes] = {}
        self.background: dict[str, str] = {}
        for key, result in results.items():
            self.axes[key], self.background[key] = _panel(result)
        first = next(iter(results.values())).funnel
        self.legend = legend(first.levels)

    def render(
        self, highlight: str, label: str, withheld: frozenset[str] = frozenset()
    ) -> FunnelGraphic:
        """The grid with `highlight` marked. A KPI in `withheld` (its England and Wales value
        is not shown beside this FLS's own) gets no drawing: the centre line and the limits
        around it would show the value the report withholds."""
        panels: list[FunnelPanel] = []
        rows: list[tuple[str, ...]] = []
        columns = ("KPI", "n", "N", "%", "inner; outer limits at N", "funnel")
        for key, result in self.results.items():
            before = len(rows)
            title, axes = self.titles[key], self.axes[key]
            if key in withheld:
                middle = TOP + PLOT_HEIGHT / 2
                note = "England and Wales value withheld: no funnel drawn"
                rows.append((title, "", "", "", "", note))
                drawing = svg.document(
                    WIDTH,
                    TOP + PLOT_HEIGHT + BOTTOM,
                    [
                        svg.text(WIDTH / 2, middle - 5, "England and Wales", "middle"),
                        svg.text(WIDTH / 2, middle + 5, "value withheld", "middle"),
                    ],
                )
                panels.append(
                    FunnelPanel(
                        title,
                        drawing,
                        f"{title}: {note}, as it would show counts withheld in this report.",
                        DataTable(columns, tuple(rows[before:])),
                    )
                )
                continue
            mark = ""
            words = f"{title}: funnel plot of the FLSs whose values are published."
            if highlight in result.names:
                i = result.names.index(highlight)
                value, n = result.funnel.proportion[i], result.denominators[i]
                if np.isfinite(value):
                    x, y = axes.x(float(n)), axes.y(float(value) * 100)
                    mark = (
                        f'<path d="M {x:.3f} {y - DIAMOND:.3f} L {x + DIAMOND:.3f} {y:.3f} '
                        f'L {x:.3f} {y + DIAMOND:.3f} L {x - DIAMOND:.3f} {y:.3f} Z" '
                        f'fill="{YELLOW.lower()}" stroke="#000000" stroke-width="0.8"/>'
                    )
                    flag = FLAG_WORDS[result.funnel.flags[i] or "inside"]
                    words = f"{title}: {label} {percent(value * 100)} of {count(n)}, {flag}."
                    inner = result.funnel.limits_at([n], result.funnel.levels[0])
                    outer = result.funnel.limits_at([n], result.funnel.levels[1])
                    rows.append(
                        (
                            title,
                            count(value * n),
                            count(n),
                            percent(value * 100),
                            f"{inner[0][0]:.1%} to {inner[1][0]:.1%}; {outer[0][0]:.1%} to "
                            f"{outer[1][0]:.1%}",
                            flag,
                        )
                    )
                else:
                    rows.append((title, "0", "0", "", "", "no patients"))
            drawing = svg.document(WIDTH, TOP + PLOT_HEIGHT + BOTTOM, [self.background[key], mark])
            panels.append(
                FunnelPanel(title, drawing, words, DataTable(columns, tuple(rows[before:])))
            )
        return FunnelGraphic(
            tuple(panels),
            f"Funnel plots for {len(panels)} KPIs with {label} marked by a yellow diamond "
            "among the other FLSs, with the inner and outer limits.",
            DataTable(columns, tuple(rows)),
            self.legend,
        )


def _panel(result: Inequity) -> tuple[Axes, str]:
    """A panel's axes and its shared drawing: limits, national value, published points, axes."""
    funnel = result.funnel
    n = np.asarray(result.denominators, dtype=float)
    if not (n > 0).any():
        axes = Axes(1.0, 0.0, 100.0)
        return axes, svg.text(WIDTH / 2, TOP + PLOT_HEIGHT / 2, "no patients", "middle")
    grid = _curve(result, 28)  # smooth at a third of the page's width
    curves = [funnel.limits_at(grid, level) for level in funnel.levels]
    points = _points(result)
    values = funnel.proportion[points] * 100
    drawn = [funnel.target * 100, *(float(v) for c in curves for v in np.concatenate(c) * 100)]
    low, high = axis_range(drawn + [float(v) for v in values])
    x_max = max(float(grid.max()) * 1.15, 10.0)
    x_ticks = log_ticks(x_max)
    axes = Axes(x_max, low, high)
    y_ticks = svg.nice_ticks(max(0.0, low), min(100.0, high), 3)
    parts = svg.axes(
        (LEFT, TOP, WIDTH - RIGHT, TOP + PLOT_HEIGHT),
        [(axes.y(t), svg.tick_label(t, "%")) for t in y_ticks],
        [(axes.x(t), svg.tick_label(t)) for t in x_ticks],
    )
    xs = [axes.x(float(v)) for v in grid]
    for (lower, upper), dashes in zip(curves, (INNER_DASHES, OUTER_DASHES), strict=True):
        d = svg.line(xs, [axes.y(float(v) * 100) for v in lower], svg.CURVE_TOLERANCE)
        d += " " + svg.line(xs, [axes.y(float(v) * 100) for v in upper], svg.CURVE_TOLERANCE)
        parts.append(svg.path(d, LIMIT_INK, 0.8, dashes))
    target = axes.y(funnel.target * 100)
    parts.append(svg.path(f"M {LEFT:g} {target:.2f} H {WIDTH - RIGHT:g}", INK, 0.9))
    flags = [funnel.flags[i] or "inside" for i in points]
    for flag, colour in FLAG_COLOURS.items():
        at = [
            (axes.x(float(n[i])), axes.y(float(v)))
            for i, v, f in zip(points, values, flags, strict=True)
            if f == flag
        ]
        parts.append(svg.dots(at, colour, POINT_RADIUS))
    return axes, "".join(p for p in parts if p)


def legend(levels: tuple[float, float]) -> Markup:
    """What the panels' lines and points mean, as HTML with the panels' own strokes."""
    dot = '<circle cx="8" cy="4" r="2.2" fill="{}"/>'
    return Markup(
        " ".join(
            [
                svg.key(svg.dash(INK, 0.9), "England and Wales value"),
                svg.key(
                    svg.dash(LIMIT_INK, 0.8, INNER_DASHES),
                    f"inner limit ({levels[0]:.0%})",
                ),
                svg.key(
                    svg.dash(LIMIT_INK, 0.8, OUTER_DASHES),
                    f"outer limit ({levels[1]:.1%})",
                ),
                *(svg.key(dot.format(c), FLAG_WORDS[f]) for f, c in FLAG_COLOURS.items()),
                svg.key(
                    f'<path d="M 8 0.5 L 11.5 4 L 8 7.5 L 4.5 4 Z" fill="{YELLOW.lower()}" '
                    'stroke="#000000" stroke-width="0.8"/>',
                    "this FLS",
                ),
            ]
        )
    )
