"""Funnel-plot control limits for proportions, and where each unit falls.

Methods (Spiegelhalter 2005, "Funnel plots for comparing institutional performance"; the UK
public health indicator methods for `wilson`):

- `wilson`: the observed proportions whose Wilson score interval just reaches the target, which
  is target +/- z * sqrt(target (1 - target) / n) (the public health indicator funnel).
- `arcsine`: the arcsine square-root transform, sin^2(asin(sqrt(target)) +/- z / (2 sqrt(n))).
- `exact`: binomial quantiles of Binomial(n, target), interpolated to a continuous limit.

Overdispersion (Spiegelhalter 2005, section 4): z-scores Winsorised at the 10th and 90th
percentiles give phi; `multiplicative` widens limits by sqrt(phi), `additive` adds a
DerSimonian-Laird tau-squared to each unit's variance. Neither narrows the limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

Method = Literal["wilson", "arcsine", "exact"]
Overdispersion = Literal["none", "multiplicative", "additive"]
LEVELS = (0.95, 0.998)
FLAGS = ("high_99.8", "high_95", "inside", "low_95", "low_99.8")
Array = NDArray[np.float64]


def z_for(level: float) -> float:
    """Two-sided normal quantile: 1.96 for 95%, 3.09 for 99.8%."""
    return float(stats.norm.ppf(1 - (1 - level) / 2))


@dataclass(frozen=True)
class Dispersion:
    """Estimated overdispersion: phi (ratio) and tau-squared (additive), on the z scale."""

    phi: float
    tau2: float
    units: int


def _standard_error(target: float, n: Array, method: Method) -> Array:
    if method == "arcsine":
        return 1 / (2 * np.sqrt(n))
    return np.sqrt(target * (1 - target) / n)


def _transform(p: Array | float, method: Method) -> Array:
    return np.arcsin(np.sqrt(p)) if method == "arcsine" else np.asarray(p, dtype=float)


def _back(x: Array, method: Method) -> Array:
    if method == "arcsine":
        return np.sin(np.clip(x, 0, np.pi / 2)) ** 2
    return x


def z_scores(
    numerator: ArrayLike, denominator: ArrayLike, target: float, method: Method = "wilson"
) -> Array:
    """Each unit's distance from the target in standard errors (on the method's scale)."""
    n = np.asarray(denominator, dtype=float)
    p = np.asarray(numerator, dtype=float) / n
    scale_method: Method = "arcsine" if method == "arcsine" else "wilson"
    se = _standard_error(target, n, scale_method)
    return (_transform(p, scale_method) - _transform(target, scale_method)) / se


def estimate_dispersion(
    numerator: ArrayLike, denominator: ArrayLike, target: float, method: Method = "wilson"
) -> Dispersion:
    """Phi from z-scores Winsorised at 10%/90%, and the DerSimonian-Laird tau-squared."""
    n = np.asarray(denominator, dtype=float)
    valid = n > 0
    z = z_scores(np.asarray(numerator, dtype=float)[valid], n[valid], target, method)
    units = len(z)
    if units < 2:
        return Dispersion(1.0, 0.0, units)
    low, high = np.percentile(z, [10, 90])
    winsorised = np.clip(z, low, high)
    phi = float(np.mean(winsorised**2))
    scale_method: Method = "arcsine" if method == "arcsine" else "wilson"
    weights = 1 / _standard_error(target, n[valid], scale_method) ** 2
    denominator_dl = weights.sum() - (weights**2).sum() / weights.sum()
    tau2 = max(0.0, (units * phi - (units - 1)) / denominator_dl) if denominator_dl > 0 else 0.0
    return Dispersion(phi, tau2, units)


def _exact_limit(n: Array, target: float, probability: float) -> Array:
    """Spiegelhalter's interpolated binomial quantile, as a proportion."""
    out = np.full(n.shape, np.nan)
    for i, size in enumerate(n):
        if not np.isfinite(size) or size <= 0:
            continue
        trials = round(size)
        r = stats.binom.ppf(probability, trials, target)
        below = stats.binom.cdf(r - 1, trials, target)
        at = stats.binom.cdf(r, trials, target)
        alpha = (at - probability) / (at - below) if at > below else 0.0
        out[i] = (r - alpha) / size
    return np.clip(out, 0, 1)


def funnel_limits(
    denominator: ArrayLike,
    target: float,
    level: float,
    method: Method = "wilson",
    dispersion: Dispersion | None = None,
    overdispersion: Overdispersion = "none",
) -> tuple[Array, Array]:
    """Lower and upper control limits (proportions) at each denominator."""
    n = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "exact" and overdispersion == "none":
            tail = (1 - level) / 2
            return _exact_limit(n, target, tail), _exact_limit(n, target, 1 - tail)
        scale_method: Method = "arcsine" if method == "arcsine" else "wilson"
        z = z_for(level)
        se = _standard_error(target, n, scale_method)
        if overdispersion == "multiplicative" and dispersion is not None:
            se = se * np.sqrt(max(dispersion.phi, 1.0))
        elif overdispersion == "additive" and dispersion is not None:
            se = np.sqrt(se**2 + dispersion.tau2)
        centre = _transform(target, scale_method)
        lower = _back(centre - z * se, scale_method)
        upper = _back(centre + z * se, scale_method)
    return np.clip(lower, 0, 1), np.clip(upper, 0, 1)


def flag(value: Array, limits: dict[float, tuple[Array, Array]]) -> list[str | None]:
    """high_99.8, high_95, inside, low_95 or low_99.8; a point on a limit is inside."""
    low95, high95 = limits[0.95]
    low998, high998 = limits[0.998]
    out: list[str | None] = []
    for v, l95, h95, l998, h998 in zip(value, low95, high95, low998, high998, strict=True):
        if not np.isfinite(v) or not np.isfinite(l95):
            out.append(None)
        elif v > h998:
            out.append("high_99.8")
        elif v > h95:
            out.append("high_95")
        elif v < l998:
            out.append("low_99.8")
        elif v < l95:
            out.append("low_95")
        else:
            out.append("inside")
    return out


@dataclass(frozen=True)
class Funnel:
    """A funnel for a set of units: target, limits at each denominator, flags."""

    target: float
    proportion: Array
    limits: dict[float, tuple[Array, Array]]
    flags: list[str | None]
    dispersion: Dispersion | None
    method: Method
    overdispersion: Overdispersion


def funnel(
    numerator: ArrayLike,
    denominator: ArrayLike,
    *,
    method: Method = "wilson",
    overdispersion: Overdispersion = "none",
    target: float | None = None,
) -> Funnel:
    """Limits and flags for units; the target is the pooled proportion unless given."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    valid = den > 0
    if target is None:
        target = float(num[valid].sum() / den[valid].sum()) if valid.any() else float("nan")
    dispersion = (
        estimate_dispersion(num[valid], den[valid], target, method)
        if overdispersion != "none"
        else None
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        proportion = np.where(valid, num / den, np.nan)
    limits = {
        level: funnel_limits(
            np.where(valid, den, np.nan), target, level, method, dispersion, overdispersion
        )
        for level in LEVELS
    }
    return Funnel(
        target, proportion, limits, flag(proportion, limits), dispersion, method, overdispersion
    )
