"""Funnel plots, one per KPI, for the national report (the FLS report's grid is
`charts.funnel_grid`), written as SVG directly. Only FLSs whose values may be published are
drawn; alarm-level outliers are named."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from flsdb.reports.charts import svg
from flsdb.reports.charts.bars import PAGE
from flsdb.reports.charts.base import (
    FLAG_COLOURS,
    FLAG_WORDS,
    GREY,
    INK,
    LIMIT_INK,
    DataTable,
    Graphic,
    axis_range,
    count,
    percent,
)
from flsdb.stats.inequity import Inequity

MAX_LABELS = 10


def _points(result: Inequity) -> np.ndarray:
    """Indexes of the FLSs drawn: a denominator above 0 and a value that may be shown."""
    n = np.asarray(result.denominators, dtype=float)
    shown = np.asarray(result.shown, dtype=bool)
    return np.flatnonzero((n > 0) & shown & np.isfinite(result.funnel.proportion))


def _curve(result: Inequity, points: int = 56) -> np.ndarray:
    """The denominators the limits are drawn over: those of the published points only, so that
    the axis does not reveal the size of an FLS whose value is withheld."""
    n = np.asarray(result.denominators, dtype=float)
    shown = n[_points(result)]
    n = shown if len(shown) else n[n > 0]
    # Smooth at the page's scale with few points: every point is work for the PDF writer.
    return np.geomspace(max(1.0, n.min() * 0.8), n.max() * 1.05, points)


# The plot's box in the drawing (points): the legend stands to its right.
LEFT, TOP, RIGHT, BOTTOM = 44.0, 20.0, 340.0, 232.0
HEIGHT = 266.0
POINT_RADIUS = 2.0
INNER_DASHES, OUTER_DASHES = "3.5 1.8", "0.8 1.6"


def _drawn(result: Inequity) -> list[float]:
    """The y values a funnel draws (the national value, the limits over `_curve`, the published
    points), from which its axis is scaled: never a withheld FLS's."""
    funnel = result.funnel
    n = np.asarray(result.denominators, dtype=float)
    if not (n > 0).any():
        return []
    grid = _curve(result)
    drawn: list[float] = [funnel.target * 100]
    for level in funnel.levels:
        low, high = funnel.limits_at(grid, level)
        drawn += [float(v) for v in np.concatenate([low, high]) * 100]
    return drawn + [float(v) for v in funnel.proportion[_points(result)] * 100]


def _legend(levels: tuple[float, float], target: float) -> list[tuple[svg.Swatch, str]]:
    return [
        (svg.line_swatch(INK, 0.9), f"England and Wales {target:.1%}"),
        (svg.line_swatch(LIMIT_INK, 0.8, INNER_DASHES), f"inner limit ({levels[0]:.0%})"),
        (svg.line_swatch(LIMIT_INK, 0.8, OUTER_DASHES), f"outer limit ({levels[1]:.1%})"),
        *[(svg.dot_swatch(FLAG_COLOURS[f], 2.4), FLAG_WORDS[f]) for f in FLAG_COLOURS],
    ]


def _plot(result: Inequity, names: dict[str, str]) -> list[str]:
    """Axes, limits, the national value, the published points and the alarms' names."""
    funnel = result.funnel
    n = np.asarray(result.denominators, dtype=float)
    if not (n > 0).any():
        return [svg.text((LEFT + RIGHT) / 2, (TOP + BOTTOM) / 2, "no patients", "middle", GREY)]
    grid = _curve(result)
    low, high = axis_range(_drawn(result))
    x_ticks = svg.nice_ticks(0.0, float(grid.max()), 5)
    x = svg.scale(0.0, max(float(grid.max()), x_ticks[-1]), LEFT, RIGHT)
    y = svg.scale(low, high, BOTTOM, TOP)
    y_ticks = svg.nice_ticks(max(0.0, low), min(100.0, high), 5)
    parts = svg.axes(
        (LEFT, TOP, RIGHT, BOTTOM),
        [(y(t), svg.tick_label(t)) for t in y_ticks],
        [(x(t), svg.tick_label(t)) for t in x_ticks],
    )
    xs = [x(float(v)) for v in grid]
    for level, dashes in zip(funnel.levels, (INNER_DASHES, OUTER_DASHES), strict=True):
        lower, upper = funnel.limits_at(grid, level)
        d = svg.line(xs, [y(float(v) * 100) for v in lower], svg.CURVE_TOLERANCE)
        d += " " + svg.line(xs, [y(float(v) * 100) for v in upper], svg.CURVE_TOLERANCE)
        parts.append(svg.path(d, LIMIT_INK, 0.8, dashes))
    target = y(funnel.target * 100)
    parts.append(svg.path(f"M {LEFT:g} {target:.2f} H {RIGHT:g}", INK, 0.9))
    points = _points(result)
    for flag, colour in FLAG_COLOURS.items():
        at = [
            (x(float(n[i])), y(float(funnel.proportion[i] * 100)))
            for i in points
            if (funnel.flags[i] or "inside") == flag
        ]
        parts.append(svg.dots(at, colour, POINT_RADIUS))
    alarms = [i for i in points if str(funnel.flags[i]).endswith("alarm")][:MAX_LABELS]
    parts += _names(result, alarms, names, x, y, (low, high))
    parts.append(
        svg.label((LEFT + RIGHT) / 2, BOTTOM + 24, "patients in the denominator", "middle")
    )
    middle = (TOP + BOTTOM) / 2 + svg.text_width("% of patients") / 2
    turned = f'transform="rotate(-90 10 {middle:.2f})" x="10" y="{middle:.2f}"'
    parts.append(f"<text {turned}>% of patients</text>")
    return parts


def funnel_chart(result: Inequity, title: str, names: dict[str, str]) -> Graphic:
    """One KPI's funnel, outliers at alarm level named on the plot."""
    parts = [svg.label(2, 12, title, title=True), *_plot(result, names)]
    # The method is said once, in the caption under the chart (not beside it as well).
    legend, _ = svg.legend_rows(
        _legend(result.funnel.levels, result.funnel.target), RIGHT + 14, RIGHT + 15, TOP + 8
    )
    parts += legend
    image = svg.document(PAGE, HEIGHT, parts)
    rows = []
    for i in _points(result):
        flag = result.funnel.flags[i] or "inside"
        rows.append(
            (
                names.get(result.names[i], result.names[i]),
                count(result.funnel.proportion[i] * result.denominators[i]),
                count(result.denominators[i]),
                percent(result.funnel.proportion[i] * 100),
                FLAG_WORDS[flag],
            )
        )
    alarm_count = sum(1 for i in _points(result) if str(result.funnel.flags[i]).endswith("alarm"))
    alert_count = sum(1 for i in _points(result) if str(result.funnel.flags[i]).endswith("alert"))
    alt = (
        f"Funnel plot of {len(_points(result))} FLSs for {title}: national value "
        f"{result.funnel.target:.1%}; {alarm_count} at alarm level and {alert_count} at alert "
        "level."
    )
    table = DataTable(("FLS", "n", "N", "%", "funnel"), tuple(sorted(rows)))
    return Graphic(image, alt, table)


def _names(
    result: Inequity,
    points: list[int],
    names: dict[str, str],
    x: Callable[[float], float],
    y: Callable[[float], float],
    span: tuple[float, float],
) -> list[str]:
    """Names beside their points, spread so that no two overlap and none leaves the plot, each
    joined to its point by a thin line."""
    if not points:
        return []
    bottom, top = span
    gap = (top - bottom) * 0.075
    chosen = sorted(points, key=lambda i: result.funnel.proportion[i])
    placed: list[float] = []
    for i in chosen:
        value = min(max(float(result.funnel.proportion[i] * 100), bottom + gap / 2), top - gap)
        if placed and value - placed[-1] < gap:
            value = placed[-1] + gap
        placed.append(value)
    overflow = placed[-1] - (top - gap)
    if overflow > 0:  # pushed past the top: move the whole column down
        placed = [max(bottom + gap / 2, v - overflow) for v in placed]
    leaders: list[str] = []
    parts: list[str] = []
    for i, value in zip(chosen, placed, strict=True):
        px, py = x(float(result.denominators[i])), y(float(result.funnel.proportion[i] * 100))
        to_left = px > LEFT + (RIGHT - LEFT) * 0.6
        lx = px + (RIGHT - LEFT) * (-0.04 if to_left else 0.04)
        ly = y(value)
        leaders.append(f"M {px:.2f} {py:.2f} L {lx:.2f} {ly:.2f}")
        words = names.get(result.names[i], result.names[i])
        end = lx - 2 if to_left else lx + 2
        width = svg.text_width(words) + 3
        # On a white ground, so that a limit line behind it does not cross its letters.
        parts.append(
            svg.boxes(
                [(end - width + 1.5 if to_left else end - 1.5, ly - 6, width, 8.8)], "#FFFFFF"
            )
        )
        parts.append(svg.label(end, ly + 2.8, words, "end" if to_left else "start"))
    return [svg.path(" ".join(leaders), "#777777", 0.5), *parts]
