"""Benchmarking statistics: intervals, funnel plots, SPC charts and inequity (NumPy; SciPy is
imported by the few functions that need its quantiles)."""

from __future__ import annotations

from flsdb.stats.funnel import Funnel, estimate_dispersion, funnel, funnel_limits
from flsdb.stats.intervals import (
    exact_interval,
    newcombe_difference,
    poisson_ratio_interval,
    wilson_interval,
)
from flsdb.stats.spc import (
    Chart,
    Rules,
    RunAnalysis,
    assurance_icon,
    laney_p_chart,
    p_chart,
    run_chart,
    variation_icon,
    xmr_chart,
)

__all__ = [
    "Chart",
    "Funnel",
    "Rules",
    "RunAnalysis",
    "assurance_icon",
    "estimate_dispersion",
    "exact_interval",
    "funnel",
    "funnel_limits",
    "laney_p_chart",
    "newcombe_difference",
    "p_chart",
    "poisson_ratio_interval",
    "run_chart",
    "variation_icon",
    "wilson_interval",
    "xmr_chart",
]
