"""Inequity between FLSs for one KPI: spread of their values and who is outside the funnel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from flsdb.stats.funnel import LEVELS, Funnel, Method, Overdispersion, funnel


@dataclass(frozen=True)
class Inequity:
    """Spread of unit percentages (units with a denominator that may be shown), and the funnel
    of every unit against the target."""

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
    shown: tuple[bool, ...]

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
        """Units with one of the flags, among those that may be shown."""
        return [
            n
            for n, f, s in zip(self.names, self.funnel.flags, self.shown, strict=True)
            if f in flags and s
        ]

    def flag_of(self, name: str) -> str | None:
        return self.funnel.flags[self.names.index(name)] if name in self.names else None


def inequity(
    names: ArrayLike,
    numerator: ArrayLike,
    denominator: ArrayLike,
    target: float | None = None,
    *,
    method: Method = "wilson",
    overdispersion: Overdispersion = "none",
    levels: tuple[float, float] = LEVELS,
    winsorise: float = 0.10,
    shown: ArrayLike | None = None,
) -> Inequity:
    """Median, IQR, range and 90/10 ratio of the percentages of the units that may be shown,
    and the funnel of all units against the target."""
    labels = tuple(str(n) for n in np.asarray(names))
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    visible = np.ones(len(labels), dtype=bool) if shown is None else np.asarray(shown, dtype=bool)
    result = funnel(
        num,
        den,
        target=target,
        method=method,
        overdispersion=overdispersion,
        levels=levels,
        winsorise=winsorise,
    )
    proportion = result.proportion
    values = proportion[np.isfinite(proportion) & visible] * 100
    spread: list[float | None] = [None] * 7
    if len(values):
        q = np.percentile(values, [10, 25, 50, 75, 90])
        spread = [
            float(q[2]), float(q[1]), float(q[3]), float(values.min()), float(values.max()),
            float(q[0]), float(q[4]),
        ]  # fmt: skip
    median, q1, q3, minimum, maximum, p10, p90 = spread
    return Inequity(
        units=len(values),
        median=median,
        q1=q1,
        q3=q3,
        minimum=minimum,
        maximum=maximum,
        p10=p10,
        p90=p90,
        funnel=result,
        names=labels,
        denominators=tuple(den.tolist()),
        shown=tuple(bool(v) for v in visible),
    )
