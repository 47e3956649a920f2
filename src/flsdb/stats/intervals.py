"""Confidence intervals for proportions (statsmodels), vectorised over arrays."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from statsmodels.stats.proportion import proportion_confint


def wilson_interval(
    numerator: ArrayLike, denominator: ArrayLike, alpha: float = 0.05
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval as proportions; NaN where the denominator is 0 or missing."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    valid = np.isfinite(num) & np.isfinite(den) & (den > 0) & (num >= 0) & (num <= den)
    low = np.full(num.shape, np.nan)
    high = np.full(num.shape, np.nan)
    if valid.any():
        lo, hi = proportion_confint(num[valid], den[valid], alpha=alpha, method="wilson")
        # Exactly 0 and 1 at the ends, where floating point leaves a trace.
        low[valid] = np.where(num[valid] == 0, 0.0, np.clip(lo, 0, 1))
        high[valid] = np.where(num[valid] == den[valid], 1.0, np.clip(hi, 0, 1))
    return low, high


def exact_interval(
    numerator: ArrayLike, denominator: ArrayLike, alpha: float = 0.05
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Clopper-Pearson (exact binomial) interval as proportions."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    valid = np.isfinite(num) & np.isfinite(den) & (den > 0) & (num >= 0) & (num <= den)
    low = np.full(num.shape, np.nan)
    high = np.full(num.shape, np.nan)
    if valid.any():
        lo, hi = proportion_confint(num[valid], den[valid], alpha=alpha, method="beta")
        low[valid] = np.nan_to_num(lo, nan=0.0)
        high[valid] = np.nan_to_num(hi, nan=1.0)
    return low, high
