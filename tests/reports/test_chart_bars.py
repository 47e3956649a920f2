"""The national and region charts, written as SVG directly, draw what their tables say: each bar
as long as its value on the 0-100 axis, ranked where the chart says, nothing for a withheld
value, a stacked bar whole, every group named in the legend, and text of 8 pt or more."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from flsdb.reports.charts import (
    distribution_chart,
    funnel_chart,
    grouped_bars,
    mix_chart,
    paired_bars,
)
from flsdb.reports.charts.bars import MIX_COLOURS, PAGE, SERIES
from flsdb.reports.charts.spread import BOX_FILL
from flsdb.stats.inequity import inequity

SVG = "{http://www.w3.org/2000/svg}"
Rect = tuple[float, float, float, float]


def plot_box(drawing: bytes) -> tuple[float, float, float, float]:
    """The plot's left, top, right and bottom, from its axes (up the left, along the bottom)."""
    for path in ElementTree.fromstring(drawing).iter(f"{SVG}path"):
        found = re.match(r"M ([\d.]+) ([\d.]+) V ([\d.]+) H ([\d.]+)", path.get("d", ""))
        if found:
            left, top, bottom, right = (float(v) for v in found.groups())
            return left, top, right, bottom
    raise AssertionError("no axes")


def rects(drawing: bytes, fill: str) -> list[Rect]:
    """The rectangles (x, y, width, height) filled with `fill` inside the plot (the legend's
    swatches are below it)."""
    bottom = plot_box(drawing)[3]
    found: list[Rect] = []
    for path in ElementTree.fromstring(drawing).iter(f"{SVG}path"):
        if path.get("fill") == fill:
            for m in re.finditer(
                r"M ([-\d.]+) ([-\d.]+) h ([-\d.]+) v ([-\d.]+)", path.get("d", "")
            ):
                x, y, w, h = (float(v) for v in m.groups())
                if y < bottom:
                    found.append((x, y, w, h))
    return found


def texts(drawing: bytes) -> list[str]:
    return [t.text or "" for t in ElementTree.fromstring(drawing).iter(f"{SVG}text")]


def scale(drawing: bytes, bars: list[Rect]) -> float:
    """Points per percent on the plot's 0-100 axis; every bar that starts at 0% starts at the
    plot's left edge."""
    left, _, right, _ = plot_box(drawing)
    assert right == PAGE - 12
    return (right - left) / 100


def test_paired_bars_are_as_long_as_their_values_ranked_and_none_for_withheld() -> None:
    table = pd.DataFrame(
        {"spine": [10.0, np.nan, 30.0], "non-spine": [20.0, np.nan, np.nan]},
        index=["A ICB", "B ICB", "C & D ICB"],
    )
    drawn = paired_bars(table, "Identification", 80.0, table.astype(str)).image
    spine, non_spine = rects(drawn, SERIES[0]), rects(drawn, SERIES[1])
    assert len(spine) == 2 and len(non_spine) == 1  # B and C's non-spine are withheld
    per = scale(drawn, spine + non_spine)
    assert {x for x, _, _, _ in spine + non_spine} == {plot_box(drawn)[0]}
    assert sorted(round(w / per, 2) for _, _, w, _ in spine) == [10.0, 30.0]
    assert round(non_spine[0][2] / per, 2) == 20.0
    # Highest first: C's bar above A's, and the name escaped, not broken.
    c_bar = next(r for r in spine if round(r[2] / per) == 30)
    a_bar = next(r for r in spine if round(r[2] / per) == 10)
    assert c_bar[1] < a_bar[1]
    words = texts(drawn)
    assert "C & D ICB" in words and "target 80%" in words
    assert {"spine", "non-spine"} <= set(words)


def test_grouped_bars_name_every_group_and_leave_a_withheld_value_out() -> None:
    groups = ["under 65", "65 to 74", "75 to 84", "85 and over", "unknown age"]
    table = pd.DataFrame(
        [[50.0, 55.0, np.nan, 40.0, 10.0], [60.0, 65.0, 61.0, 50.0, 20.0]],
        index=["kpi03", "kpi07"],
        columns=groups,
    )
    drawn = grouped_bars(table, "By age band", names={"kpi07": "Bone therapy"}).image
    words = texts(drawn)
    assert set(groups) <= set(words)  # the legend is complete
    assert "kpi07 Bone therapy" in words
    third = rects(drawn, SERIES[2])
    assert len(third) == 1 and words.count("–") == 1  # kpi03's 75 to 84 is withheld
    per = scale(drawn, [r for colour in SERIES[:5] for r in rects(drawn, colour)])
    assert round(third[0][2] / per, 2) == 61.0


def test_a_stacked_mix_bar_is_whole_with_its_withheld_share() -> None:
    groups = ["a", "b", "c"]
    shares = pd.DataFrame(
        [[20.0, 30.0, 50.0], [10.0, 40.0, np.nan]], index=["X", "Y"], columns=groups
    )
    withheld = pd.Series([0.0, 50.0], index=["X", "Y"])
    drawn = mix_chart(shares, {g: f"group {g}" for g in groups}, "Mix", withheld).image
    coloured = [r for colour in MIX_COLOURS[:3] for r in rects(drawn, colour)]
    hidden = rects(drawn, "#FFFFFF")
    per = scale(drawn, coloured + hidden)
    assert len(hidden) == 1 and round(hidden[0][2] / per, 2) == 50.0
    for row_y in {round(y, 2) for _, y, _, _ in coloured}:
        row = [r for r in coloured + hidden if round(r[1], 2) == row_y]
        assert round(sum(w for _, _, w, _ in row) / per, 2) == 100.0
    assert {"group a", "group b", "group c", "withheld (small numbers)"} <= set(texts(drawn))


def test_funnels_and_spread_name_their_outliers_and_keep_text_at_8_pt() -> None:
    result = inequity(["X", "Y", "Z", "W"], [10, 500, 900, 520], [1000, 1000, 1000, 1000])
    drawn = funnel_chart(result, "kpi04 FLS assessment", {"X": "Low FLS (X)"}).image
    words = texts(drawn)
    assert result.funnel.flags[0] == "low_alarm" and result.funnel.flags[2] == "high_alarm"
    assert "Low FLS (X)" in words and "Z" in words and "Y" not in words  # alarms only, named
    spread = distribution_chart({"kpi04": result}, {"kpi04": "kpi04 FLS"}, {"kpi04": 48.0}).image
    assert len(rects(spread, BOX_FILL)) == 1 and "kpi04 FLS" in texts(spread)
    for svg in (drawn, spread):
        text = svg.decode()
        sizes = [float(v) for v in re.findall(r"font-size: ?([\d.]+)px", text)]
        assert sizes and min(sizes) >= 8
        width = float(re.search(r'<svg[^>]* width="([\d.]+)pt"', text).group(1))  # type: ignore[union-attr]
        assert width == PAGE  # drawn at the size it is shown
