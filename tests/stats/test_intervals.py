"""Intervals for proportions against published values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from flsdb.stats import (
    exact_interval,
    newcombe_difference,
    poisson_ratio_interval,
    wilson_interval,
)


def test_wilson_matches_newcombe_1998_examples() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857-872, table I: 81/263, 15/148, 0/20, 1/29.
    low, high = wilson_interval([81, 15, 0, 1], [263, 148, 20, 29])
    assert np.round(low, 4).tolist() == [0.2553, 0.0624, 0.0, 0.0061]
    assert np.round(high, 4).tolist() == [0.3662, 0.1605, 0.1611, 0.1718]


def test_exact_matches_clopper_pearson_examples() -> None:
    # The same paper's exact (Clopper-Pearson) column.
    low, high = exact_interval([81, 15, 0, 1], [263, 148, 20, 29])
    assert np.round(low, 4).tolist() == [0.2527, 0.0578, 0.0, 0.0009]
    assert np.round(high, 4).tolist() == [0.3676, 0.1617, 0.1684, 0.1776]


def test_no_interval_without_a_denominator() -> None:
    low, high = wilson_interval([0, 5], [0, 4])
    assert np.isnan(low).all() and np.isnan(high).all()


@given(st.integers(1, 5000), st.floats(0, 1))
def test_interval_contains_estimate_and_stays_in_range(n: int, share: float) -> None:
    k = round(n * share)
    low, high = wilson_interval([k], [n])
    assert 0 <= low[0] <= k / n <= high[0] <= 1
    wider_low, wider_high = wilson_interval([k], [n], alpha=0.002)
    assert wider_low[0] <= low[0] + 1e-12 and wider_high[0] >= high[0] - 1e-12


@given(st.integers(1, 3000), st.floats(0, 1), st.sampled_from([0.05, 0.002]))
def test_wilson_and_exact_equal_statsmodels(n: int, share: float, alpha: float) -> None:
    k = round(n * share)
    for ours, method in ((wilson_interval, "wilson"), (exact_interval, "beta")):
        low, high = ours([k], [n], alpha=alpha)
        ref_low, ref_high = proportion_confint(k, n, alpha=alpha, method=method)
        assert low[0] == pytest.approx(max(0.0, ref_low), abs=1e-9)
        assert high[0] == pytest.approx(min(1.0, ref_high), abs=1e-9)


def test_poisson_interval_matches_published_exact_limits() -> None:
    # Exact Poisson 95% limits for counts of 0, 1, 10 and 100 (e.g. Ulm 1990; the public health
    # methods' tables): 0-3.689, 0.0253-5.572, 4.795-18.39, 81.36-121.63.
    low, high = poisson_ratio_interval([0, 1, 10, 100], [1, 1, 1, 1])
    assert np.round(low, 3).tolist() == [0.0, 0.025, 4.795, 81.364]
    assert np.round(high, 2).tolist() == [3.69, 5.57, 18.39, 121.63]
    # As a ratio: 10 observed over 20 expected.
    low, high = poisson_ratio_interval([10], [20])
    assert (round(low[0], 4), round(high[0], 4)) == (0.2398, 0.9195)
    low, high = poisson_ratio_interval([3], [0])
    assert np.isnan(low[0]) and np.isnan(high[0])


@given(st.integers(0, 2_000_000), st.sampled_from([0.05, 0.002]))
def test_poisson_limits_equal_scipys_exact_quantiles(observed: int, alpha: float) -> None:
    from scipy.special import gammaincinv

    low, high = poisson_ratio_interval([observed], [1.0], alpha=alpha)
    exact_low = gammaincinv(observed, alpha / 2) if observed else 0.0
    exact_high = gammaincinv(observed + 1, 1 - alpha / 2)
    # Exact to rounding below 1,000 observed; Byar's approximation from there, within 0.001%.
    tolerance = 1e-11 if observed < 1000 else 1e-5
    assert low[0] == pytest.approx(exact_low, rel=tolerance, abs=1e-12)
    assert high[0] == pytest.approx(exact_high, rel=tolerance)


def test_newcombe_difference_matches_the_paper() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873-890, table II example (a): 56/70 - 48/80,
    # method 10 (score, no continuity correction): 0.0524 to 0.3339.
    low, high = newcombe_difference(56, 70, 48, 80)
    assert (round(float(low), 4), round(float(high), 4)) == (0.0524, 0.3339)
