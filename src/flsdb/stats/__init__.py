"""Benchmarking statistics: intervals, funnel plots and SPC charts (scipy and statsmodels)."""

from __future__ import annotations

from flsdb.stats.funnel import Funnel, estimate_dispersion, funnel, funnel_limits
from flsdb.stats.intervals import exact_interval, wilson_interval
from flsdb.stats.spc import Chart, Rules, RunAnalysis, p_chart, run_chart, xmr_chart

__all__ = [
    "Chart",
    "Funnel",
    "Rules",
    "RunAnalysis",
    "estimate_dispersion",
    "exact_interval",
    "funnel",
    "funnel_limits",
    "p_chart",
    "run_chart",
    "wilson_interval",
    "xmr_chart",
]
