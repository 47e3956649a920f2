"""Statistical process control: p-charts, XmR charts, Making Data Count rules, run charts.

- p-chart: centre = pooled proportion over the baseline points; limits centre +/- 3 sqrt(p(1-p)/n_i)
  for each point, clipped to [0, 1].
- p' chart (Laney 2002): the p-chart's sigma for each point times sigma_z, the average moving
  range of the baseline points' z-scores over 1.128; for large denominators, where the p-chart's
  limits are too narrow because the proportion itself varies from month to month.
- XmR: centre = mean of the baseline; limits centre +/- 2.66 x mean moving range (optionally
  screening out moving ranges above 3.267 x their mean, then recomputing it).
- Making Data Count (NHS England) rules: a point outside the limits; a shift of 7 points on one
  side of the centre (a point on the centre breaks it); a trend of 7 points each strictly above
  (or below) the one before; 2 of 3 points beyond two-thirds of the way to a limit on one side.
- Run chart (Anhoej): longest run about the median longer than round(log2(n)) + 3, or fewer
  crossings than the 5th percentile of Binomial(n - 1, 0.5), with n the points not on the median.
- Making Data Count icons: variation from the latest point (special cause improvement or concern,
  high or low, else common cause); assurance from the latest limits against a target (limits
  wholly on the good side: the target is consistently met; wholly on the bad side: consistently
  missed; across it: hit and miss).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Direction = Literal["higher", "lower", "neither"]
Array = NDArray[np.float64]
XMR_CONSTANT = 2.66  # 3 / d2, d2 = 1.128 for moving ranges of two points
MR_SCREEN = 3.267  # upper range limit: D4 for n = 2


@dataclass(frozen=True)
class Rules:
    """Run lengths are parameters: Making Data Count uses 7, some audits use 6 or 8."""

    shift: int = 7
    trend: int = 7
    two_of_three: bool = True


Baseline = int | tuple[int, int] | None
D2 = 1.128  # d2 for moving ranges of two points


@dataclass
class Chart:
    """A chart's lines per point, which rules fired at each point, and what they mean."""

    values: Array
    centre: Array
    lower: Array
    upper: Array
    signals: list[list[str]] = field(default_factory=list)
    sides: list[int] = field(default_factory=list)
    baseline: slice = field(default_factory=lambda: slice(0, None))
    sigma_z: float | None = None  # Laney's p' chart only

    def labels(self, direction: Direction) -> list[str]:
        """improvement, concern or neutral for each point, by the measure's better direction."""
        out = []
        for rules, side in zip(self.signals, self.sides, strict=True):
            if not rules or side == 0 or direction == "neither":
                out.append("neutral")
            elif (side > 0) == (direction == "higher"):
                out.append("improvement")
            else:
                out.append("concern")
        return out

    def signal_text(self) -> list[str]:
        return [";".join(s) for s in self.signals]


def _baseline(length: int, baseline: Baseline) -> slice:
    """The points the centre and limits come from: the first n, a (start, stop) range of
    indexes, or all of them."""
    if baseline is None:
        return slice(0, length)
    if isinstance(baseline, tuple):
        start = max(0, min(baseline[0], length - 1))
        return slice(start, max(start + 1, min(baseline[1], length)))
    return slice(0, max(1, min(baseline, length)))


def p_chart(
    numerator: ArrayLike,
    denominator: ArrayLike,
    baseline: Baseline = None,
    rules: Rules | None = None,
) -> Chart:
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    base = _baseline(len(num), baseline)
    centre_value = num[base].sum() / den[base].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(den > 0, num / den, np.nan)
        sigma = np.sqrt(centre_value * (1 - centre_value) / den)
    centre = np.full(len(num), centre_value)
    chart = Chart(
        values,
        centre,
        np.clip(centre - 3 * sigma, 0, 1),
        np.clip(centre + 3 * sigma, 0, 1),
        baseline=base,
    )
    return apply_rules(chart, rules or Rules())


def laney_p_chart(
    numerator: ArrayLike,
    denominator: ArrayLike,
    baseline: Baseline = None,
    rules: Rules | None = None,
) -> Chart:
    """Laney's p' chart: p-chart limits widened (or narrowed) by sigma_z."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    base = _baseline(len(num), baseline)
    centre_value = num[base].sum() / den[base].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(den > 0, num / den, np.nan)
        sigma = np.sqrt(centre_value * (1 - centre_value) / den)
        z = (values - centre_value) / sigma
    moving = np.abs(np.diff(z[base]))
    moving = moving[np.isfinite(moving)]
    sigma_z = float(moving.mean() / D2) if len(moving) else 1.0
    centre = np.full(len(num), centre_value)
    half = 3 * sigma * sigma_z
    chart = Chart(
        values,
        centre,
        np.clip(centre - half, 0, 1),
        np.clip(centre + half, 0, 1),
        baseline=base,
        sigma_z=sigma_z,
    )
    return apply_rules(chart, rules or Rules())


def xmr_chart(
    values: ArrayLike, baseline: Baseline = None, screen: bool = False, rules: Rules | None = None
) -> Chart:
    x = np.asarray(values, dtype=float)
    base = x[_baseline(len(x), baseline)]
    moving = np.abs(np.diff(base))
    mean_range = moving.mean() if len(moving) else 0.0
    if screen and len(moving):
        kept = moving[moving <= MR_SCREEN * mean_range]
        mean_range = kept.mean() if len(kept) else mean_range
    centre_value = base.mean()
    centre = np.full(len(x), centre_value)
    chart = Chart(
        x,
        centre,
        centre - XMR_CONSTANT * mean_range,
        centre + XMR_CONSTANT * mean_range,
        baseline=_baseline(len(x), baseline),
    )
    return apply_rules(chart, rules or Rules())


def _runs(sides: NDArray[np.int64], length: int) -> NDArray[np.bool_]:
    """Points in a run of at least `length` consecutive equal non-zero sides."""
    marked = np.zeros(len(sides), dtype=bool)
    start = 0
    for i in range(1, len(sides) + 1):
        if i == len(sides) or sides[i] != sides[start] or sides[i] == 0:
            if sides[start] != 0 and i - start >= length:
                marked[start:i] = True
            start = i
    return marked


def apply_rules(chart: Chart, rules: Rules) -> Chart:
    """Mark each point with the rules it takes part in, and the side it signals on."""
    x, centre, lower, upper = chart.values, chart.centre, chart.lower, chart.upper
    n = len(x)
    signals: list[list[str]] = [[] for _ in range(n)]
    sides = [0] * n
    finite = np.isfinite(x)

    def mark(i: int, rule: str, side: int) -> None:
        if rule not in signals[i]:
            signals[i].append(rule)
        sides[i] = side

    for i in np.flatnonzero(finite & (x > upper)):
        mark(int(i), "outside", 1)
    for i in np.flatnonzero(finite & (x < lower)):
        mark(int(i), "outside", -1)
    side_of_centre = np.where(~finite, 0, np.sign(np.round(x - centre, 12))).astype(np.int64)
    for i in np.flatnonzero(_runs(side_of_centre, rules.shift)):
        mark(int(i), "shift", int(side_of_centre[i]))
    steps = np.zeros(n, dtype=np.int64)
    diffs = np.diff(x)
    steps[1:] = np.where(np.isfinite(diffs), np.sign(np.nan_to_num(diffs)), 0)
    # A trend of k points is k - 1 strict steps in one direction; mark the points, not the steps.
    in_trend = _runs(steps, rules.trend - 1)
    for step in (int(k) for k in np.flatnonzero(in_trend)):
        for point in (step - 1, step):
            mark(point, "trend", int(steps[step]))
    if rules.two_of_three:
        with np.errstate(invalid="ignore"):
            high = finite & (x > centre + 2 / 3 * (upper - centre))
            low = finite & (x < centre - 2 / 3 * (centre - lower))
        for side, beyond in ((1, high), (-1, low)):
            for start in range(n - 2):
                window = beyond[start : start + 3]
                if window.sum() >= 2:
                    for offset in np.flatnonzero(window):
                        mark(start + int(offset), "two_of_three", side)
    chart.signals = signals
    chart.sides = sides
    return chart


@dataclass(frozen=True)
class RunAnalysis:
    median: float
    useful: int
    longest_run: int
    run_limit: int
    crossings: int
    crossing_limit: int

    @property
    def shift(self) -> bool:
        return self.longest_run > self.run_limit

    @property
    def too_few_crossings(self) -> bool:
        return self.crossings < self.crossing_limit

    @property
    def signal(self) -> bool:
        return self.shift or self.too_few_crossings


def run_chart(values: ArrayLike, baseline: Baseline = None) -> tuple[RunAnalysis, Chart]:
    """Anhoej's rules on a run chart about the median (of the baseline points)."""
    x = np.asarray(values, dtype=float)
    median = float(np.nanmedian(x[_baseline(len(x), baseline)]))
    sides = np.sign(x[np.isfinite(x)] - median)
    useful = sides[sides != 0]
    n = len(useful)
    longest = 0
    current = 0
    for i, side in enumerate(useful):
        current = current + 1 if i and side == useful[i - 1] else 1
        longest = max(longest, current)
    crossings = int((useful[1:] != useful[:-1]).sum()) if n > 1 else 0
    run_limit = round(np.log2(n)) + 3 if n else 0
    crossing_limit = _binomial_quantile(0.05, n - 1) if n > 1 else 0
    analysis = RunAnalysis(median, n, longest, run_limit, crossings, crossing_limit)
    centre = np.full(len(x), median)
    chart = Chart(x, centre, np.full(len(x), np.nan), np.full(len(x), np.nan))
    point_sides = np.where(~np.isfinite(x), 0, np.sign(x - median)).astype(np.int64)
    marked = _runs(point_sides, run_limit + 1) if n else np.zeros(len(x), dtype=bool)
    chart.signals = [["run"] if m else [] for m in marked]
    chart.sides = [int(s) if m else 0 for s, m in zip(point_sides, marked, strict=True)]
    if analysis.too_few_crossings:
        chart.signals = [[*s, "crossings"] for s in chart.signals]
    return analysis, chart


def _binomial_quantile(probability: float, trials: int) -> int:
    """The smallest k with P(Binomial(trials, 0.5) <= k) >= probability (as qbinom)."""
    total = 0.0
    for k in range(trials + 1):
        total += math.comb(trials, k) / 2**trials
        if total >= probability - 1e-12:
            return k
    return trials


Variation = Literal[
    "common",
    "improvement_high",
    "improvement_low",
    "concern_high",
    "concern_low",
    "neither_high",
    "neither_low",
]
Assurance = Literal["pass", "fail", "hit_and_miss"]


def variation_icon(chart: Chart, direction: Direction) -> Variation:
    """Making Data Count variation icon for the latest point with a value."""
    points = [i for i in range(len(chart.values)) if np.isfinite(chart.values[i])]
    if not points:
        return "common"
    last = points[-1]
    label = chart.labels(direction)[last]
    if label == "neutral" and not chart.signals[last]:
        return "common"
    side = "high" if chart.sides[last] > 0 else "low"
    kind = {"improvement": "improvement", "concern": "concern"}.get(label, "neither")
    return f"{kind}_{side}"  # type: ignore[return-value]


def assurance_icon(chart: Chart, target: float | None, direction: Direction) -> Assurance | None:
    """Making Data Count assurance icon: the latest limits against the target."""
    if target is None or direction == "neither":
        return None
    points = [i for i in range(len(chart.values)) if np.isfinite(chart.values[i])]
    if not points:
        return None
    lower, upper = float(chart.lower[points[-1]]), float(chart.upper[points[-1]])
    if not (np.isfinite(lower) and np.isfinite(upper)):
        return None
    good_low, good_high = (lower, upper) if direction == "higher" else (-upper, -lower)
    goal = target if direction == "higher" else -target
    if good_low > goal:
        return "pass"
    if good_high < goal:
        return "fail"
    return "hit_and_miss"
