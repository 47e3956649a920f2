"""Report charts (matplotlib, rendered to SVG), in colour-blind-safe colours, each with alt text."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from flsdb.stats.funnel import funnel_limits
from flsdb.stats.inequity import Inequity
from flsdb.stats.spc import Chart

# Okabe-Ito: distinguishable with every common colour-vision deficiency.
BLUE, ORANGE, SKY, GREEN, VERMILLION, PURPLE, GREY = (
    "#0072B2",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#8C8C8C",
)
LABEL_COLOURS = {"improvement": BLUE, "concern": ORANGE, "neutral": GREY}
FLAG_COLOURS = {
    "high_99.8": BLUE,
    "high_95": SKY,
    "inside": GREY,
    "low_95": ORANGE,
    "low_99.8": VERMILLION,
}
matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",
        "font.family": "DejaVu Sans",
        "font.size": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 9,
        "axes.titleweight": "bold",
        "legend.frameon": False,
    }
)


DPI = 120
GRID_DPI = 100  # the two full-page grids in every FLS report: fewer pixels, faster PDFs


@dataclass(frozen=True)
class Graphic:
    """A chart as PNG (sharp enough in print, and quick for the PDF renderer), and its words."""

    png: bytes
    alt: str

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode()


def _render(figure: Figure, alt: str, dpi: int = DPI) -> Graphic:
    buffer = io.BytesIO()
    # Fixed margins (set by each chart) instead of tight bounding boxes: measuring every label's
    # extent doubles the time per chart, which matters across a hundred reports.
    figure.savefig(buffer, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    return Graphic(buffer.getvalue(), alt)


def _diamond(ax: Axes, x: float, y: float) -> Any:
    """The marker of the FLS a report is about."""
    return ax.scatter(
        [x],
        [y],
        s=60,
        marker="D",
        color=ORANGE,
        edgecolors="black",
        linewidths=0.8,
        zorder=5,
    )


def _funnel_axes(ax: Axes, result: Inequity, title: str) -> None:
    result_funnel = result.funnel
    proportions = result_funnel.proportion
    denominators = np.asarray(result.denominators, dtype=float)
    valid = np.isfinite(proportions) & (denominators > 0)
    if not valid.any():
        ax.set_title(title)
        ax.text(0.5, 0.5, "no data", ha="center", transform=ax.transAxes)
        return
    grid = np.linspace(
        max(1.0, denominators[valid].min() * 0.8), denominators[valid].max() * 1.05, 120
    )
    target = result_funnel.target
    for level, style in ((0.95, "--"), (0.998, ":")):
        low, high = funnel_limits(grid, target, level, result_funnel.method)
        label = "95% limits" if level == 0.95 else "99.8% limits"
        ax.plot(grid, low * 100, style, color="#444444", lw=0.8, label=label)
        ax.plot(grid, high * 100, style, color="#444444", lw=0.8)
    ax.axhline(target * 100, color="#222222", lw=0.9, label=f"England and Wales {target:.1%}")
    colours = [FLAG_COLOURS.get(f or "inside", GREY) for f in result_funnel.flags]
    ax.scatter(
        denominators[valid],
        proportions[valid] * 100,
        s=12,
        c=[c for c, v in zip(colours, valid, strict=True) if v],
        edgecolors="none",
        alpha=0.85,
    )
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.set_xlabel("patients in denominator")
    ax.set_ylabel("%")


def funnel_chart(result: Inequity, title: str) -> Graphic:
    figure = Figure(figsize=(6.2, 3.4))
    ax = figure.add_subplot()
    figure.subplots_adjust(left=0.09, right=0.72, bottom=0.14, top=0.9)
    _funnel_axes(ax, result, title)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7)
    outside = len(result.outside("high_99.8", "low_99.8"))
    alt = (
        f"Funnel plot of {result.units} FLSs for {title}: the national value is "
        f"{result.funnel.target:.1%}; {outside} FLSs lie outside the 99.8% limits."
    )
    return _render(figure, alt)


class FunnelGrid:
    """Small multiples, one funnel per KPI, drawn once; each FLS's diamonds are blitted on top.

    Only the highlighted FLS differs between the 77 FLS reports, so the grid is rendered once
    and each report redraws just its own markers over the saved background.
    """

    def __init__(self, results: dict[str, Inequity], titles: dict[str, str]) -> None:
        self.results = results
        keys = list(results)
        rows = (len(keys) + 2) // 3
        self.figure = Figure(figsize=(7.2, 1.85 * rows), dpi=GRID_DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = {}
        for i, key in enumerate(keys):
            ax = self.figure.add_subplot(rows, 3, i + 1)
            _funnel_axes(ax, results[key], titles[key])
            ax.set_xlabel("")
            ax.set_ylabel("")
            ax.title.set_fontsize(7)
            self.axes[key] = ax
        self.figure.subplots_adjust(
            left=0.06, right=0.98, bottom=0.05, top=0.96, hspace=0.55, wspace=0.28
        )
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)

    def render(self, highlight: str) -> Graphic:
        self.canvas.restore_region(self.background)
        for key, ax in self.axes.items():
            result = self.results[key]
            if highlight not in result.names:
                continue
            i = result.names.index(highlight)
            value = result.funnel.proportion[i]
            if not np.isfinite(value):
                continue
            marker = _diamond(ax, result.denominators[i], value * 100)
            ax.draw_artist(marker)
            marker.remove()
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba())
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PNG", compress_level=1)
        return Graphic(
            buffer.getvalue(),
            f"Funnel plots for {len(self.axes)} KPIs with {highlight} marked by an "
            "orange diamond among all FLSs (grey), with 95% and 99.8% limits.",
        )


def _limits_for(values: np.ndarray, chart: Chart) -> tuple[float, float]:
    shown = np.concatenate([values, chart.upper * 100, chart.lower * 100])
    shown = shown[np.isfinite(shown)]
    low, high = (float(shown.min()), float(shown.max())) if len(shown) else (0.0, 100.0)
    margin = max(2.0, (high - low) * 0.1)
    return max(0.0, low - margin), min(100.0, high + margin)


class SpcGrid:
    """Monthly p-charts, one panel per KPI, over a fixed run of months.

    The axes, ticks and lines are made once; each unit's chart only replaces the data, which
    is most of the saving when a hundred reports share the layout.
    """

    def __init__(self, titles: Sequence[str], months: Sequence[str]) -> None:
        self.months = list(months)
        self.index = {m: i for i, m in enumerate(self.months)}
        rows = (len(titles) + 1) // 2
        self.figure = Figure(figsize=(7.2, 1.5 * rows), dpi=GRID_DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        x = np.arange(len(self.months))
        ticks = x[:: max(1, len(x) // 6)]
        self.panels = {}
        for i, title in enumerate(titles):
            ax = self.figure.add_subplot(rows, 2, i + 1)
            ax.set_title(title)
            ax.set_xticks(ticks, [self.months[t] for t in ticks], fontsize=6)
            ax.set_xlim(-0.5, len(x) - 0.5)
            artists: dict[str, Any] = {
                "values": ax.plot([], [], color="#555555", lw=0.8, zorder=1)[0],
                "centre": ax.plot([], [], color="#222222", lw=0.9)[0],
                "upper": ax.plot([], [], color="#444444", lw=0.7, ls="--", drawstyle="steps-mid")[
                    0
                ],
                "lower": ax.plot([], [], color="#444444", lw=0.7, ls="--", drawstyle="steps-mid")[
                    0
                ],
                "points": ax.scatter([], [], s=16, zorder=2),
                "empty": ax.text(
                    0.5,
                    0.5,
                    "too few months with patients",
                    ha="center",
                    transform=ax.transAxes,
                    color=GREY,
                ),
            }
            self.panels[title] = (ax, artists)
        self.figure.subplots_adjust(
            left=0.06, right=0.98, bottom=0.05, top=0.95, hspace=0.6, wspace=0.18
        )

    def render(self, charts: dict[str, tuple[Sequence[str], Chart, str]], unit: str) -> Graphic:
        for title, (ax, artists) in self.panels.items():
            found = charts.get(title)
            artists["empty"].set_visible(found is None)
            if found is None:
                for name in ("values", "centre", "upper", "lower"):
                    artists[name].set_data([], [])
                artists["points"].set_offsets(np.empty((0, 2)))
                continue
            months, chart, direction = found
            x = np.array([self.index[m] for m in months], dtype=float)
            values = chart.values * 100
            artists["values"].set_data(x, values)
            artists["centre"].set_data(x, chart.centre * 100)
            artists["upper"].set_data(x, chart.upper * 100)
            artists["lower"].set_data(x, chart.lower * 100)
            artists["points"].set_offsets(np.column_stack([x, values]))
            labels = chart.labels(direction)  # type: ignore[arg-type]
            artists["points"].set_facecolors([LABEL_COLOURS[label] for label in labels])
            artists["points"].set_edgecolors("none")
            ax.set_ylim(*_limits_for(values, chart))
        return _render(
            self.figure,
            f"Monthly p-charts for {unit}, one per KPI: centre line "
            "(solid), 3-sigma limits (dashed); blue points signal "
            "improvement, orange concern, grey no signal.",
            GRID_DPI,
        )


def distribution_chart(results: dict[str, Inequity], titles: dict[str, str]) -> Graphic:
    """The spread of FLS values for each KPI: box (IQR), whiskers (10th-90th), points."""
    keys = [k for k in results if results[k].units]
    height = 0.42 * len(keys) + 0.8
    figure = Figure(figsize=(7.2, height))
    figure.subplots_adjust(left=0.42, right=0.98, bottom=0.5 / height, top=1 - 0.15 / height)
    ax = figure.add_subplot()
    for y, key in enumerate(reversed(keys)):
        values = results[key].funnel.proportion * 100
        values = values[np.isfinite(values)]
        ax.boxplot(
            [values],
            positions=[y],
            orientation="horizontal",
            widths=0.5,
            whis=(10, 90),
            showfliers=False,
            patch_artist=True,
            boxprops={"facecolor": "#DCEBF5", "edgecolor": BLUE},
            medianprops={"color": BLUE, "lw": 1.5},
        )
        jitter = np.random.default_rng(y).uniform(-0.15, 0.15, len(values))
        ax.scatter(values, y + jitter, s=5, color=GREY, alpha=0.6, zorder=3)
    ax.set_yticks(range(len(keys)), [titles[k] for k in reversed(keys)])
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of patients, one point per FLS")
    return _render(
        figure,
        "Distribution of FLS values for each KPI: boxes show the middle half "
        "of FLSs, whiskers the 10th to 90th percentile, points each FLS.",
    )


def ranked_bars(values: pd.Series, title: str, threshold: float | None = 80.0) -> Graphic:
    """Horizontal bars, best first, with the threshold drawn."""
    ordered = values.dropna().sort_values()
    height = 0.16 * len(ordered) + 0.9
    figure = Figure(figsize=(7.2, height))
    figure.subplots_adjust(left=0.1, right=0.98, bottom=0.45 / height, top=1 - 0.3 / height)
    ax = figure.add_subplot()
    colours = [BLUE if threshold is None or v >= threshold else ORANGE for v in ordered]
    ax.barh(range(len(ordered)), ordered.to_numpy(), color=colours, height=0.75)
    ax.set_yticks(range(len(ordered)), list(ordered.index), fontsize=5.5)
    if threshold is not None:
        ax.axvline(threshold, color="#222222", lw=0.8, linestyle="--")
    ax.set_title(title)
    ax.set_xlabel("%")
    below = int((ordered < threshold).sum()) if threshold is not None else 0
    return _render(
        figure,
        f"{title}: {len(ordered)} units ranked; {below} below {threshold:g}%."
        if threshold is not None
        else title,
    )


def mix_chart(mix: pd.DataFrame, groups: Sequence[str], labels: dict[str, str]) -> Graphic:
    """Stacked 100% bars of the treatment recommended, one per FLS."""
    shares = (
        mix.set_index("service_code")[list(groups)].div(
            mix.set_index("service_code")["records"].replace(0, np.nan), axis=0
        )
        * 100
    )
    shares = shares.dropna().sort_values("none", ascending=False)
    height = 0.14 * len(shares) + 1.2
    figure = Figure(figsize=(7.2, height))
    figure.subplots_adjust(left=0.1, right=0.98, bottom=0.9 / height, top=1 - 0.1 / height)
    ax = figure.add_subplot()
    left = np.zeros(len(shares))
    colours = (BLUE, SKY, GREEN, PURPLE, ORANGE, "#D9D9D9")
    for group, colour in zip(groups, colours, strict=True):
        ax.barh(
            range(len(shares)),
            shares[group].to_numpy(),
            left=left,
            color=colour,
            height=0.8,
            label=labels[group],
        )
        left += shares[group].to_numpy()
    ax.set_yticks(range(len(shares)), list(shares.index), fontsize=5)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of the FLS's patients")
    ax.legend(ncol=3, fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    return _render(
        figure,
        "Treatment recommended by each FLS as a share of its patients, "
        "ordered by the share with no drug recommended.",
    )


def grouped_bars(table: pd.DataFrame, title: str, ylabel: str = "%") -> Graphic:
    """Bars for each row (a KPI) and column (a group), e.g. KPIs by age band."""
    figure = Figure(figsize=(7.2, 2.8))
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.12, top=0.88)
    ax = figure.add_subplot()
    width = 0.8 / max(1, len(table.columns))
    colours = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, GREY)
    for i, column in enumerate(table.columns):
        ax.bar(
            np.arange(len(table)) + i * width,
            table[column].astype(float).to_numpy(),
            width=width,
            color=colours[i % len(colours)],
            label=str(column),
        )
    ax.set_xticks(
        np.arange(len(table)) + width * (len(table.columns) - 1) / 2,
        list(table.index),
        fontsize=6.5,
    )
    ax.set_ylim(0, 100)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(ncol=min(6, len(table.columns)), fontsize=6.5)
    return _render(figure, f"{title}: bars for each KPI, one per group.")
