"""SPC limits only where the denominators support them: a small FLS is charted by quarter, and
a smaller one as a run chart of quarters (hand-built months)."""

from __future__ import annotations

import math
import random

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


def _grouped(months: pd.DataFrame) -> pd.DataFrame:
    """Quarters as pandas' grouping makes them (the reference `quarters` is checked against)."""
    frame = months.assign(
        quarter=[f"{p[:4]}-Q{(int(p[5:7]) - 1) // 3 + 1}" for p in months["period"]]
    )
    summed = frame.groupby("quarter", sort=True).agg(
        period=("period", "max"),
        numerator=("numerator", lambda s: s.astype(float).sum()),
        denominator=("denominator", lambda s: s.astype(float).sum()),
    )
    return summed.reset_index(drop=True)


def test_quarters_are_pandas_grouped_sums_exactly() -> None:
    """The quarters summed in plain Python give pandas' grouped sums to the last bit: months in
    any order, gaps, counts as numbers or text, fractions, and missing values (skipped)."""
    chance = random.Random(18)
    every_month = [f"{y}-{m:02d}" for y in (2022, 2023, 2024) for m in range(1, 13)]

    def value() -> object:
        roll = chance.random()
        if roll < 0.1:
            return None if roll < 0.05 else math.nan
        if roll < 0.6:
            return chance.randint(0, 300)
        return str(chance.randint(0, 50)) if roll < 0.8 else chance.random() * 100

    for _ in range(12):
        periods = chance.sample(every_month, chance.randint(1, 30))
        periods = sorted(periods) if chance.random() < 0.5 else periods
        months = pd.DataFrame(
            {
                "period": pd.Series(periods, dtype=object),
                "numerator": pd.Series([value() for _ in periods], dtype=object),
                "denominator": pd.Series([value() for _ in periods], dtype=object),
            }
        )
        expected, found = _grouped(months), quarters(months)
        pd.testing.assert_frame_equal(found, expected, check_exact=True)
        for column in ("numerator", "denominator"):
            assert [v.hex() for v in found[column]] == [v.hex() for v in expected[column]]


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
