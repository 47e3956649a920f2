"""Confidence intervals, vectorised over arrays: Wilson and exact for proportions, exact Poisson
for an observed count over an expected one.

Wilson's formula is three lines of NumPy (importing statsmodels for it would add two seconds to
every command); the tests check it against statsmodels and Newcombe (1998). The exact intervals
take their quantiles from scipy.special, imported when they are first used.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


def z_for(level: float) -> float:
    """Two-sided normal quantile: 1.96 for 95%, 3.09 for 99.8%."""
    return NormalDist().inv_cdf(1 - (1 - level) / 2)


def _valid(numerator: ArrayLike, denominator: ArrayLike) -> tuple[Array, Array, NDArray[np.bool_]]:
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    valid = np.isfinite(num) & np.isfinite(den) & (den > 0) & (num >= 0) & (num <= den)
    return num, den, valid


def wilson_interval(
    numerator: ArrayLike, denominator: ArrayLike, alpha: float = 0.05
) -> tuple[Array, Array]:
    """Wilson score interval as proportions; NaN where the denominator is 0 or missing, or the
    numerator is outside 0 to the denominator."""
    num, den, valid = _valid(numerator, denominator)
    z = z_for(1 - alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = num / den
        scale = 1 + z * z / den
        centre = (p + z * z / (2 * den)) / scale
        half = z / scale * np.sqrt(p * (1 - p) / den + z * z / (4 * den * den))
    low = np.where(valid, np.where(num == 0, 0.0, np.clip(centre - half, 0, 1)), np.nan)
    high = np.where(valid, np.where(num == den, 1.0, np.clip(centre + half, 0, 1)), np.nan)
    return low, high


def exact_interval(
    numerator: ArrayLike, denominator: ArrayLike, alpha: float = 0.05
) -> tuple[Array, Array]:
    """Clopper-Pearson (exact binomial) interval as proportions."""
    from scipy.special import betaincinv

    num, den, valid = _valid(numerator, denominator)
    low = np.full(num.shape, np.nan)
    high = np.full(num.shape, np.nan)
    if valid.any():
        k, n = num[valid], den[valid]
        with np.errstate(divide="ignore", invalid="ignore"):
            lower = np.where(k > 0, betaincinv(k, n - k + 1, alpha / 2), 0.0)
            upper = np.where(k < n, betaincinv(k + 1, n - k, 1 - alpha / 2), 1.0)
        low[valid] = np.nan_to_num(lower, nan=0.0)
        high[valid] = np.nan_to_num(upper, nan=1.0)
    return low, high


def poisson_ratio_interval(
    observed: ArrayLike, expected: ArrayLike, alpha: float = 0.05
) -> tuple[Array, Array]:
    """Exact Poisson interval of observed / expected (the observed count is the random part),
    as the public health methods give for standardised ratios: chi-squared quantiles of the
    count, divided by the expected value. NaN where the expected value is 0 or missing."""
    from scipy.special import gammaincinv

    obs = np.asarray(observed, dtype=float)
    exp = np.asarray(expected, dtype=float)
    valid = np.isfinite(obs) & np.isfinite(exp) & (exp > 0) & (obs >= 0)
    low = np.full(obs.shape, np.nan)
    high = np.full(obs.shape, np.nan)
    if valid.any():
        o, e = obs[valid], exp[valid]
        with np.errstate(invalid="ignore"):
            lower = np.where(o > 0, gammaincinv(np.maximum(o, 1e-300), alpha / 2), 0.0)
        upper = gammaincinv(o + 1, 1 - alpha / 2)
        low[valid] = lower / e
        high[valid] = upper / e
    return low, high


def newcombe_difference(
    numerator_1: ArrayLike,
    denominator_1: ArrayLike,
    numerator_2: ArrayLike,
    denominator_2: ArrayLike,
    alpha: float = 0.05,
) -> tuple[Array, Array]:
    """Interval of p1 - p2 from the two Wilson intervals (Newcombe 1998, method 10)."""
    p1 = np.asarray(numerator_1, dtype=float) / np.asarray(denominator_1, dtype=float)
    p2 = np.asarray(numerator_2, dtype=float) / np.asarray(denominator_2, dtype=float)
    l1, u1 = wilson_interval(numerator_1, denominator_1, alpha)
    l2, u2 = wilson_interval(numerator_2, denominator_2, alpha)
    difference = p1 - p2
    low = difference - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high
