"""The spread of FLS values for each KPI (box plots with every published FLS as a point), written
as SVG directly."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from flsdb.reports.charts import svg
from flsdb.reports.charts.bars import bar_chart
from flsdb.reports.charts.base import BLUE, INK, DataTable, Graphic, percent
from flsdb.stats.inequity import Inequity

BOX_FILL = "#DCEBF5"
POINT = "#A6A6A6"  # grey points, light enough that the box and the national bar show through


def distribution_chart(
    results: dict[str, Inequity], titles: dict[str, str], nationals: dict[str, float]
) -> Graphic:
    """The spread of FLS values for each KPI: box (IQR), whiskers (10th-90th), points."""
    keys = [k for k in results if results[k].units]
    rows: list[tuple[str, ...]] = []

    def draw(at: Callable[[float], float], centres: list[float], slot: float) -> list[str]:
        boxes: list[tuple[float, float, float, float]] = []
        whiskers: list[str] = []
        medians: list[str] = []
        nation: list[str] = []
        points: list[tuple[float, float]] = []
        for key, y in zip(keys, centres, strict=True):
            result = results[key]
            half = slot * 0.25
            q1, q3 = float(result.q1 or 0), float(result.q3 or 0)
            p10, p90 = float(result.p10 or 0), float(result.p90 or 0)
            boxes.append((at(q1), y - half, at(q3) - at(q1), 2 * half))
            whiskers.append(
                f"M {at(p10):.2f} {y:.2f} H {at(q1):.2f} M {at(q3):.2f} {y:.2f} H {at(p90):.2f} "
                f"M {at(p10):.2f} {y - half / 2:.2f} v {half:.2f} "
                f"M {at(p90):.2f} {y - half / 2:.2f} v {half:.2f}"
            )
            medians.append(f"M {at(float(result.median or 0)):.2f} {y - half:.2f} v {2 * half:.2f}")
            national = at(nationals[key])
            nation.append(f"M {national:.2f} {y - slot * 0.32:.2f} v {slot * 0.64:.2f}")
            values = result.funnel.proportion * 100
            values = values[np.isfinite(values) & np.asarray(result.shown, dtype=bool)]
            jitter = np.random.default_rng(len(points)).uniform(-0.15, 0.15, len(values))
            points += [(at(float(v)), y + j * slot) for v, j in zip(values, jitter, strict=True)]
            rows.append(
                (titles[key], str(result.units), percent(result.median), percent(result.q1),
                 percent(result.q3), percent(result.p10), percent(result.p90))
            )  # fmt: skip
        return [
            svg.path(" ".join(whiskers), INK, 0.8),
            svg.boxes(boxes, BOX_FILL, BLUE, 0.8),
            svg.path(" ".join(medians), BLUE, 1.5),
            svg.dots(points, POINT, 1.4),
            svg.path(" ".join(nation), INK, 1.4),
        ]

    legend = [
        (svg.box_swatch(BOX_FILL, BLUE), "middle half of FLSs"),
        (svg.line_swatch(BLUE, 1.5), "median FLS"),
        (svg.line_swatch(INK, 0.8), "10th to 90th percentile"),
        (svg.dot_swatch(POINT, 1.6), "one FLS"),
        (svg.line_swatch(INK, 1.4), "England and Wales"),
    ]
    image = bar_chart(
        "Spread of FLS values for each KPI",
        [titles[k] for k in keys],
        23.0,
        draw,
        legend,
        "% of patients, one point per FLS",
    )
    return Graphic(
        image,
        "Spread of FLS values for each KPI: boxes show the middle half of FLSs, whiskers the "
        "10th to 90th percentile, points each FLS, the dark bar the England and Wales value.",
        DataTable(("KPI", "FLSs", "median", "25th", "75th", "10th", "90th"), tuple(rows)),
    )
