"""Benchmarking statistics: intervals for proportions."""

from __future__ import annotations

from flsdb.stats.intervals import exact_interval, wilson_interval

__all__ = ["exact_interval", "wilson_interval"]
