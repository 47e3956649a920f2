"""SPC charts against textbook examples and the Making Data Count rules point by point."""

from __future__ import annotations

import numpy as np
import pytest

from flsdb.stats import (
    assurance_icon,
    laney_p_chart,
    p_chart,
    run_chart,
    variation_icon,
    xmr_chart,
)
from flsdb.stats.spc import Rules, _binomial_quantile

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


def test_laney_p_prime_hand_computed() -> None:
    num = np.array([500.0, 540, 470, 520, 610, 480])
    den = np.array([1000.0, 1000, 1000, 1000, 1000, 1000])
    p_bar = num.sum() / den.sum()
    sigma = np.sqrt(p_bar * (1 - p_bar) / den)
    z = (num / den - p_bar) / sigma
    sigma_z = np.mean(np.abs(np.diff(z))) / 1.128
    chart = laney_p_chart(num, den)
    assert chart.sigma_z == pytest.approx(sigma_z)
    np.testing.assert_allclose(chart.upper, p_bar + 3 * sigma * sigma_z)
    np.testing.assert_allclose(chart.lower, p_bar - 3 * sigma * sigma_z)
    plain = p_chart(num, den)
    assert sigma_z > 1 and (chart.upper > plain.upper).all()
    assert "outside" in plain.signals[4] and "outside" not in chart.signals[4]


def test_laney_equals_p_chart_when_sigma_z_is_one() -> None:
    # z-scores alternating +1/-1 around the centre: moving ranges of 2, sigma_z = 2 / 1.128.
    # Scaling them to moving ranges of 1.128 gives sigma_z = 1, and then p' is the p-chart.
    den = np.full(8, 400.0)
    sigma = np.sqrt(0.5 * 0.5 / 400)
    values = 0.5 + np.tile([1, -1], 4) * 0.564 * sigma
    chart = laney_p_chart(values * den, den)
    assert chart.sigma_z == pytest.approx(1.0)
    np.testing.assert_allclose(chart.upper, p_chart(values * den, den).upper)


def test_baseline_as_a_range_of_points() -> None:
    chart = p_chart([9, 5, 5, 9], [10, 10, 10, 10], baseline=(1, 3))
    assert chart.centre.tolist() == [0.5] * 4
    assert chart.baseline == slice(1, 3)


def test_binomial_quantile_matches_the_published_crossings_table() -> None:
    # qicharts2's table of critical values: qbinom(0.05, n - 1, 0.5).
    table = {10: 2, 14: 4, 22: 7, 27: 9, 36: 13, 50: 19, 64: 25, 75: 30}
    assert {n: _binomial_quantile(0.05, n - 1) for n in table} == table


def test_making_data_count_icons() -> None:
    improving = p_chart([50] * 12 + [80], [100] * 13, baseline=12)
    assert variation_icon(improving, "higher") == "improvement_high"
    assert variation_icon(improving, "lower") == "concern_high"
    stable = p_chart([50, 52, 48, 51, 49, 50], [100] * 6)
    assert variation_icon(stable, "higher") == "common"
    # Limits about 0.35 to 0.65: a target of 0.2 is always met, 0.8 never, 0.5 sometimes.
    assert assurance_icon(stable, 0.2, "higher") == "pass"
    assert assurance_icon(stable, 0.8, "higher") == "fail"
    assert assurance_icon(stable, 0.5, "higher") == "hit_and_miss"
    assert assurance_icon(stable, 0.8, "lower") == "pass"
    assert assurance_icon(stable, None, "higher") is None
