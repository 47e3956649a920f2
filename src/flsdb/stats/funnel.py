"""Funnel-plot control limits for proportions, and where each unit falls.

Methods (Spiegelhalter 2005, "Funnel plots for comparing institutional performance"; the UK
public health indicator methods for `wilson`):

- `wilson`: the observed proportions whose Wilson score interval just reaches the target, which
  is target +/- z * sqrt(target (1 - target) / n) (the public health indicator funnel).
- `arcsine`: the arcsine square-root transform, sin^2(asin(sqrt(target)) +/- z / (2 sqrt(n))).
- `exact`: binomial quantiles of Binomial(n, target), interpolated to a continuous limit.

Overdispersion (Spiegelhalter 2005, section 4, as FunnelPlotR does for proportions): z-scores
Winsorised at the 10th and 90th percentiles give phi; `multiplicative` widens limits by
sqrt(phi), `additive` adds a DerSimonian-Laird tau-squared to each unit's variance. When phi is
1 or less there is no overdispersion and the limits are the unadjusted ones.

Outliers, as the national clinical audit outlier guidance names them: "alert" beyond the inner
(95%) limit, "alarm" beyond the outer (99.8%) limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from flsdb.stats.intervals import z_for

Method = Literal["wilson", "arcsine", "exact"]
Overdispersion = Literal["none", "multiplicative", "additive"]
LEVELS = (0.95, 0.998)
FLAGS = ("high_alarm", "high_alert", "inside", "low_alert", "low_alarm")
Array = NDArray[np.float64]


@dataclass(frozen=True)
class Dispersion:
    """Estimated overdispersion: phi (ratio) and tau-squared (additive), on the z scale."""

    phi: float
    tau2: float
    units: int

    @property
    def present(self) -> bool:
        """Limits are widened only when phi is above 1."""
        return self.phi > 1


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
    numerator: ArrayLike,
    denominator: ArrayLike,
    target: float,
    method: Method = "wilson",
    winsorise: float = 0.10,
) -> Dispersion:
    """Phi from z-scores Winsorised at winsorise/1 - winsorise, and the DerSimonian-Laird
    tau-squared (0 when phi <= 1: no overdispersion to allow for)."""
    n = np.asarray(denominator, dtype=float)
    num = np.asarray(numerator, dtype=float)[n > 0]
    n = n[n > 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = z_scores(num, n, target, method)
    n = n[np.isfinite(z)]
    z = z[np.isfinite(z)]
    units = len(z)
    if units < 2:
        return Dispersion(1.0, 0.0, units)
    low, high = np.percentile(z, [100 * winsorise, 100 * (1 - winsorise)])
    winsorised = np.clip(z, low, high)
    phi = float(np.mean(winsorised**2))
    scale_method: Method = "arcsine" if method == "arcsine" else "wilson"
    weights = 1 / _standard_error(target, n, scale_method) ** 2
    denominator_dl = weights.sum() - (weights**2).sum() / weights.sum()
    tau2 = 0.0
    if phi > 1 and denominator_dl > 0:
        tau2 = max(0.0, (units * phi - (units - 1)) / denominator_dl)
    return Dispersion(phi, tau2, units)


def _exact_limit(n: Array, target: float, probability: float) -> Array:
    """Spiegelhalter's interpolated binomial quantile, as a proportion."""
    # lazy: scipy.stats (~0.9 s) only for exact limits; the Wilson and arcsine ones need none
    from scipy import stats

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
        adjusted = overdispersion != "none" and dispersion is not None and dispersion.present
        if method == "exact" and not adjusted:
            tail = (1 - level) / 2
            return _exact_limit(n, target, tail), _exact_limit(n, target, 1 - tail)
        scale_method: Method = "arcsine" if method == "arcsine" else "wilson"
        z = z_for(level)
        se = _standard_error(target, n, scale_method)
        if adjusted and overdispersion == "multiplicative":
            se = se * np.sqrt(dispersion.phi)  # type: ignore[union-attr]
        elif adjusted and overdispersion == "additive":
            se = np.sqrt(se**2 + dispersion.tau2)  # type: ignore[union-attr]
        centre = _transform(target, scale_method)
        lower = _back(centre - z * se, scale_method)
        upper = _back(centre + z * se, scale_method)
    return np.clip(lower, 0, 1), np.clip(upper, 0, 1)


def flag(
    value: Array, limits: dict[float, tuple[Array, Array]], levels: tuple[float, float] = LEVELS
) -> list[str | None]:
    """high_alarm, high_alert, inside, low_alert or low_alarm; a point on a limit is inside."""
    low_alert, high_alert = limits[levels[0]]
    low_alarm, high_alarm = limits[levels[1]]
    out: list[str | None] = []
    for v, l1, h1, l2, h2 in zip(value, low_alert, high_alert, low_alarm, high_alarm, strict=True):
        if not np.isfinite(v) or not np.isfinite(l1):
            out.append(None)
        elif v > h2:
            out.append("high_alarm")
        elif v > h1:
            out.append("high_alert")
        elif v < l2:
            out.append("low_alarm")
        elif v < l1:
            out.append("low_alert")
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
    levels: tuple[float, float] = LEVELS

    @property
    def adjusted(self) -> bool:
        """Whether the limits were widened for overdispersion (phi above 1)."""
        return (
            self.overdispersion != "none"
            and self.dispersion is not None
            and self.dispersion.present
        )

    def limits_at(self, denominator: ArrayLike, level: float) -> tuple[Array, Array]:
        """The same limits at other denominators (to draw the funnel's curves)."""
        return funnel_limits(
            denominator, self.target, level, self.method, self.dispersion, self.overdispersion
        )

    def describe(self) -> str:
        """Method, target, phi and tau-squared in one line."""
        words = {
            "wilson": "normal approximation (Wilson)",
            "arcsine": "arcsine square-root",
            "exact": "exact binomial",
        }[self.method]
        text = f"{words} limits around the national value {self.target:.1%}"
        if self.overdispersion == "none" or self.dispersion is None:
            return text + "; not adjusted for overdispersion"
        phi = self.dispersion.phi
        if not self.dispersion.present:
            return text + f"; phi {phi:.2f} (no overdispersion), so not adjusted"
        if self.overdispersion == "multiplicative":
            return text + f"; widened by sqrt(phi) for overdispersion, phi {phi:.2f}"
        return (
            text + f"; additive random effects for overdispersion, phi {phi:.2f}, "
            f"tau-squared {self.dispersion.tau2:.4g}"
        )


def funnel(
    numerator: ArrayLike,
    denominator: ArrayLike,
    *,
    method: Method = "wilson",
    overdispersion: Overdispersion = "none",
    target: float | None = None,
    levels: tuple[float, float] = LEVELS,
    winsorise: float = 0.10,
) -> Funnel:
    """Limits and flags for units; the target is the pooled proportion unless given."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    valid = den > 0
    if target is None:
        target = float(num[valid].sum() / den[valid].sum()) if valid.any() else float("nan")
    dispersion = (
        estimate_dispersion(num[valid], den[valid], target, method, winsorise)
        if overdispersion != "none"
        else None
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        proportion = np.where(valid, num / den, np.nan)
    limits = {
        level: funnel_limits(
            np.where(valid, den, np.nan), target, level, method, dispersion, overdispersion
        )
        for level in levels
    }
    return Funnel(
        target,
        proportion,
        limits,
        flag(proportion, limits, levels),
        dispersion,
        method,
        overdispersion,
        levels,
    )
