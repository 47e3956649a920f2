"""SPC limits only where the denominators support them: a small FLS is charted by quarter, and
a smaller one as a run chart of quarters (hand-built months)."""

from __future__ import annotations

import math

import pandas as pd

from flsdb.figures.spc import choose_points, quarters
from flsdb.reports.spc_panels import unit_charts
from tests.reports.cases import CASES_GROUP, computed_case_figures


def _months(denominators: list[int], numerators: list[int] | None = None) -> pd.DataFrame:
    periods = [f"{2023 + i // 12}-{i % 12 + 1:02d}" for i in range(len(denominators))]
    return pd.DataFrame(
        {
            "period": periods,
            "numerator": numerators or [d // 2 for d in denominators],
            "denominator": denominators,
        }
    )


def test_quarters_sum_months_and_sit_at_their_last_month() -> None:
    months = _months([4, 5, 6, 7, 8, 9, 1], [1, 2, 3, 4, 5, 6, 1])
    by_quarter = quarters(months)
    assert by_quarter["period"].tolist() == ["2023-03", "2023-06", "2023-07"]
    assert by_quarter["denominator"].tolist() == [15, 24, 1]  # 4+5+6, 7+8+9, July alone
    assert by_quarter["numerator"].tolist() == [6, 15, 1]


def test_a_chart_needs_a_median_of_twenty_patients_a_point() -> None:
    # Median 20 a month: monthly limits.
    kind, points = choose_points(_months([20] * 24), 20)
    assert (kind, len(points)) == ("month", 24)
    # Median 19 a month (57 a quarter): by quarter, 8 quarters.
    kind, points = choose_points(_months([19] * 24), 20)
    assert (kind, len(points)) == ("quarter", 8)
    assert points["denominator"].tolist() == [57] * 8
    # 4 a month (the FLSs, 12 a quarter): a run chart of the quarters.
    kind, points = choose_points(_months([4] * 24), 20)
    assert (kind, len(points)) == ("run", 8)


@CASES_GROUP  # the KPI cases' figures, computed once per process (tests/reports/cases.py)
def test_a_small_fls_gets_no_monthly_limits_in_its_report() -> None:
    data = computed_case_figures()  # the KPI cases' figures of 2024, as computed
    panels, words, _ = unit_charts(data, data.monthly_service, "FLS01", by_size=True)
    # FLS01 has a patient or two a month: no KPI gets monthly process limits.
    for panel in panels.values():
        assert all(math.isnan(low) for low in panel.chart.lower)  # a run chart: no limits
    assert any("run chart of the quarters" in w or "too few quarters" in w for w in words)
    # Without by_size (the web dashboards, for now) the same FLS still gets monthly p-charts.
    monthly, _, _ = unit_charts(data, data.monthly_service, "FLS01")
    assert monthly and all(not math.isnan(p.chart.lower[0]) for p in monthly.values())
