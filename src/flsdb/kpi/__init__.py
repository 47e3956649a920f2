"""KPIs: a declarative catalogue compiled to queries that run inside the engine."""

from __future__ import annotations

from flsdb.kpi.caseload import CaseloadEstimator, CrudeRateEstimator
from flsdb.kpi.catalogue import Catalogue, Measure, load_catalogue
from flsdb.kpi.engine import KpiRequest, KpiResult, compute_kpis, compute_levels
from flsdb.kpi.periods import Period, parse_period
from flsdb.kpi.sources import RecordSource, source_from_database, source_from_files

__all__ = [
    "CaseloadEstimator",
    "Catalogue",
    "CrudeRateEstimator",
    "KpiRequest",
    "KpiResult",
    "Measure",
    "Period",
    "RecordSource",
    "compute_kpis",
    "compute_levels",
    "load_catalogue",
    "parse_period",
    "source_from_database",
    "source_from_files",
]
