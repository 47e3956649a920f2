"""Bar charts and the spread of FLS values: identification by region, breakdowns, headline KPIs
by FLS, the treatment mix, and box plots. A value withheld for disclosure control is not drawn."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from flsdb.reports.charts.base import (
    BLUE,
    GREEN,
    GREY,
    INK,
    ORANGE,
    PURPLE,
    SKY,
    VERMILLION,
    DataTable,
    Graphic,
    percent,
    render,
)
from flsdb.stats.inequity import Inequity

SERIES = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, GREY)
CHAR_INCHES = 0.064  # the width of a character of 8 pt DejaVu Sans, about


def figure_title(figure: Figure, title: str, height: float) -> None:
    """A chart's title from the figure's left edge (not the axes', which a long label margin
    pushes right), so that it is never cut."""
    figure.text(0.01, 1 - 0.08 / height, title, ha="left", va="top", fontsize=9,
                fontweight="bold")  # fmt: skip


def label_margin(labels: list[str], most: float = 0.6) -> float:
    """The share of a 7.2-inch chart its longest axis label needs on the left, so that no name
    is cut."""
    longest = max((max(len(p) for p in str(t).split("\n")) for t in labels), default=0)
    return min(most, (longest * CHAR_INCHES + 0.25) / 7.2)


MIX_COLOURS = (PURPLE, BLUE, SKY, GREEN, ORANGE, "#A6A6A6", "#E6E6E6")
WITHHELD_TEXT = "withheld (small numbers)"


def paired_bars(
    table: pd.DataFrame, title: str, threshold: float | None, counts: pd.DataFrame
) -> Graphic:
    """Horizontal bars for each row (e.g. a region) and column (e.g. spine, non-spine), ordered
    by the first column; `counts` gives the n / N text of each cell for the data table."""
    ordered = table.sort_values(table.columns[0], na_position="first")
    height = 0.19 * len(ordered) + 1.35
    figure = Figure(figsize=(7.2, height))
    left = label_margin([str(u) for u in ordered.index])
    figure.subplots_adjust(left=left, right=0.97, bottom=0.95 / height, top=1 - 0.3 / height)
    ax = figure.add_subplot()
    y = np.arange(len(ordered))
    width = 0.8 / len(table.columns)
    for i, column in enumerate(table.columns):
        values = ordered[column].astype(float).to_numpy()
        ax.barh(y + (i - (len(table.columns) - 1) / 2) * width, np.nan_to_num(values),
                height=width, color=SERIES[i], label=str(column))  # fmt: skip
    # A row with every value withheld says so once (two labels a bar apart would overlap); a
    # single withheld bar says 'withheld' beside it.
    missing = ordered.astype(float).isna().to_numpy()
    for j, row in enumerate(missing):
        if row.all():
            ax.text(1, y[j], WITHHELD_TEXT, va="center", fontsize=8, color=GREY)
            continue
        for k in np.flatnonzero(row):
            ax.text(1, y[j] + (int(k) - (len(table.columns) - 1) / 2) * width, "withheld",
                    va="center", fontsize=8, color=GREY)  # fmt: skip
    ax.set_yticks(y, list(ordered.index), fontsize=8)
    ax.set_ylim(-0.6, len(ordered) - 0.4)
    if threshold is not None:
        ax.axvline(threshold, color=INK, lw=0.8, linestyle="--", label=f"target {threshold:g}%")
    ax.set_xlabel("% of the expected caseload")
    figure_title(figure, title, height)
    figure.legend(
        *ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, 0.01),
        ncol=3, fontsize=8,
    )  # fmt: skip
    rows = tuple(
        (str(unit), *(str(counts.loc[unit, c]) for c in table.columns)) for unit in table.index
    )
    below = int((table.iloc[:, 0] < threshold).sum()) if threshold is not None else 0
    alt = f"{title}: {len(table)} rows ranked" + (
        f"; {below} below {threshold:g}% for {table.columns[0]}." if threshold is not None else "."
    )
    return render(figure, alt, DataTable(("", *map(str, table.columns)), rows))


def grouped_bars(
    table: pd.DataFrame,
    title: str,
    cells: pd.DataFrame | None = None,
    ylabel: str = "% of patients",
    names: dict[str, str] | None = None,
) -> Graphic:
    """Bars for each row (a KPI, named on the axis) and column (a group), e.g. KPIs by age band;
    `cells` gives the text of each value for the data table (n / N and interval); `names` the
    words beside each row's code. The legend names every group, in as many lines as it needs."""
    groups = [str(c) for c in table.columns]
    widest = max((len(g) for g in groups), default=0)
    per_line = 4 if widest <= 16 else 2 if widest <= 44 else 1
    legend_lines = -(-len(groups) // per_line)
    keys = [str(k) for k in table.index]
    labels = [textwrap.fill(f"{k} {names[k]}" if names and k in names else k, 34) for k in keys]
    slot = max(0.34, 0.075 * len(groups) + 0.12)
    bottom = 0.45 + 0.19 * legend_lines + 0.25
    height = slot * len(keys) + bottom + 0.35
    figure = Figure(figsize=(7.2, height))
    figure.subplots_adjust(
        left=label_margin(labels), right=0.97, bottom=bottom / height, top=1 - 0.35 / height
    )
    ax = figure.add_subplot()
    width = 0.8 / max(1, len(groups))
    y = np.arange(len(keys))[::-1].astype(float)
    for i, column in enumerate(table.columns):
        values = table[column].astype(float).to_numpy()
        offset = (i - (len(groups) - 1) / 2) * width
        ax.barh(y - offset, np.nan_to_num(values), height=width, color=SERIES[i % len(SERIES)],
                label=str(column))  # fmt: skip
        for j in np.flatnonzero(np.isnan(values)):
            ax.text(1, y[j] - offset, "–", va="center", fontsize=8, color=GREY)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_ylim(-0.6, len(keys) - 0.4)
    ax.set_xlim(0, 100)
    ax.set_xlabel(ylabel)
    figure_title(figure, title, height)
    figure.legend(
        *ax.get_legend_handles_labels(), ncol=per_line, fontsize=8, loc="lower left",
        bbox_to_anchor=(0.02, 0.3 / height), handletextpad=0.4, columnspacing=1.2,
        borderaxespad=0.0,
    )  # fmt: skip
    figure.text(0.98, 0.05 / height, "– : withheld (small numbers) or no patients", ha="right",
                fontsize=8, color=GREY)  # fmt: skip
    source = cells if cells is not None else table.map(lambda v: percent(None if pd.isna(v) else v))
    rows = tuple((str(k), *(str(v) for v in source.loc[k])) for k in table.index)
    return render(
        figure,
        f"{title}: bars for each KPI, one per group.",
        DataTable(("", *map(str, table.columns)), rows),
    )


def mix_chart(
    shares: pd.DataFrame, labels: dict[str, str], title: str, withheld: pd.Series
) -> Graphic:
    """Stacked 100% bars of the treatment recommended, one per FLS (rows: FLS labels; columns:
    groups, percent); `withheld` is each FLS's share hidden for disclosure control."""
    # The legend in two columns (the clinical decision's label is long: three would not fit
    # across), as many lines as its entries need.
    legend_lines = -(-(len(shares.columns) + 1) // 2)
    room = 0.55 + 0.19 * legend_lines
    height = 0.165 * len(shares) + room + 0.4
    figure = Figure(figsize=(7.2, height))
    margin = label_margin([str(u) for u in shares.index])
    figure.subplots_adjust(left=margin, right=0.97, bottom=room / height, top=1 - 0.3 / height)
    ax = figure.add_subplot()
    y = np.arange(len(shares))[::-1]
    left = np.zeros(len(shares))
    for group, colour in zip(shares.columns, MIX_COLOURS, strict=False):
        values = np.nan_to_num(shares[group].astype(float).to_numpy())
        ax.barh(y, values, left=left, color=colour, height=0.78, label=labels[group])
        left += values
    hidden = withheld.astype(float).to_numpy()
    if (hidden > 0).any():
        ax.barh(y, hidden, left=left, color="white", edgecolor=GREY, hatch="////", lw=0.3,
                height=0.78, label=WITHHELD_TEXT)  # fmt: skip
    ax.set_yticks(y, list(shares.index), fontsize=8)
    ax.set_ylim(-0.6, len(shares) - 0.4)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of the FLS's patients")
    figure_title(figure, title, height)
    figure.legend(
        *ax.get_legend_handles_labels(), ncol=2, fontsize=8, loc="lower center",
        bbox_to_anchor=(0.5, 0.02 / height), handletextpad=0.4, columnspacing=1.0,
    )  # fmt: skip
    rows = tuple(
        (
            str(unit),
            *(percent(None if pd.isna(v) else float(v)) for v in shares.loc[unit]),
        )
        for unit in shares.index
    )
    return render(
        figure,
        f"{title}: the treatment recommended as a share of each FLS's patients.",
        DataTable(("FLS", *(labels[g] for g in shares.columns)), rows),
    )


def distribution_chart(
    results: dict[str, Inequity], titles: dict[str, str], nationals: dict[str, float]
) -> Graphic:
    """The spread of FLS values for each KPI: box (IQR), whiskers (10th-90th), points."""
    keys = [k for k in results if results[k].units]
    height = 0.32 * len(keys) + 1.3
    figure = Figure(figsize=(7.2, height))
    figure.subplots_adjust(left=0.45, right=0.98, bottom=0.45 / height, top=1 - 0.8 / height)
    ax = figure.add_subplot()
    rows = []
    for y, key in enumerate(reversed(keys)):
        result = results[key]
        values = result.funnel.proportion * 100
        values = values[np.isfinite(values) & np.asarray(result.shown, dtype=bool)]
        ax.boxplot(
            [values], positions=[y], orientation="horizontal", widths=0.5, whis=(10, 90),
            showfliers=False, patch_artist=True,
            boxprops={"facecolor": "#DCEBF5", "edgecolor": BLUE},
            medianprops={"color": BLUE, "lw": 1.5},
        )  # fmt: skip
        jitter = np.random.default_rng(y).uniform(-0.15, 0.15, len(values))
        ax.scatter(values, y + jitter, s=6, color=GREY, alpha=0.6, zorder=3)
        ax.plot([nationals[key]] * 2, [y - 0.32, y + 0.32], color=INK, lw=1.4, zorder=4)
        rows.append(
            (titles[key], str(result.units), percent(result.median), percent(result.q1),
             percent(result.q3), percent(result.p10), percent(result.p90))
        )  # fmt: skip
    ax.set_yticks(range(len(keys)), [titles[k] for k in reversed(keys)])
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of patients, one point per FLS")
    ax.legend(
        handles=[
            Patch(facecolor="#DCEBF5", edgecolor=BLUE, label="middle half of FLSs"),
            Line2D([], [], color=BLUE, lw=1.5, label="median FLS"),
            Line2D([], [], color="black", lw=0.8, label="10th to 90th percentile"),
            Line2D([], [], marker="o", ls="", color=GREY, markersize=3, label="one FLS"),
            Line2D([], [], color=INK, lw=1.4, label="England and Wales"),
        ],
        loc="lower center", bbox_to_anchor=(0.5, 1 - 0.75 / height), ncol=3, fontsize=8,
        bbox_transform=figure.transFigure, handletextpad=0.4, columnspacing=1.2,
    )  # fmt: skip
    return render(
        figure,
        "Spread of FLS values for each KPI: boxes show the middle half of FLSs, whiskers the "
        "10th to 90th percentile, points each FLS, the dark bar the England and Wales value.",
        DataTable(("KPI", "FLSs", "median", "25th", "75th", "10th", "90th"), tuple(rows)),
    )
