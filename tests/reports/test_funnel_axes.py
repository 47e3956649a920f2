"""A funnel's axes come from the published points only: a withheld FLS's value or size does not
stretch them (issue 17 item 4)."""

from __future__ import annotations

import re

from flsdb.reports.charts.funnel_grid import LEFT, RIGHT, WIDTH, FunnelGrid
from flsdb.reports.charts.funnels import _curve, _drawn
from flsdb.stats.inequity import inequity


def test_axes_ignore_a_withheld_point() -> None:
    # C (2 of 2,000 = 0.1%) is withheld: its 0.1% and its 2,000 patients must not set the axes.
    result = inequity(
        ["A", "B", "C"], [50, 60, 2], [100, 120, 2000], 0.3, shown=[True, True, False]
    )
    grid = _curve(result)
    assert grid.max() == 120 * 1.05 and grid.min() == 100 * 0.8
    drawn = _drawn(result)
    assert 0.1 not in [round(v, 3) for v in drawn]
    assert 50.0 in drawn  # A's 50% is drawn
    shown_all = inequity(["A", "B", "C"], [50, 60, 2], [100, 120, 2000], 0.3)
    assert _curve(shown_all).max() == 2000 * 1.05


def test_a_small_fls_stands_clear_of_the_axis_in_its_funnel_panel() -> None:
    """Review item 11: on an axis of 0 to 5,000 patients an FLS of 20 sat on the axis itself.
    The denominators are on a log scale: 20 of 5,000 lies over a third of the way across."""
    result = inequity(["SMALL", "B", "C", "BIG"], [12, 300, 900, 3000], [20, 500, 1500, 5000], 0.6)
    grid = FunnelGrid({"kpi04": result}, {"kpi04": "FLS assessment within 90 days"})
    drawing = grid.render("SMALL", "Small FLS").panels[0].svg.decode()
    found = re.search(r'<path d="M ([\d.]+) [\d.]+ L [^"]*Z" fill="#f0e442"', drawing)
    assert found is not None, "the FLS's diamond is drawn"
    across = (float(found.group(1)) - LEFT) / (WIDTH - RIGHT - LEFT)
    assert 0.3 < across < 0.45  # log10(20) / log10(5,750) = 0.35; on a linear axis 0.003
    # Its axis says where it is: ticks at 1, 10, 100 and 1,000 patients.
    labels = re.findall(r"<text [^>]*>([\d,]+)</text>", drawing)
    assert labels == ["1", "10", "100", "1,000"]
