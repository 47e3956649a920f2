"""Inequity between FLSs for one KPI: spread of their values and who is outside the funnel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from flsdb.stats.funnel import Funnel, funnel


@dataclass(frozen=True)
class Inequity:
    """Spread of unit percentages (units with a denominator only), and funnel outliers."""

    units: int
    median: float | None
    q1: float | None
    q3: float | None
    minimum: float | None
    maximum: float | None
    p10: float | None
    p90: float | None
    funnel: Funnel
    names: tuple[str, ...]
    denominators: tuple[float, ...]

    @property
    def iqr(self) -> float | None:
        return None if self.q1 is None or self.q3 is None else self.q3 - self.q1

    @property
    def ratio_90_10(self) -> float | None:
        """90th over 10th percentile; none when the 10th percentile is 0."""
        if self.p10 is None or self.p90 is None or self.p10 <= 0:
            return None
        return self.p90 / self.p10

    def outside(self, *flags: str) -> list[str]:
        return [n for n, f in zip(self.names, self.funnel.flags, strict=True) if f in flags]


def inequity(
    names: ArrayLike, numerator: ArrayLike, denominator: ArrayLike, target: float | None = None
) -> Inequity:
    """Median, IQR, range and 90/10 ratio of unit percentages, and the funnel against target."""
    labels = tuple(str(n) for n in np.asarray(names))
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    result = funnel(num, den, target=target)
    values = result.proportion[np.isfinite(result.proportion)] * 100
    if len(values) == 0:
        return Inequity(
            0, None, None, None, None, None, None, None, result, labels, tuple(den.tolist())
        )
    q = np.percentile(values, [10, 25, 50, 75, 90])
    return Inequity(
        units=len(values),
        median=float(q[2]),
        q1=float(q[1]),
        q3=float(q[3]),
        minimum=float(values.min()),
        maximum=float(values.max()),
        p10=float(q[0]),
        p90=float(q[4]),
        funnel=result,
        names=labels,
        denominators=tuple(den.tolist()),
    )
