"""The KPI engine's entry point: a request in, one tidy table of KPI rows out."""

from __future__ import annotations

import dataclasses
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
    counts: pd.DataFrame | None = None  # the engine's counts, for detail tables


def compute_kpis(
    source: RecordSource,
    request: KpiRequest,
    *,
    catalogue: Catalogue | None = None,
    estimator: CaseloadEstimator | None = None,
) -> KpiResult:
    """Compute the requested KPIs in the source's engine and shape them into result rows."""
    return compute_levels(source, request, (request.by,), catalogue=catalogue, estimator=estimator)[
        request.by
    ]


def compute_levels(
    source: RecordSource,
    request: KpiRequest,
    levels: tuple[str, ...],
    *,
    catalogue: Catalogue | None = None,
    estimator: CaseloadEstimator | None = None,
) -> dict[str, KpiResult]:
    """Several of service, region and nation from one query (they roll up the same counts)."""
    catalogue = catalogue or load_catalogue()
    estimator = estimator or CrudeRateEstimator()
    bad = [level for level in levels if level not in LEVELS]
    if bad:
        raise ConfigurationError(f"--by must be one of {', '.join(LEVELS)}; got '{bad[0]}'")
    if len(levels) > 1 and set(levels) - {"service", "region", "nation"}:
        raise ConfigurationError("only service, region and nation can share one query")
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
        levels[0],
        only,
    )
    expected = estimator.estimate(source.services)
    results = {}
    for level in levels:
        table = build_results(
            counts,
            level=level,
            services=source.services,
            expected=expected,
            catalogue=catalogue,
            measures=measures,
            period=request.period,
            interval=request.interval,
            only_services=only,
        )
        results[level] = KpiResult(
            table=table[table["kpi"].isin(wanted)].reset_index(drop=True),
            request=dataclasses.replace(request, by=level),
            caseload_method=estimator.description,
            records=int(counts["records"].sum()) if len(counts) else 0,
            counts=counts,
        )
    return results
