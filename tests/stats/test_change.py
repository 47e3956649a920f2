"""Tests of change between two years, against hand-computed values."""

from __future__ import annotations

import math

import pytest

from flsdb.stats.change import two_proportions, two_rates


def test_two_proportion_z_test_by_hand() -> None:
    # 45 of 100, then 60 of 100: pooled p = 105/200 = 0.525;
    # se = sqrt(0.525 * 0.475 * (1/100 + 1/100)) = sqrt(0.0049875) = 0.0706222;
    # z = 0.15 / 0.0706222 = 2.12398; two-sided p = 2 * (1 - Phi(2.12398)) = 0.03367.
    change = two_proportions(45, 100, 60, 100)
    assert change is not None
    assert change.difference == pytest.approx(15.0)
    assert change.z == pytest.approx(2.12398, abs=1e-5)
    assert change.p == pytest.approx(0.03367, abs=1e-5)
    assert change.significant()
    # Unequal sizes: 450/1000 then 52/100: pooled 502/1100 = 0.456364;
    # se = sqrt(0.456364 * 0.543636 * (0.001 + 0.01)) = 0.0522404; z = 0.07 / 0.0522404 = 1.33996.
    unequal = two_proportions(450, 1000, 52, 100)
    assert unequal is not None
    assert unequal.z == pytest.approx(1.33996, abs=1e-5)
    assert not unequal.significant()  # p = 0.180


def test_two_proportions_degenerate_cases() -> None:
    assert two_proportions(1, 0, 1, 10) is None  # no patients last year
    assert two_proportions(11, 10, 1, 10) is None  # not a proportion
    same = two_proportions(0, 10, 0, 20)  # 0% both years: no change, no division by zero
    assert same is not None and (same.z, same.p) == (0.0, 1.0)


def test_poisson_rate_ratio_test_by_hand() -> None:
    # 100 of 200 expected, then 150 of 200: z = ln(1.5) / sqrt(1/100 + 1/150)
    # = 0.405465 / 0.129099 = 3.14072; p = 0.001685.
    change = two_rates(100, 200, 150, 200)
    assert change is not None
    assert change.difference == pytest.approx(25.0)
    assert change.z == pytest.approx(math.log(1.5) / math.sqrt(1 / 100 + 1 / 150))
    assert change.z == pytest.approx(3.14072, abs=1e-5)
    assert change.p == pytest.approx(0.001685, abs=1e-6)
    assert two_rates(0, 200, 150, 200) is None
