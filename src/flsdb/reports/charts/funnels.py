"""Funnel plots, one per KPI, for the national report (the FLS report's grid is
`charts.funnel_grid`). Only FLSs whose values may be published are drawn; alarm-level outliers
are named."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

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
    render,
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


def _draw(ax: Axes, result: Inequity, title: str, size: float = 12) -> list[float]:
    """Limits, national value and points; returns the y values drawn (for the axis range)."""
    funnel = result.funnel
    n = np.asarray(result.denominators, dtype=float)
    ax.set_title(title)
    if not (n > 0).any():
        ax.text(0.5, 0.5, "no patients", ha="center", transform=ax.transAxes, color=GREY)
        return []
    grid = _curve(result)
    drawn: list[float] = [funnel.target * 100]
    for level, style in zip(funnel.levels, ("--", ":"), strict=True):
        low, high = funnel.limits_at(grid, level)
        ax.plot(grid, low * 100, style, color=LIMIT_INK, lw=0.8, clip_on=False)
        ax.plot(grid, high * 100, style, color=LIMIT_INK, lw=0.8, clip_on=False)
        drawn += [float(v) for v in np.concatenate([low, high]) * 100]
    ax.axhline(funnel.target * 100, color=INK, lw=0.9, clip_on=False)
    points = _points(result)
    colours = [FLAG_COLOURS.get(funnel.flags[i] or "inside", GREY) for i in points]
    values = funnel.proportion[points] * 100
    # Many points as one small picture inside the vector chart (axes, lines and text stay
    # vectors): a drawing of a thousand markers costs the PDF writer seconds per report.
    ax.scatter(
        n[points], values, s=size, c=colours, edgecolors="none", alpha=0.9, zorder=3,
        rasterized=len(points) > 30, clip_on=False,
    )  # fmt: skip
    # Nothing is clipped (each clipped artist costs the PDF writer a clipping group): the axes
    # are scaled to hold the limits and the points.
    # The axis is scaled from the published points (and the limits), never from hidden ones.
    return drawn + [float(v) for v in values]


def _legend_handles(levels: tuple[float, float], target: float) -> list[Line2D]:
    def dot(colour: str, label: str) -> Line2D:
        return Line2D([], [], marker="o", ls="", color=colour, markersize=5, label=label)

    return [
        Line2D([], [], color=INK, lw=0.9, label=f"England and Wales {target:.1%}"),
        Line2D([], [], color=LIMIT_INK, ls="--", lw=0.8, label=f"inner limit ({levels[0]:.0%})"),
        Line2D([], [], color=LIMIT_INK, ls=":", lw=0.8, label=f"outer limit ({levels[1]:.1%})"),
        *[dot(FLAG_COLOURS[f], FLAG_WORDS[f]) for f in FLAG_COLOURS],
    ]


def funnel_chart(result: Inequity, title: str, names: dict[str, str]) -> Graphic:
    """One KPI's funnel, outliers at alarm level named on the plot."""
    figure = Figure(figsize=(7.2, 3.7))
    ax = figure.add_subplot()
    figure.subplots_adjust(left=0.08, right=0.655, bottom=0.125, top=0.91)
    drawn = _draw(ax, result, title)
    ax.set_ylim(*axis_range(drawn))
    ax.set_xlabel("patients in the denominator")
    ax.set_ylabel("% of patients")
    ax.legend(
        handles=_legend_handles(result.funnel.levels, result.funnel.target),
        loc="upper left",
        bbox_to_anchor=(1.01, 1.02),
        fontsize=8,
        handletextpad=0.4,
        borderaxespad=0.0,
    )
    # The method is said once, in the caption under the chart (not beside it as well).
    alarms = [i for i in _points(result) if str(result.funnel.flags[i]).endswith("alarm")]
    _label(ax, result, alarms[:MAX_LABELS], names)
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
    return render(figure, alt, table)


def _label(ax: Axes, result: Inequity, points: list[int], names: dict[str, str]) -> None:
    """Names beside their points, spread so that no two overlap and none leaves the plot."""
    if not points:
        return
    bottom, top = ax.get_ylim()
    left, right = ax.get_xlim()
    gap = (top - bottom) * 0.075
    chosen = sorted(points, key=lambda i: result.funnel.proportion[i])
    wanted = [float(result.funnel.proportion[i] * 100) for i in chosen]
    placed: list[float] = []
    for y in wanted:
        y = min(max(y, bottom + gap / 2), top - gap)
        if placed and y - placed[-1] < gap:
            y = placed[-1] + gap
        placed.append(y)
    overflow = placed[-1] - (top - gap)
    if overflow > 0:  # pushed past the top: move the whole column down
        placed = [max(bottom + gap / 2, y - overflow) for y in placed]
    for i, y in zip(chosen, placed, strict=True):
        x = float(result.denominators[i])
        to_left = x > left + (right - left) * 0.6
        ax.annotate(
            names.get(result.names[i], result.names[i]),
            (x, float(result.funnel.proportion[i] * 100)),
            xytext=(x + (right - left) * (-0.04 if to_left else 0.04), y),
            textcoords="data",
            ha="right" if to_left else "left",
            va="center",
            fontsize=8,
            color=INK,
            arrowprops={"arrowstyle": "-", "color": "#777777", "lw": 0.5},
            annotation_clip=False,
        )
