"""Ranks with their uncertainty: each unit's 95% rank interval, by simulation.

A league table of point estimates puts a unit 12th that could as well be 3rd or 40th. Following
Marshall and Spiegelhalter (1998), each unit's proportion is drawn from its Jeffreys posterior,
Beta(x + 1/2, n - x + 1/2), the units are ranked in every draw (1 = best), and a unit's interval
runs from the 2.5th to the 97.5th percentile of its ranks. Units whose intervals overlap cannot be
told apart. A rate of observed over expected counts (identification) is drawn from the Jeffreys
posterior of a Poisson count, Gamma(x + 1/2) / expected, the same way. The draws use a fixed
seed, so the same counts always give the same intervals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DRAWS = 4000
SEED = 2024


def rank_intervals(
    numerators: Sequence[float],
    denominators: Sequence[float],
    higher_is_better: bool = True,
    level: float = 0.95,
    draws: int = DRAWS,
    rate: bool = False,
) -> list[tuple[int, int]]:
    """(best, worst) rank each unit could plausibly hold, in the order given; `rate`: the
    denominators are expected counts, not patients."""
    x = np.asarray(numerators, dtype=float)
    n = np.asarray(denominators, dtype=float)
    if len(x) == 0:
        return []
    rng = np.random.default_rng(SEED)
    if rate:
        samples = rng.gamma(x + 0.5, size=(draws, len(x))) / n
    else:
        samples = rng.beta(x + 0.5, n - x + 0.5, size=(draws, len(x)))
    keys = -samples if higher_is_better else samples
    # Rank within each draw: 1 + how many units are better in that draw.
    ranks = keys.argsort(axis=1).argsort(axis=1) + 1
    tail = (1 - level) / 2
    low = np.quantile(ranks, tail, axis=0, method="lower")
    high = np.quantile(ranks, 1 - tail, axis=0, method="higher")
    return [(int(a), int(b)) for a, b in zip(low, high, strict=True)]
