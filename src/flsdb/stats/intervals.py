"""Confidence intervals, vectorised over arrays: Wilson and exact for proportions, exact Poisson
for an observed count over an expected one, and Newcombe's for a difference of proportions.

Every KPI run computes Wilson and Poisson intervals, so they avoid importing statsmodels (two
seconds) and SciPy (a quarter of a second) on every command: Wilson's formula is three lines of
NumPy, and the Poisson limits are gamma quantiles solved here (Newton's method on the regularised
incomplete gamma function below 1,000 observed; Byar's approximation, within 0.001% of the
exact limits, from 1,000). The tests check them against statsmodels and SciPy. Clopper-Pearson, used
less often, takes SciPy's quantiles.
"""

from __future__ import annotations

import math
from functools import cache
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
    # lazy: scipy.special (~0.6 s) only for the exact interval; Wilson's needs none
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


EXACT_BELOW = 1000  # observed counts from here use Byar's approximation


def _lower_gamma(a: float, x: float) -> float:
    """Regularised lower incomplete gamma P(a, x): series below a + 1, continued fraction above."""
    if x <= 0:
        return 0.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1 / a
        n = a
        while abs(term) > abs(total) * 1e-16:
            n += 1
            term *= x / n
            total += term
        return total * math.exp(log_front)
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    i = 0
    while True:
        i += 1
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < 1e-16 or i > 10_000:
            break
    return 1 - math.exp(log_front) * h


@cache
def _gamma_quantile(a: float, p: float) -> float:
    """x with P(a, x) = p, by Newton's method from the Wilson-Hilferty approximation."""
    z = NormalDist().inv_cdf(p)
    x = max(a * (1 - 1 / (9 * a) + z / (3 * math.sqrt(a))) ** 3, 1e-8)
    for _ in range(100):
        density = math.exp((a - 1) * math.log(x) - x - math.lgamma(a))
        step = (_lower_gamma(a, x) - p) / density
        x = x - step if x - step > 0 else x / 2
        if abs(step) < 1e-12 * max(x, 1.0):
            break
    return x


def _poisson_limits(observed: float, alpha: float) -> tuple[float, float]:
    z = NormalDist().inv_cdf(1 - alpha / 2)
    if observed >= EXACT_BELOW:
        o, above = observed, observed + 1
        lower = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3
        upper = above * (1 - 1 / (9 * above) + z / (3 * math.sqrt(above))) ** 3
        return lower, upper
    lower = _gamma_quantile(observed, alpha / 2) if observed > 0 else 0.0
    return lower, _gamma_quantile(observed + 1, 1 - alpha / 2)


def poisson_ratio_interval(
    observed: ArrayLike, expected: ArrayLike, alpha: float = 0.05
) -> tuple[Array, Array]:
    """Exact Poisson interval of observed / expected (the observed count is the random part),
    as the public health methods give for standardised ratios: gamma quantiles of the count,
    divided by the expected value. NaN where the expected value is 0 or missing."""
    obs = np.asarray(observed, dtype=float)
    exp = np.asarray(expected, dtype=float)
    valid = np.isfinite(obs) & np.isfinite(exp) & (exp > 0) & (obs >= 0)
    low = np.full(obs.shape, np.nan)
    high = np.full(obs.shape, np.nan)
    limits = {o: _poisson_limits(o, alpha) for o in set(obs[valid].tolist())}
    for index in np.flatnonzero(valid):
        lower, upper = limits[float(obs[index])]
        low[index] = lower / exp[index]
        high[index] = upper / exp[index]
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
