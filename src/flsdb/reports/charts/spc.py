"""Monthly SPC charts as NHS England's Making Data Count draws them: points coloured by what they
signal, centre and process limits, the target, the baseline shaded, and the variation and
assurance icons (drawn here) in each panel's corner."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
from markupsafe import Markup
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from flsdb.figures.spc import SpcPanel
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
    Graphic,
    percent,
    svg_bytes,
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


def variation_symbol(variation: Variation) -> tuple[str, str]:
    """The icon's letter and colour: H or L for special cause, ~ for common cause."""
    if variation == "common":
        return "~", ICON_COLOURS["common"]
    kind, side = variation.split("_")
    return ("H" if side == "high" else "L"), ICON_COLOURS[kind]


class SpcGrid:
    """Monthly charts, one panel per KPI, over a fixed run of months.

    Axes, ticks, titles and the legend are laid out once; each unit's chart sets its own lines,
    points and icons (hiding what it does not have) and is written as SVG.
    """

    def __init__(self, titles: Sequence[str], months: Sequence[str]) -> None:
        self.months = list(months)
        self.index = {m: i for i, m in enumerate(self.months)}
        rows = (len(titles) + 1) // 2
        height = 1.6 * rows + 0.75
        self.figure = Figure(figsize=(7.2, height))
        x = np.arange(len(self.months))
        ticks = x[:: max(1, len(x) // 4)]
        self.panels = {}
        for i, title in enumerate(titles):
            ax = self.figure.add_subplot(rows, 2, i + 1)
            # Wrapped clear of the two icons at the panel's top right.
            ax.set_title(textwrap.fill(title, 34), fontsize=8.5)
            ax.set_xticks(ticks, [self.months[t] for t in ticks], fontsize=8)
            ax.tick_params(axis="y", labelsize=8, pad=1.5)
            # Every panel has the same months: they are named under the lowest panel of each
            # column only (a third of the grid's text, each letter work for the PDF writer).
            ax.tick_params(axis="x", pad=1.5, labelbottom=i + 2 >= len(titles))
            ax.set_xlim(-0.5, len(x) - 0.5)
            ax.set_ylabel("%", fontsize=8, labelpad=1)
            # Nothing is clipped: the y-range holds every point and limit (see `_span`) and the
            # target is drawn only inside it, and each clipped artist costs the PDF writer a
            # clipping group (a point each for the scatter).
            line: dict[str, Any] = {"clip_on": False}
            artists: dict[str, Any] = {
                "baseline": ax.axvspan(-0.5, -0.5, color="#EEEEEE", zorder=0, **line),
                "values": ax.plot([], [], color="#777777", lw=0.7, zorder=1, **line)[0],
                "centre": ax.plot([], [], color=INK, lw=0.9, **line)[0],
                "upper": ax.plot(
                    [], [], color=LIMIT_INK, lw=0.7, ls="--", drawstyle="steps-mid", **line
                )[0],
                "lower": ax.plot(
                    [], [], color=LIMIT_INK, lw=0.7, ls="--", drawstyle="steps-mid", **line
                )[0],
                "target": ax.plot([], [], color=GREEN, lw=0.9, ls=(0, (4, 2)), **line)[0],
                "points": ax.scatter([], [], s=12, zorder=2, **line),
                "empty": ax.text(
                    0.5, 0.5, "too few months with patients", ha="center",
                    transform=ax.transAxes, color=GREY, fontsize=8,
                ),
                "target_note": ax.text(
                    0.99, 0.96, "", ha="right", va="top", transform=ax.transAxes,
                    color=GREEN, fontsize=8, zorder=8,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9, "pad": 1},
                ),
            }  # fmt: skip
            for slot, x_pos in (("variation", 0.86), ("assurance", 0.97)):
                artists[f"{slot}_circle"] = ax.scatter(
                    [x_pos], [1.15], s=110, transform=ax.transAxes, clip_on=False,
                    facecolors="white", edgecolors=GREY, linewidths=1.4, zorder=6,
                )  # fmt: skip
                artists[f"{slot}_text"] = ax.text(
                    x_pos, 1.15, "", transform=ax.transAxes, ha="center", va="center",
                    fontsize=8, fontweight="bold", zorder=7, clip_on=False,
                )  # fmt: skip
            self.panels[title] = (ax, artists)
        self.figure.legend(
            handles=[
                Line2D([], [], marker="o", ls="", color=BLUE, markersize=4, label="improvement"),
                Line2D([], [], marker="o", ls="", color=ORANGE, markersize=4, label="concern"),
                Line2D([], [], marker="o", ls="", color=GREY, markersize=4, label="common cause"),
                Line2D([], [], color=INK, lw=0.9, label="mean"),
                Line2D([], [], color=LIMIT_INK, ls="--", lw=0.7, label="process limits"),
                Line2D([], [], color=GREEN, ls=(0, (4, 2)), lw=0.9, label="target"),
                Patch(color="#EEEEEE", label="baseline months"),
            ],
            loc="upper center",
            ncol=4,
            fontsize=8,
            columnspacing=1.2,
            handletextpad=0.4,
            borderaxespad=0.1,
        )
        self.figure.subplots_adjust(
            left=0.07, right=0.98, bottom=0.3 / height, top=1 - 0.8 / height, hspace=1.0,
            wspace=0.2,
        )  # fmt: skip

    def render(self, panels: dict[str, SpcPanel], unit: str) -> Graphic:
        rows: list[tuple[str, ...]] = []
        for title, (ax, artists) in self.panels.items():
            for artist in artists.values():
                artist.set_visible(False)
            ax.set_ylim(*_span(panels.get(title)))
            found = panels.get(title)
            if found is None:
                artists["empty"].set_visible(True)
                continue
            self._draw_panel(ax, artists, found)
            rows += _rows(title, found)
        return Graphic(
            svg_bytes(self.figure),
            f"Monthly SPC charts for {unit}, one per KPI: mean (solid), process limits (dashed), "
            "target (green); blue points signal improvement, orange concern, grey common cause; "
            "the icons give the variation and assurance of the latest month.",
            DataTable(
                ("KPI", "month", "n", "N", "%", "mean", "lower limit", "upper limit", "signal"),
                tuple(rows),
            ),
        )

    def _draw_panel(self, ax: Any, artists: dict[str, Any], panel: SpcPanel) -> None:
        chart = panel.chart
        x = np.array([self.index[m] for m in panel.months], dtype=float)
        values = chart.values * 100
        base = x[chart.baseline]
        span = artists["baseline"]
        if len(base):
            span.set_x(base[0] - 0.5)
            span.set_width(base[-1] - base[0] + 1)
            span.set_visible(True)
        artists["values"].set_data(x, values)
        artists["centre"].set_data(x, chart.centre * 100)
        artists["upper"].set_data(x, chart.upper * 100)
        artists["lower"].set_data(x, chart.lower * 100)
        low, high = ax.get_ylim()
        off_scale = panel.target is not None and not low <= panel.target <= high
        if panel.target is not None and not off_scale:
            artists["target"].set_data([x[0] - 0.5, x[-1] + 0.5], [panel.target] * 2)
        else:
            artists["target"].set_data([], [])
        artists["points"].set_offsets(np.column_stack([x, values]))
        labels = chart.labels(panel.direction)  # type: ignore[arg-type]
        artists["points"].set_facecolors([LABEL_COLOURS[label] for label in labels])
        artists["points"].set_edgecolors("none")
        letter, colour = variation_symbol(panel.variation)
        artists["variation_circle"].set_edgecolors(colour)
        artists["variation_text"].set_text(letter)
        artists["variation_text"].set_color(colour)
        assurance = ASSURANCE_ICONS.get(panel.assurance or "")
        names = ["values", "centre", "upper", "lower", "target", "points"]
        names += ["variation_circle", "variation_text"]
        if off_scale:
            arrow = "above" if (panel.target or 0) > high else "below"
            artists["target_note"].set_text(f"target {panel.target:g}%, {arrow} the scale")
            names.append("target_note")
        if assurance is not None:
            artists["assurance_circle"].set_edgecolors(assurance[1])
            artists["assurance_text"].set_text(assurance[0])
            artists["assurance_text"].set_color(assurance[1])
            names += ["assurance_circle", "assurance_text"]
        for name in names:
            artists[name].set_visible(True)


def _span(panel: SpcPanel | None) -> tuple[float, float]:
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


def _rows(title: str, panel: SpcPanel) -> list[tuple[str, ...]]:
    chart = panel.chart
    out: list[tuple[str, ...]] = []
    for i, month in enumerate(panel.months):
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


def icon_svg(letter: str, colour: str, size: int = 14) -> Markup:
    """A Making Data Count style icon for tables: a ringed circle with a letter (inline SVG)."""
    half = size / 2
    return Markup(
        f'<svg class="icon" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="{letter}"><circle cx="{half}" cy="{half}" r="{half - 1.2}" '
        f'fill="white" stroke="{colour}" stroke-width="1.6"/><text x="{half}" y="{half + 3.2}" '
        f'text-anchor="middle" font-size="{size * 0.62:.1f}" font-weight="bold" '
        f'fill="{colour}" font-family="DejaVu Sans">{letter}</text></svg>'
    )
