"""Intervals for proportions against published values."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from flsdb.stats import exact_interval, wilson_interval


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
