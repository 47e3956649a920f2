"""Confidence intervals for proportions (statsmodels), vectorised over arrays."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from statsmodels.stats.proportion import proportion_confint


def _interval(
    numerator: ArrayLike, denominator: ArrayLike, alpha: float, method: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """statsmodels' interval where it is defined (0 <= numerator <= denominator > 0), else NaN."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    valid = np.isfinite(num) & np.isfinite(den) & (den > 0) & (num >= 0) & (num <= den)
    low = np.full(num.shape, np.nan)
    high = np.full(num.shape, np.nan)
    if valid.any():
        lo, hi = proportion_confint(num[valid], den[valid], alpha=alpha, method=method)
        # Exactly 0 and 1 at the ends, where floating point (or the beta quantile) leaves a trace.
        low[valid] = np.where(num[valid] == 0, 0.0, np.clip(np.nan_to_num(lo, nan=0.0), 0, 1))
        high[valid] = np.where(
            num[valid] == den[valid], 1.0, np.clip(np.nan_to_num(hi, nan=1.0), 0, 1)
        )
    return low, high


def wilson_interval(
    numerator: ArrayLike, denominator: ArrayLike, alpha: float = 0.05
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval as proportions; NaN where the denominator is 0 or missing."""
    return _interval(numerator, denominator, alpha, "wilson")


def exact_interval(
    numerator: ArrayLike, denominator: ArrayLike, alpha: float = 0.05
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Clopper-Pearson (exact binomial) interval as proportions."""
    return _interval(numerator, denominator, alpha, "beta")
