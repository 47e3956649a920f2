"""The KPI engine's entry point: a request in, one tidy table of KPI rows out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from flsdb.errors import ConfigurationError
from flsdb.kpi.caseload import CaseloadEstimator, CrudeRateEstimator
from flsdb.kpi.catalogue import Catalogue, load_catalogue
from flsdb.kpi.periods import Grain, Period
from flsdb.kpi.query import aggregate_counts
from flsdb.kpi.results import LEVELS, build_results
from flsdb.kpi.sources import RecordSource


@dataclass(frozen=True)
class KpiRequest:
    """What to compute: a period (optionally split), a level, the extract date."""

    period: Period
    by: str = "service"
    as_of: dt.date = field(default_factory=dt.date.today)
    interval: Grain | None = None
    kpis: tuple[str, ...] | None = None
    services: tuple[str, ...] | None = None


@dataclass(frozen=True)
class KpiResult:
    table: pd.DataFrame
    request: KpiRequest
    caseload_method: str
    records: int


def compute_kpis(
    source: RecordSource,
    request: KpiRequest,
    *,
    catalogue: Catalogue | None = None,
    estimator: CaseloadEstimator | None = None,
) -> KpiResult:
    """Compute the requested KPIs in the source's engine and shape them into result rows."""
    catalogue = catalogue or load_catalogue()
    estimator = estimator or CrudeRateEstimator()
    if request.by not in LEVELS:
        raise ConfigurationError(f"--by must be one of {', '.join(LEVELS)}; got '{request.by}'")
    wanted = set(request.kpis or catalogue.kpi_ids)
    unknown = wanted - set(catalogue.kpi_ids)
    if unknown:
        raise ConfigurationError(
            f"unknown KPI {', '.join(sorted(unknown))}; known: {', '.join(catalogue.kpi_ids)}"
        )
    measures = tuple(m for m in catalogue.measures if wanted & set(m.output_ids))
    only = list(request.services) if request.services else None
    if only:
        missing = set(only) - set(source.services["service_code"])
        if missing:
            raise ConfigurationError(f"unknown service {', '.join(sorted(missing))}")
    counts = aggregate_counts(
        source.table,
        source.backend,
        catalogue,
        measures,
        request.period,
        request.as_of,
        request.by,
        only,
    )
    table = build_results(
        counts,
        level=request.by,
        services=source.services,
        expected=estimator.estimate(source.services),
        catalogue=catalogue,
        measures=measures,
        period=request.period,
        interval=request.interval,
        only_services=only,
    )
    table = table[table["kpi"].isin(wanted)].reset_index(drop=True)
    return KpiResult(
        table=table,
        request=request,
        caseload_method=estimator.description,
        records=int(counts["records"].sum()) if len(counts) else 0,
    )
