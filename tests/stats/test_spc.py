"""SPC charts against textbook examples and the Making Data Count rules point by point."""

from __future__ import annotations

import numpy as np
import pytest

from flsdb.stats import p_chart, run_chart, xmr_chart
from flsdb.stats.spc import Rules

# Montgomery, Introduction to Statistical Quality Control, example 7.1: 30 samples of 50 cans.
MONTGOMERY_7_1 = [
    12,
    15,
    8,
    10,
    4,
    7,
    16,
    9,
    14,
    10,
    5,
    6,
    17,
    12,
    22,
    8,
    10,
    5,
    13,
    11,
    20,
    18,
    24,
    15,
    9,
    12,
    7,
    13,
    9,
    6,
]


def test_p_chart_montgomery_example() -> None:
    chart = p_chart(MONTGOMERY_7_1, [50] * 30)
    assert chart.centre[0] == pytest.approx(0.2313, abs=1e-4)
    assert chart.upper[0] == pytest.approx(0.4102, abs=1e-4)
    assert chart.lower[0] == pytest.approx(0.0524, abs=1e-4)
    outside = [i + 1 for i, s in enumerate(chart.signals) if "outside" in s]
    assert outside == [15, 23]  # the samples Montgomery finds out of control


def test_p_chart_limits_vary_with_n_and_are_clipped() -> None:
    chart = p_chart([1, 5, 50], [2, 10, 100])
    assert chart.lower[0] == 0.0 and chart.upper[0] == 1.0
    assert chart.upper[1] > chart.upper[2]


def test_p_chart_baseline() -> None:
    chart = p_chart([5, 5, 9, 9], [10, 10, 10, 10], baseline=2)
    assert chart.centre.tolist() == [0.5] * 4


def test_xmr_hand_computed() -> None:
    chart = xmr_chart([10, 12, 11, 13, 12])
    assert chart.centre[0] == pytest.approx(11.6)
    assert chart.upper[0] == pytest.approx(11.6 + 2.66 * 1.5)
    assert chart.lower[0] == pytest.approx(11.6 - 2.66 * 1.5)


def test_xmr_screening_drops_large_moving_ranges() -> None:
    values = [10, 11, 10, 11, 10, 11, 10, 40, 10, 11]
    plain = xmr_chart(values)
    screened = xmr_chart(values, screen=True)
    assert screened.upper[0] - screened.centre[0] < plain.upper[0] - plain.centre[0]
    assert "outside" in screened.signals[7]


def test_shift_of_seven_and_a_point_on_the_centre_breaks_it() -> None:
    values = [5.0, 4.0, 6.0] + [6.0] * 7 + [4.0] * 3 + [5.0] + [4.0] * 6
    chart = xmr_chart(values, baseline=3)  # centre 5: the mean of the first three points
    centre = chart.centre[0]
    assert centre == 5.0
    above = [i for i, s in enumerate(chart.signals) if "shift" in s and values[i] > centre]
    assert above == list(range(2, 10))
    assert not any("shift" in s for s in chart.signals[10:])  # 3 + (on centre) + 6: no run of 7


def test_trend_needs_strict_steps() -> None:
    rising = [1, 2, 3, 4, 5, 6, 7, 5, 5, 5]
    chart = xmr_chart(rising, rules=Rules(shift=99))
    assert [i for i, s in enumerate(chart.signals) if "trend" in s] == list(range(7))
    flat_step = [1, 2, 3, 3, 4, 5, 6, 7, 5, 5]
    chart = xmr_chart(flat_step, rules=Rules(shift=99))
    assert not any("trend" in s for s in chart.signals[:3])


def test_two_of_three_beyond_two_thirds() -> None:
    base = p_chart([50] * 10 + [64, 50, 64], [100] * 13, baseline=10)
    # centre 0.5, sigma 0.05: 0.64 is beyond two-thirds of the way to 0.65, not beyond it.
    assert base.signals[10] == ["two_of_three"] and base.signals[12] == ["two_of_three"]
    assert base.labels("higher")[10] == "improvement"
    assert base.labels("lower")[10] == "concern"
    assert base.labels("higher")[0] == "neutral"


def test_run_chart_limits_follow_anhoej_table() -> None:
    for n, run_limit, crossing_limit in ((10, 6, 2), (20, 7, 6), (30, 8, 10)):
        values = np.tile([1.0, 3.0], n // 2)
        analysis, _ = run_chart(values)
        assert (analysis.useful, analysis.run_limit, analysis.crossing_limit) == (
            n,
            run_limit,
            crossing_limit,
        )
        assert not analysis.signal


def test_run_chart_detects_a_long_run() -> None:
    values = [1.0, 3, 1, 3, 1, 3] + [4.0] * 9 + [1, 3, 1, 3, 1]
    analysis, chart = run_chart(values)
    assert analysis.longest_run == 9 > analysis.run_limit
    assert analysis.shift
    assert "run" in chart.signals[6] and "run" not in chart.signals[5]
