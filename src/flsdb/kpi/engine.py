"""The KPI engine's entry point: a request in, one tidy table of KPI rows out."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from flsdb.config import Thresholds, load_thresholds
from flsdb.errors import ConfigurationError
from flsdb.kpi.caseload import CaseloadEstimator, CrudeRateEstimator
from flsdb.kpi.catalogue import Catalogue, Measure, load_catalogue
from flsdb.kpi.periods import Grain, Period, check_extract_date
from flsdb.kpi.query import count_query, run_counts
from flsdb.kpi.results import BREAKDOWNS, LEVELS, build_results
from flsdb.kpi.sources import RecordSource
from flsdb.kpi.stored import counts_from_store


@dataclass(frozen=True)
class KpiRequest:
    """What to compute: a period (optionally split), a level, the extract date."""

    period: Period
    by: str = "service"
    as_of: dt.date = field(default_factory=dt.date.today)
    interval: Grain | None = None
    kpis: tuple[str, ...] | None = None
    services: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        check_extract_date(self.as_of)


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
    thresholds: Thresholds | None = None,
) -> KpiResult:
    """Compute the requested KPIs in the source's engine and shape them into result rows."""
    return compute_levels(
        source,
        request,
        (request.by,),
        catalogue=catalogue,
        estimator=estimator,
        thresholds=thresholds,
    )[request.by]


def _measures(catalogue: Catalogue, kpis: tuple[str, ...] | None) -> tuple[Measure, ...]:
    wanted = set(kpis or catalogue.kpi_ids)
    unknown = wanted - set(catalogue.kpi_ids)
    if unknown:
        raise ConfigurationError(
            f"unknown KPI {', '.join(sorted(unknown))}; known: {', '.join(catalogue.kpi_ids)}"
        )
    return tuple(m for m in catalogue.measures if wanted & set(m.output_ids))


def _check_services(source: RecordSource, services: tuple[str, ...] | None) -> list[str] | None:
    only = list(services) if services else None
    if only:
        missing = set(only) - set(source.services["service_code"])
        if missing:
            raise ConfigurationError(
                f"unknown service {', '.join(sorted(missing))}; the services table has "
                f"{len(source.services)} FLSs (see 'flsdb kpis --by service')"
            )
    return only


def query_counts(
    source: RecordSource,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    *,
    by: str = "service",
    kpis: tuple[str, ...] | None = None,
    catalogue: Catalogue | None = None,
) -> pd.DataFrame:
    """The engine's counts per service and month from start to end (for several periods at
    once: `compute_levels(..., counts=...)` takes the months of its period from them)."""
    catalogue = catalogue or load_catalogue()
    measures = _measures(catalogue, kpis)
    if catalogue is load_catalogue():  # a store keeps the packaged catalogue's counts
        stored = counts_from_store(source, start, end, as_of, by)
        if stored is not None:
            return stored
    return run_counts(
        *count_query(source.table, source.backend, catalogue, measures, start, end, as_of, by)
    )


def in_period(counts: pd.DataFrame, period: Period) -> pd.DataFrame:
    """The counts (by service and month) of the months of the period."""
    month = counts["year"].astype("int64") * 12 + counts["month"].astype("int64")
    first = period.start.year * 12 + period.start.month
    last = period.end.year * 12 + period.end.month
    return counts[(month >= first) & (month <= last)].reset_index(drop=True)


def compute_levels(
    source: RecordSource,
    request: KpiRequest,
    levels: tuple[str, ...],
    *,
    catalogue: Catalogue | None = None,
    estimator: CaseloadEstimator | None = None,
    thresholds: Thresholds | None = None,
    counts: pd.DataFrame | None = None,
) -> dict[str, KpiResult]:
    """Several of service, region and nation from one query (they roll up the same counts).

    `counts` from `query_counts` (over a window holding the period, with the same as_of and
    grouping) saves the query.
    """
    catalogue = catalogue or load_catalogue()
    thresholds = thresholds or load_thresholds()
    estimator = estimator or CrudeRateEstimator.from_thresholds(thresholds)
    bad = [level for level in levels if level not in LEVELS]
    if bad:
        raise ConfigurationError(f"--by must be one of {', '.join(LEVELS)}; got '{bad[0]}'")
    if len(levels) > 1 and set(levels) - {"service", "region", "nation"}:
        raise ConfigurationError("only service, region and nation can share one query")
    measures = _measures(catalogue, request.kpis)
    wanted = set(request.kpis or catalogue.kpi_ids)
    only = _check_services(source, request.services)
    if counts is None and catalogue is load_catalogue():
        counts = counts_from_store(
            source, request.period.start, request.period.end, request.as_of, levels[0], only
        )
    if counts is None:
        counts = run_counts(
            *count_query(
                source.table,
                source.backend,
                catalogue,
                measures,
                request.period.start,
                request.period.end,
                request.as_of,
                levels[0],
                only,
            )
        )
    else:
        counts = in_period(counts, request.period)
        if only:
            counts = counts[counts["service_code"].isin(only)].reset_index(drop=True)
    expected = estimator.estimate(source.services)
    results = {}
    for level in levels:
        table = build_results(
            counts,
            level=level,
            services=source.services,
            expected=expected,
            catalogue=catalogue,
            thresholds=thresholds,
            measures=measures,
            period=request.period,
            interval=request.interval,
            only_services=only,
            as_of=request.as_of,
        )
        results[level] = KpiResult(
            table=table[table["kpi"].isin(wanted)].reset_index(drop=True),
            request=dataclasses.replace(request, by=level),
            caseload_method=estimator.description,
            records=int(counts["records"].sum()) if len(counts) else 0,
            counts=counts,
        )
    return results


def level_results(
    source: RecordSource,
    period: Period,
    as_of: dt.date,
    thresholds: Thresholds,
    counts: pd.DataFrame | None = None,
    breakdown_counts: Callable[[str], pd.DataFrame | None] | None = None,
) -> dict[str, KpiResult]:
    """Every level's KPI results for the period: service, region and nation rolled up from one
    set of counts (`counts`, else one query), and each breakdown (age band, sex, care home) from
    its own (`breakdown_counts(level)`, else a query each). The reports' figures and the web's
    maintained figures both come from here."""
    results = compute_levels(
        source,
        KpiRequest(period, as_of=as_of),
        ("service", "region", "nation"),
        thresholds=thresholds,
        counts=counts,
    )
    for level in BREAKDOWNS:
        found = breakdown_counts(level) if breakdown_counts else None
        results[level] = compute_levels(
            source,
            KpiRequest(period, by=level, as_of=as_of),
            (level,),
            thresholds=thresholds,
            counts=found,
        )[level]
    return results
