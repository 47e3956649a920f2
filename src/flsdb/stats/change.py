"""Tests of change between two periods: a proportion (two-proportion z-test, pooled) and a rate
of observed over expected counts (z-test on the log of the ratio of the two rates).

Both are two-sided and large-sample; the reports state them and apply them to last year's and
this year's published national counts. A test needs counts on both sides: none when a count is
missing, withheld or a denominator is 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


@dataclass(frozen=True)
class Change:
    """A test of change from an earlier value to a later one."""

    difference: float  # later minus earlier: points for a proportion, ratio points for a rate
    z: float
    p: float  # two-sided

    def significant(self, alpha: float = 0.05) -> bool:
        return self.p < alpha


def _two_sided(z: float) -> float:
    return 2 * (1 - NormalDist().cdf(abs(z)))


def two_proportions(x1: float, n1: float, x2: float, n2: float) -> Change | None:
    """From x1 of n1 (earlier) to x2 of n2 (later): z = (p2 - p1) / sqrt(p (1 - p) (1/n1 + 1/n2))
    with p the pooled proportion (x1 + x2) / (n1 + n2). None without counts; z = 0 (p = 1) when
    both proportions are 0 or both 1."""
    if n1 <= 0 or n2 <= 0 or not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        return None
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return Change((p2 - p1) * 100, 0.0, 1.0)
    z = (p2 - p1) / math.sqrt(variance)
    return Change((p2 - p1) * 100, z, _two_sided(z))


def two_rates(o1: float, e1: float, o2: float, e2: float) -> Change | None:
    """From o1 observed over e1 expected (earlier) to o2 over e2 (later):
    z = ln((o2 / e2) / (o1 / e1)) / sqrt(1 / o1 + 1 / o2), the Poisson log rate-ratio test.
    None without counts or when either observed count is 0."""
    if min(o1, o2) <= 0 or min(e1, e2) <= 0:
        return None
    z = math.log((o2 / e2) / (o1 / e1)) / math.sqrt(1 / o1 + 1 / o2)
    return Change((o2 / e2 - o1 / e1) * 100, z, _two_sided(z))
