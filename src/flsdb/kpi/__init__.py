"""KPIs: a declarative catalogue compiled to queries that run inside the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flsdb._lazy import lazy_exports

if TYPE_CHECKING:
    from flsdb.kpi.caseload import CaseloadEstimator, CrudeRateEstimator
    from flsdb.kpi.catalogue import Catalogue, Measure, load_catalogue
    from flsdb.kpi.engine import (
        KpiRequest,
        KpiResult,
        compute_kpis,
        compute_levels,
        level_results,
        query_counts,
    )
    from flsdb.kpi.periods import Period, parse_period
    from flsdb.kpi.sources import RecordSource, source_from_database, source_from_files

_HOMES = {
    "CaseloadEstimator": "caseload",
    "CrudeRateEstimator": "caseload",
    "Catalogue": "catalogue",
    "Measure": "catalogue",
    "load_catalogue": "catalogue",
    "KpiRequest": "engine",
    "KpiResult": "engine",
    "compute_kpis": "engine",
    "compute_levels": "engine",
    "level_results": "engine",
    "query_counts": "engine",
    "Period": "periods",
    "parse_period": "periods",
    "RecordSource": "sources",
    "source_from_database": "sources",
    "source_from_files": "sources",
}
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
    "level_results",
    "load_catalogue",
    "parse_period",
    "query_counts",
    "source_from_database",
    "source_from_files",
]
__getattr__ = lazy_exports(__name__, _HOMES)
