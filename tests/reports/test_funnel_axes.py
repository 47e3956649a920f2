"""A funnel's axes come from the published points only: a withheld FLS's value or size does not
stretch them (issue 17 item 4)."""

from __future__ import annotations

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
