"""Bar charts, written as SVG directly: identification by region, headline KPIs by group (the
breakdowns, a region's FLSs) and the treatment mix. A value withheld for disclosure control is
not drawn. Each chart is as wide as the page's body, in points, so its text is 8 pt on paper."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence

import pandas as pd

from flsdb.reports.charts import svg
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
)

SERIES = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, GREY)
MIX_COLOURS = (PURPLE, BLUE, SKY, GREEN, ORANGE, "#A6A6A6", "#E6E6E6")
WITHHELD_TEXT = "withheld (small numbers)"
# The page's body (184 mm) in points: every chart is drawn at the size it is shown.
PAGE = 521.6
LINE = 9.5  # between the lines of a wrapped axis label
TOP = 20.0  # below the title
AXIS_ROOM = 30.0  # under the plot: tick labels and the axis's words

Bars = Callable[[Callable[[float], float], list[float], float], list[str]]


def bar_chart(
    title: str,
    labels: Sequence[str],
    slot: float,
    bars: Bars,
    legend: Sequence[tuple[svg.Swatch, str]],
    x_label: str,
    note: str = "",
) -> bytes:
    """Horizontal bars, one row of height `slot` (points) a label (first at the top), on a
    0-100 axis: `bars(x, centres, slot)` draws them (x: a percentage to points; centres: each
    row's middle); the legend and a note at the bottom."""
    lines = [label.split("\n") for label in labels]
    widest = max((svg.text_width(part) for parts in lines for part in parts), default=0.0)
    left = min(0.6 * PAGE, max(60.0, widest + 10))
    right = PAGE - 12
    bottom = TOP + 3 + slot * len(labels) + 3
    x = svg.scale(0.0, 100.0, left, right)
    centres = [TOP + 3 + slot * (i + 0.5) for i in range(len(labels))]
    ticks = [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    parts = [svg.label(2, 12, title, title=True)]
    parts.append(
        svg.path(
            " ".join(f"M {x(t):.2f} {TOP:g} V {bottom:.2f}" for t in ticks[1:]), "#DDDDDD", 0.5
        )
    )
    parts += bars(x, centres, slot)
    parts += svg.axes(
        (left, TOP, right, bottom), [], [(x(t), svg.tick_label(t)) for t in ticks], grid=False
    )
    for parts_of, centre in zip(lines, centres, strict=True):
        first = centre + 2.8 - (len(parts_of) - 1) * LINE / 2
        parts += [
            svg.label(left - 4, first + k * LINE, part, "end") for k, part in enumerate(parts_of)
        ]
    parts.append(svg.label((left + right) / 2, bottom + 24, x_label, "middle"))
    # Under the plot; from the chart's left edge when an entry is wider than the plot.
    widest_entry = max((svg.text_width(words) + 30 for _, words in legend), default=0.0)
    start = left if widest_entry <= right - left else 8.0
    drawn, below = svg.legend_rows(legend, start, right, bottom + 40)
    parts += drawn
    if note:
        parts.append(svg.label(PAGE - 2, below, note, "end", GREY))
        below += svg.LEGEND_LINE
    return svg.document(PAGE, below - 4, parts)


def _withheld(x: float, y: float, words: str) -> str:
    return svg.label(x, y + 2.8, words, colour=GREY)


def paired_bars(
    table: pd.DataFrame, title: str, threshold: float | None, counts: pd.DataFrame
) -> Graphic:
    """Horizontal bars for each row (e.g. a region) and column (e.g. spine, non-spine), ordered
    by the first column (highest at the top, withheld last); `counts` gives the n / N text of
    each cell for the data table."""
    ordered = table.sort_values(table.columns[0], ascending=False, na_position="last")
    columns = list(table.columns)
    width = 0.8 / len(columns)

    def bars(x: Callable[[float], float], centres: list[float], slot: float) -> list[str]:
        out: list[str] = []
        offsets = [(i - (len(columns) - 1) / 2) * width * slot for i in range(len(columns))]
        for i, column in enumerate(columns):
            values = ordered[column].astype(float).tolist()
            rects = [
                (x(0), c + offsets[i] - width * slot / 2, x(v) - x(0), width * slot)
                for v, c in zip(values, centres, strict=True)
                if not math.isnan(v)
            ]
            out.append(svg.boxes(rects, SERIES[i]))
        # A row with every value withheld says so once; a single withheld bar says 'withheld'.
        for j, (_, row) in enumerate(ordered.astype(float).iterrows()):
            missing = [k for k, v in enumerate(row) if math.isnan(v)]
            if len(missing) == len(columns):
                out.append(_withheld(x(1), centres[j], WITHHELD_TEXT))
                continue
            out += [_withheld(x(1), centres[j] + offsets[k], "withheld") for k in missing]
        if threshold is not None:
            line = f"M {x(threshold):.2f} {TOP:g} V {centres[-1] + slot / 2 + 3:.2f}"
            out.append(svg.path(line, INK, 0.8, "4 2"))
        return out

    legend = [(svg.box_swatch(SERIES[i]), str(c)) for i, c in enumerate(columns)]
    if threshold is not None:
        legend.append((svg.line_swatch(INK, 0.8, "4 2"), f"target {threshold:g}%"))
    image = bar_chart(
        title,
        [str(u) for u in ordered.index],
        13.7,
        bars,
        legend,
        "% of the expected caseload",
    )
    rows = tuple(
        (str(unit), *(str(counts.loc[unit, c]) for c in table.columns)) for unit in table.index
    )
    below = int((table.iloc[:, 0] < threshold).sum()) if threshold is not None else 0
    alt = f"{title}: {len(table)} rows ranked" + (
        f"; {below} below {threshold:g}% for {table.columns[0]}." if threshold is not None else "."
    )
    return Graphic(image, alt, DataTable(("", *map(str, table.columns)), rows))


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
    keys = [str(k) for k in table.index]
    labels = [textwrap.fill(f"{k} {names[k]}" if names and k in names else k, 34) for k in keys]
    slot = max(24.5, 5.4 * len(groups) + 8.6, LINE * max(s.count("\n") + 1 for s in labels) + 4)
    width = 0.8 / max(1, len(groups))
    values = table.astype(float)

    def bars(x: Callable[[float], float], centres: list[float], slot: float) -> list[str]:
        out: list[str] = []
        for i, column in enumerate(table.columns):
            offset = (i - (len(groups) - 1) / 2) * width * slot
            rects = []
            for v, c in zip(values[column].tolist(), centres, strict=True):
                if math.isnan(v):
                    out.append(_withheld(x(1), c + offset, "–"))
                else:
                    rects.append((x(0), c + offset - width * slot / 2, x(v) - x(0), width * slot))
            out.insert(0, svg.boxes(rects, SERIES[i % len(SERIES)]))
        return out

    legend = [(svg.box_swatch(SERIES[i % len(SERIES)]), g) for i, g in enumerate(groups)]
    image = bar_chart(
        title, labels, slot, bars, legend, ylabel, "– : withheld (small numbers) or no patients"
    )
    source = cells if cells is not None else table.map(lambda v: percent(None if pd.isna(v) else v))
    rows = tuple((str(k), *(str(v) for v in source.loc[k])) for k in table.index)
    return Graphic(
        image,
        f"{title}: bars for each KPI, one per group.",
        DataTable(("", *map(str, table.columns)), rows),
    )


def mix_chart(
    shares: pd.DataFrame, labels: dict[str, str], title: str, withheld: pd.Series
) -> Graphic:
    """Stacked 100% bars of the treatment recommended, one per FLS (rows: FLS labels; columns:
    groups, percent); `withheld` is each FLS's share hidden for disclosure control."""
    values = shares.astype(float).fillna(0.0)
    hidden = withheld.astype(float).tolist()

    def bars(x: Callable[[float], float], centres: list[float], slot: float) -> list[str]:
        out: list[str] = []
        height = 0.78 * slot
        left = [0.0] * len(centres)
        for group, colour in zip(shares.columns, MIX_COLOURS, strict=False):
            rects = []
            for j, v in enumerate(values[group].tolist()):
                rects.append(
                    (x(left[j]), centres[j] - height / 2, x(left[j] + v) - x(left[j]), height)
                )
                left[j] += v
            out.append(svg.boxes(rects, colour))
        if any(h > 0 for h in hidden):
            rects = [
                (x(left[j]), centres[j] - height / 2, x(left[j] + h) - x(left[j]), height)
                for j, h in enumerate(hidden)
                if h > 0
            ]
            out.append(svg.boxes(rects, "#FFFFFF", GREY, 0.3))
            out.append(svg.path(svg.hatching(rects), GREY, 0.3))
        return out

    legend = [
        (svg.box_swatch(colour), labels[group])
        for group, colour in zip(shares.columns, MIX_COLOURS, strict=False)
    ]
    if any(h > 0 for h in hidden):
        legend.append((svg.box_swatch("#FFFFFF", GREY, hatch=True), WITHHELD_TEXT))
    image = bar_chart(
        title, [str(u) for u in shares.index], 11.9, bars, legend, "% of the FLS's patients"
    )
    rows = tuple(
        (
            str(unit),
            *(percent(None if pd.isna(v) else float(v)) for v in shares.loc[unit]),
        )
        for unit in shares.index
    )
    return Graphic(
        image,
        f"{title}: the treatment recommended as a share of each FLS's patients.",
        DataTable(("FLS", *(labels[g] for g in shares.columns)), rows),
    )
