"""Thresholds: every number an audit team tunes (RAG, suppression, caseload, outliers, SPC).

The packaged `thresholds.yaml` holds the defaults; a user's file of the same shape is read over
them (`load_thresholds(path)`), and what was used is cited in every report.
"""

from __future__ import annotations

from flsdb.config.model import (
    FunnelSettings,
    Rag,
    Recommendation,
    SpcSettings,
    Suppression,
    Thresholds,
    load_thresholds,
)

__all__ = [
    "FunnelSettings",
    "Rag",
    "Recommendation",
    "SpcSettings",
    "Suppression",
    "Thresholds",
    "load_thresholds",
]
