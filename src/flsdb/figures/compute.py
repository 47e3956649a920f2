"""The figures of a period, computed once (`compute_figures`): KPIs per level and year, monthly
series, funnels, treatment mix, completeness, and the published (disclosure-controlled) copies of
each; and the intruder's audit of what will be published (`audited`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

import pandas as pd

from flsdb.config import Suppression, Thresholds, load_thresholds
from flsdb.disclosure import audit_tables, protect_mix, protect_tables
from flsdb.errors import FlsdbError
from flsdb.figures import passed
from flsdb.figures.kept import Kept
from flsdb.figures.model import FUNNEL_KPIS, PerFls, PeriodFigures
from flsdb.figures.relaxed import relaxed
from flsdb.kpi import (
    KpiRequest,
    compute_levels,
    level_results,
    load_catalogue,
    parse_period,
    query_counts,
)
from flsdb.kpi.caseload import CrudeRateEstimator
from flsdb.kpi.casemix import counts_by_field
from flsdb.kpi.catalogue import Catalogue
from flsdb.kpi.completeness import completeness_by_field
from flsdb.kpi.engine import KpiResult, in_period
from flsdb.kpi.groups import per_fls_groups
from flsdb.kpi.mix import MIX_GROUPS, treatment_mix
from flsdb.kpi.periods import Period
from flsdb.kpi.results import BREAKDOWNS
from flsdb.kpi.sources import RecordSource, in_memory
from flsdb.kpi.terms import catalogue_layout
from flsdb.stats.inequity import Inequity, inequity


def _spc_months(period: Period, months: int) -> list[str]:
    end = period.end.year * 12 + period.end.month - 1
    return [f"{m // 12}-{m % 12 + 1:02d}" for m in range(end - months + 1, end + 1)]


def _monthly(
    source: RecordSource,
    counts: pd.DataFrame,
    period: Period,
    as_of: dt.date,
    thresholds: Thresholds,
    settled: Settled | None = None,
) -> dict[str, pd.DataFrame]:
    """Monthly KPI rows per service and nationally over the SPC window (a year settled at the
    extract date from `settled`, when given: see `Maintained`)."""
    window = _spc_months(period, thresholds.spc.months)
    frames: dict[str, list[pd.DataFrame]] = {"service": [], "nation": []}
    last_settled = (as_of - dt.timedelta(days=max(catalogue_layout().cutoffs, default=0))).year - 1
    for year in sorted({int(m[:4]) for m in window}):

        def rows(year: int = year) -> dict[str, pd.DataFrame]:
            request = KpiRequest(
                parse_period(str(year)), as_of=as_of, interval="month", kpis=FUNNEL_KPIS
            )
            results = compute_levels(
                source, request, ("service", "nation"), thresholds=thresholds, counts=counts
            )
            return {level: result.table for level, result in results.items()}

        found = settled(year, rows) if settled is not None and year <= last_settled else rows()
        for level, table in found.items():
            frames[level].append(table)
    out = {}
    for level, parts in frames.items():
        table = pd.concat(parts, ignore_index=True)
        out[level] = table[table["period"].isin(window)].reset_index(drop=True)
    return out


def _first_year(counts: pd.DataFrame, period: Period) -> int:
    years = counts.loc[counts["records"] > 0, "year"]
    return int(years.min()) if len(years) else period.start.year


class KpiRows(Protocol):
    """The KPI rows of every level of a period, as computed (`tables`) and as published
    (`shown`): what `GET /api/kpis` serves (`services.live_figures.KpiFigures`)."""

    tables: dict[str, pd.DataFrame]
    shown: dict[str, pd.DataFrame]


# A year's monthly KPI rows kept by the caller: (year, how to make them) -> the rows.
Settled = Callable[[int, Callable[[], dict[str, pd.DataFrame]]], dict[str, pd.DataFrame]]


@dataclass(frozen=True)
class Maintained:
    """A store's maintained counts (`flsdb.kpi.stored`, kept in step with every write) as of the
    figures' extract date: `counts(start, end, level)` gives the engine's counts by FLS and month
    (and group, for a breakdown) from the cells, and `mix_of(code)` one FLS's treatment mix from
    its own records (the one table the cells do not hold).

    `rows`, when given, starts the KPI rows of every level and their published copies from the
    same cells (the ones `GET /api/kpis` serves, computed once for both: their disclosure check
    is most of the work) and returns how to wait for them; the figures compute their monthly
    series, completeness and funnels meanwhile. None: they are computed here.

    `settled`, when given, keeps the monthly rows of a year whose every fracture date is past
    every due window at the extract date (as_of - 52 weeks and more): at any later extract date
    they read the same cells and come out the same, so the caller keeps them per data version
    (for every period whose SPC window holds that year)."""

    counts: Callable[[dt.date, dt.date, str], pd.DataFrame]
    mix_of: PerFls
    rows: Callable[[], Callable[[], KpiRows]] | None = None
    settled: Settled | None = None


def compute_figures(
    source: RecordSource,
    period: Period,
    as_of: dt.date,
    *,
    thresholds: Thresholds | None = None,
    suppression: bool = True,
    maintained: Maintained | None = None,
) -> PeriodFigures:
    """The figures of the period: every query the reports and dashboards need (in the source's
    engine), the funnels and the disclosure control of what will be published.

    With `maintained` (the dashboards, on a store that keeps its figures), every count comes
    from the store's cells and no record is read: a few small sums for any period and extract
    date. The treatment mix is then each FLS's own, read when first asked for (`mix_of`), and
    what only the reports show is left out: the fracture sites and reasons, and the earlier
    years of the national trend (`years` holds the period alone)."""
    thresholds = thresholds or load_thresholds()
    catalogue = load_catalogue()
    # One pass over the records from 2016 (the audit's start) copies them where queries are
    # cheap; one query then gives every month of every year, by service.
    start = dt.date(2016, 1, 1)
    window_start = _spc_months(period, thresholds.spc.months)[0]
    start = min(start, dt.date(int(window_start[:4]), 1, 1))
    shared: Callable[[], KpiRows] | None = None
    group_counts: pd.DataFrame | None = None
    if maintained is None:
        source = in_memory(source, start, period.end)
        counts = query_counts(source, start, period.end, as_of)
        levels = level_results(source, period, as_of, thresholds, counts)
        tables = {level: result.table for level, result in levels.items()}
        group_counts = _group_counts(levels, catalogue, period)
        period_counts = in_period(counts, period)  # the counts every level rolled up
    else:  # the cells of the period and the SPC window only (no trend over earlier years)
        start = min(dt.date(int(window_start[:4]), 1, 1), period.start)
        if maintained.rows is not None:  # computed meanwhile (in another process, if any)
            shared = maintained.rows()
        counts = maintained.counts(start, period.end, "service")
        period_counts = in_period(counts, period)
        if shared is None:
            lookup = maintained.counts
            levels = level_results(
                source,
                period,
                as_of,
                thresholds,
                counts,
                lambda level: lookup(period.start, period.end, level),
            )
            tables = {level: result.table for level, result in levels.items()}
            group_counts = _group_counts(levels, catalogue, period)
    monthly = _monthly(
        source, counts, period, as_of, thresholds, maintained.settled if maintained else None
    )
    completeness = completeness_by_field(source, period, as_of, catalogue, period_counts)
    published: dict[str, pd.DataFrame] | None = None
    if shared is not None:
        rows = shared()
        tables, published = rows.tables, rows.shown
    years = [
        compute_levels(
            source,
            KpiRequest(parse_period(str(year)), by="nation", as_of=as_of),
            ("nation",),
            thresholds=thresholds,
            counts=counts,
        )["nation"].table
        for year in range(
            period.start.year if maintained else _first_year(counts, period), period.start.year
        )
    ]
    years.append(tables["nation"].assign(period=period.label))
    services = (
        source.services[["service_code", "service_name", "region_code", "region_name", "nation"]]
        .sort_values("service_code")
        .reset_index(drop=True)
    )
    mix = treatment_mix(source, period) if maintained is None else _no_mix()
    year_table = pd.concat(years, ignore_index=True)
    policy = thresholds.suppression
    if not suppression:
        published = dict(tables)
    elif published is None:
        published = protect_tables(tables, services, policy)
    caseload = CrudeRateEstimator.from_thresholds(thresholds)
    data = PeriodFigures(
        period=period,
        as_of=as_of,
        catalogue=catalogue,
        thresholds=thresholds,
        suppression=suppression,
        caseload_method=caseload.words,
        caseload_summary=caseload.summary,
        records=int(period_counts["records"].sum()) if len(period_counts) else 0,
        services=services,
        unsuppressed=tables,
        published=published,
        years=year_table
        if not suppression
        else published["nation"].assign(period=period.label)[year_table.columns]
        if maintained is not None  # the period alone: as its tables publish it
        else _years_shown(year_table, published, period, services, policy),
        monthly_service=monthly["service"],
        monthly_nation=monthly["nation"],
        mix=mix,
        mix_published=protect_mix(mix, MIX_GROUPS, policy) if suppression else mix,
        completeness=completeness,
        years_computed=year_table,
        group_counts=group_counts,
        synthetic=is_synthetic(source.services),
    )
    records_per_service = tables["service"][tables["service"]["kpi"] == "kpi03"]["denominator"]
    if maintained is None:
        data.sites = counts_by_field(source, period, "fracture_site")
        data.reasons = counts_by_field(source, period, "bone_therapy_recommended")
    else:
        data.mix_of = maintained.mix_of
    catchment_columns = [
        "service_code",
        "population_50plus",
        "expected_spine",
        "expected_non_spine",
    ]
    data.catchments = source.services.reindex(columns=catchment_columns).reset_index(drop=True)
    data.services_with_records = int((records_per_service.astype(float) > 0).sum())
    data.inequities = {kpi: kpi_inequity(data, kpi) for kpi in FUNNEL_KPIS}
    return data


def _group_counts(
    levels: Mapping[str, KpiResult], catalogue: Catalogue, period: Period
) -> pd.DataFrame:
    """Each FLS's own counts in the breakdown groups, from the breakdowns' engine counts."""
    counts = {
        level: found
        for level in BREAKDOWNS
        if level in levels and (found := levels[level].counts) is not None
    }
    return per_fls_groups(counts, catalogue, period.label)


def _no_mix() -> pd.DataFrame:
    """A treatment-mix table with no FLS (the figures give each FLS's own: `mix_of`)."""
    return pd.DataFrame({c: pd.Series(dtype="int64") for c in MIX_GROUPS}).assign(
        service_code=pd.Series(dtype=str), records=pd.Series(dtype="int64")
    )[["service_code", *MIX_GROUPS, "records"]]


def _years_shown(
    year_table: pd.DataFrame,
    shown: dict[str, pd.DataFrame],
    period: Period,
    services: pd.DataFrame,
    policy: Suppression,
    audited: bool = False,
) -> pd.DataFrame:
    """The national rows of every year as published: the period's own as the period's tables
    publish them (the same cells, withheld alike), the earlier years protected on their own."""
    protected = protect_tables({"nation": year_table}, services, policy, audited=audited)
    earlier = protected["nation"][protected["nation"]["period"] != period.label]
    current = shown["nation"].assign(period=period.label)
    return pd.concat([earlier, current[earlier.columns]], ignore_index=True)


def _audit(data: PeriodFigures) -> list[str]:
    policy = data.thresholds.suppression
    problems = audit_tables(
        data.published,
        data.unsuppressed,
        data.services,
        policy,
        data.catalogue,
        per_fls=data.group_counts,
    )
    if data.years_computed is not None:
        problems += audit_tables(
            {"nation": data.years},
            {"nation": data.years_computed},
            data.services,
            policy,
            data.catalogue,
        )
    return problems


def audited(
    data: PeriodFigures,
    search: bool = True,
    protect: Callable[..., dict[str, pd.DataFrame]] = protect_tables,
) -> PeriodFigures:
    """The data with its published tables proven by the intruder's audit (linear programming
    over every published count, marker and relation; an outsider and each FLS knowing its own
    counts): as they are when they pass; otherwise withheld further by the audit's search
    (`search`: `protect` with `audited=True`) and audited again. A set that still fails
    refuses, in one sentence. The one gate of every published report: `build_reports` (so
    `flsdb report` and `flsdb demo`) and the web's downloads call it; a set that passed is
    not audited again, and the same figures passed again take the same audited figures (kept
    with them: what was worked out of the audited figures, such as the withholding of the counts
    beside the KPI tables, is not worked out again)."""
    if not data.suppression or data._audited:
        return data
    # Kept with the figures they were made of: a copy that shares their views (`replace`
    # without a new `Kept`) may differ in what the audit does not read, so it is not given them.
    source, made = data.view(
        "audited", search, protect, make=lambda: (data, _audited(data, search, protect))
    )
    return made if source is data else _audited(data, search, protect)


def _audited(
    data: PeriodFigures, search: bool, protect: Callable[..., dict[str, pd.DataFrame]]
) -> PeriodFigures:
    key = passed.fingerprint(
        data.unsuppressed,
        data.published,
        data.years,
        data.years_computed,
        data.services,
        f"{data.thresholds.suppression!r}|{data.catalogue.version}|{search}|"
        f"{protect.__module__}.{protect.__qualname__}",
    )
    # The same figures audited before (by this process) take that outcome; a refusal is not kept.
    outcome = passed.KEPT.get(key, lambda: _audit_outcome(data, search, protect))
    if outcome.searched:  # withheld further: the search's tables
        data = replace(data, published=outcome.published, years=outcome.years, kept=Kept())
        data.inequities = {kpi: kpi_inequity(data, kpi) for kpi in FUNNEL_KPIS}
    data._audited = True
    return data


def _audit_outcome(
    data: PeriodFigures, search: bool, protect: Callable[..., dict[str, pd.DataFrame]]
) -> passed.Passed:
    """The audit of `data` and, where it narrows a count, its search and a second audit; the
    tables that pass, or FlsdbError in one sentence."""
    problems = _audit(data)
    published, years = data.published, data.years
    if problems and search:
        policy = data.thresholds.suppression
        published = protect(
            data.unsuppressed,
            data.services,
            policy,
            data.catalogue,
            audited=True,
            per_fls=data.group_counts,
        )
        if data.years_computed is not None:
            years = _years_shown(
                data.years_computed, published, data.period, data.services, policy, audited=True
            )
        problems = _audit(replace(data, published=published, years=years, kept=Kept()))
    if problems:
        raise FlsdbError(
            f"The disclosure audit could still work out a withheld count ({problems[0]}; "
            f"{len(problems)} in all), so nothing was written: please report this."
        )
    if search:  # the nations' and regions' complements the audit does not need, shown again
        published, years = relaxed(data, published, years)
    return passed.Passed(published, years, published is not data.published)


def is_synthetic(services: pd.DataFrame) -> bool:
    """Whether any FLS of a services table is marked synthetic (made-up data)."""
    if "synthetic" not in services.columns:
        return False
    return bool((services["synthetic"].astype(str).str.lower() == "yes").any())


def kpi_inequity(data: PeriodFigures, kpi: str) -> Inequity:
    """The funnel of every FLS for a KPI (with the report's settings) and the spread of the
    values that may be published."""
    rows = data.unsuppressed["service"][data.unsuppressed["service"]["kpi"] == kpi]
    national = data.row("nation", "all", kpi, published=False)
    target = None
    if national.get("denominator"):
        target = float(national["numerator"]) / float(national["denominator"])  # type: ignore[arg-type]
    settings = data.thresholds.funnel
    return inequity(
        rows["unit"],
        rows["numerator"].astype(float),
        rows["denominator"].astype(float),
        target,
        method=settings.method,
        overdispersion=settings.overdispersion,
        levels=(settings.alert, settings.alarm),
        winsorise=settings.winsorise,
        shown=data.published_mask(kpi).to_numpy(),
    )
