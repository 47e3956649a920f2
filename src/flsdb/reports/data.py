"""Everything the reports show, computed once: KPIs per level and year, monthly series, funnels,
treatment mix, completeness, and the published (disclosure-controlled) copies of each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd

from flsdb.config import Suppression, Thresholds, load_thresholds
from flsdb.disclosure import audit_tables, is_hidden, protect_mix, protect_tables
from flsdb.errors import FlsdbError
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
from flsdb.kpi.catalogue import Catalogue, Measure
from flsdb.kpi.completeness import completeness_by_field
from flsdb.kpi.mix import MIX_GROUPS, treatment_mix
from flsdb.kpi.periods import Period
from flsdb.kpi.sources import RecordSource, in_memory
from flsdb.stats.inequity import Inequity, inequity

# Proportion KPIs shown in funnels and SPC charts (kpi01 is a count of fields and kpi02 a ratio to
# an expected caseload, so neither is a proportion of records).
FUNNEL_KPIS = (
    "kpi03",
    "kpi04",
    "kpi05",
    "kpi06",
    "kpi07",
    "kpi08",
    "kpi09",
    "kpi10",
    "kpi11",
    "hr02",
    "hr03",
    "fa01",
    "fa02",
)
HEADLINE_KPIS = ("kpi02", *(k for k in FUNNEL_KPIS if k.startswith("kpi")))


@dataclass
class ReportData:
    """The inputs of every report for one period.

    `tables` hold the KPI rows as computed; `shown` the same rows as they may be published
    (small counts hidden, when suppression is on). The FLS reports use `tables` for the FLS's
    own rows and `shown` for everything else.
    """

    period: Period
    as_of: dt.date
    catalogue: Catalogue
    thresholds: Thresholds
    suppression: bool
    caseload_method: str
    caseload_summary: str
    records: int
    services: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    shown: dict[str, pd.DataFrame]
    years: pd.DataFrame
    monthly_service: pd.DataFrame
    monthly_nation: pd.DataFrame
    mix: pd.DataFrame
    mix_shown: pd.DataFrame
    completeness: pd.DataFrame
    services_with_records: int = 0
    # Whether the period is locked (and since when), as the report states it; a period that is
    # not locked is provisional, and every page says so.
    lock_note: str = ""
    # Made-up data (a services table with an FLS marked synthetic, as `flsdb synth` and `flsdb
    # demo` write them): every page, file name and table says so.
    synthetic: bool = False
    # Per FLS, records whose index site came from the 2023 FLS-DB 'Non hip/non spine' label
    # (from the store's audit trail; None when the records come from files).
    lost_sites: dict[str, int] | None = None
    inequities: dict[str, Inequity] = field(default_factory=dict)
    # Records per FLS by fracture site, and (records with no drug recommended) by the outcome
    # recorded instead: the case-mix and reasons chapters (reports/casemix.py) publish them.
    sites: pd.DataFrame | None = None
    reasons: pd.DataFrame | None = None
    # Each FLS's catchment: population_50plus and expected caseloads as the services file gives
    # them (the coverage chapter, reports/coverage.py).
    catchments: pd.DataFrame | None = None
    # The national rows of every year as computed (`years` as published), for the audit.
    years_computed: pd.DataFrame | None = None
    # Rows by (unit, kpi) per table, and monthly rows by (unit, kpi): built on first use.
    _index: dict[tuple[str, bool], dict[tuple[str, str], dict[str, object]]] = field(
        default_factory=dict, repr=False
    )
    _months: dict[int, dict[tuple[str, str], pd.DataFrame]] = field(
        default_factory=dict, repr=False
    )
    # Whether `shown` passed the intruder's audit (`audited`); a copy made by
    # `dataclasses.replace` starts unaudited.
    _audited: bool = field(default=False, init=False, repr=False, compare=False)

    @property
    def provisional(self) -> bool:
        """Whether the period's figures may still change (it is not locked)."""
        return not self.lock_note

    def measure(self, kpi: str) -> Measure:
        return self.catalogue.measure(kpi)

    def name(self, kpi: str) -> str:
        return self.catalogue.name(kpi)

    def description(self, kpi: str) -> str:
        return self.catalogue.description(kpi)

    def row(self, level: str, unit: str, kpi: str, published: bool = True) -> dict[str, object]:
        """One KPI row (as published, or as computed), or {} when there is none."""
        key = (level, published)
        if key not in self._index:
            table = (self.shown if published else self.tables)[level]
            self._index[key] = {
                (str(r["unit"]), str(r["kpi"])): {str(k): v for k, v in r.items()}
                for r in table.to_dict("records")
            }
        return dict(self._index[key].get((unit, kpi), {}))

    def service_info(self, code: str) -> dict[str, object]:
        row = self.services[self.services["service_code"] == code].iloc[0]
        return {str(k): v for k, v in row.items()}

    def unit_name(self, level: str, unit: str) -> str:
        """A name a person reads, with the code: 'Devon FLS A (QJKA)'."""
        if level == "service":
            rows = self.services[self.services["service_code"] == unit]
            return f"{rows['service_name'].iloc[0]} ({unit})" if len(rows) else unit
        if level == "region":
            rows = self.services[self.services["region_code"] == unit]
            return f"{rows['region_name'].iloc[0]} ({unit})" if len(rows) else unit
        if level == "nation":
            return {"england": "England", "wales": "Wales", "all": "England and Wales"}[unit]
        return unit.replace("_", " ")

    def months(self, frame: pd.DataFrame, unit: str, kpi: str) -> pd.DataFrame:
        """A unit's monthly rows of one KPI, in month order."""
        if id(frame) not in self._months:
            self._months[id(frame)] = {
                (str(u), str(k)): rows.sort_values("period").reset_index(drop=True)
                for (u, k), rows in frame.groupby(["unit", "kpi"], sort=False)
            }
        empty = frame.iloc[0:0].reset_index(drop=True)
        return self._months[id(frame)].get((unit, kpi), empty)

    def shown_mask(self, kpi: str) -> pd.Series:
        """Per FLS (in service order), whether its value for the KPI may be published."""
        rows = self.shown["service"][self.shown["service"]["kpi"] == kpi]
        return ~(rows["numerator"].map(is_hidden) | rows["denominator"].map(is_hidden))


def _spc_months(period: Period, months: int) -> list[str]:
    end = period.end.year * 12 + period.end.month - 1
    return [f"{m // 12}-{m % 12 + 1:02d}" for m in range(end - months + 1, end + 1)]


def _monthly(
    source: RecordSource,
    counts: pd.DataFrame,
    period: Period,
    as_of: dt.date,
    thresholds: Thresholds,
) -> dict[str, pd.DataFrame]:
    """Monthly KPI rows per service and nationally over the SPC window."""
    window = _spc_months(period, thresholds.spc.months)
    frames: dict[str, list[pd.DataFrame]] = {"service": [], "nation": []}
    for year in sorted({int(m[:4]) for m in window}):
        request = KpiRequest(
            parse_period(str(year)), as_of=as_of, interval="month", kpis=FUNNEL_KPIS
        )
        results = compute_levels(
            source, request, ("service", "nation"), thresholds=thresholds, counts=counts
        )
        for level, result in results.items():
            frames[level].append(result.table)
    out = {}
    for level, parts in frames.items():
        table = pd.concat(parts, ignore_index=True)
        out[level] = table[table["period"].isin(window)].reset_index(drop=True)
    return out


def _first_year(counts: pd.DataFrame, period: Period) -> int:
    years = counts.loc[counts["records"] > 0, "year"]
    return int(years.min()) if len(years) else period.start.year


def collect(
    source: RecordSource,
    period: Period,
    as_of: dt.date,
    *,
    thresholds: Thresholds | None = None,
    suppression: bool = True,
) -> ReportData:
    """Run every query the reports need (in the source's engine), the funnels and the
    disclosure control of what will be published."""
    thresholds = thresholds or load_thresholds()
    catalogue = load_catalogue()
    # One pass over the records from 2016 (the audit's start) copies them where queries are
    # cheap; one query then gives every month of every year, by service.
    start = dt.date(2016, 1, 1)
    window_start = _spc_months(period, thresholds.spc.months)[0]
    start = min(start, dt.date(int(window_start[:4]), 1, 1))
    source = in_memory(source, start, period.end)
    counts = query_counts(source, start, period.end, as_of)
    levels = level_results(source, period, as_of, thresholds, counts)
    tables = {level: result.table for level, result in levels.items()}
    years = [
        compute_levels(
            source,
            KpiRequest(parse_period(str(year)), by="nation", as_of=as_of),
            ("nation",),
            thresholds=thresholds,
            counts=counts,
        )["nation"].table
        for year in range(_first_year(counts, period), period.start.year)
    ]
    years.append(tables["nation"].assign(period=period.label))
    monthly = _monthly(source, counts, period, as_of, thresholds)
    services = (
        source.services[["service_code", "service_name", "region_code", "region_name", "nation"]]
        .sort_values("service_code")
        .reset_index(drop=True)
    )
    mix = treatment_mix(source, period)
    year_table = pd.concat(years, ignore_index=True)
    policy = thresholds.suppression
    shown = protect_tables(tables, services, policy) if suppression else dict(tables)
    data = ReportData(
        period=period,
        as_of=as_of,
        catalogue=catalogue,
        thresholds=thresholds,
        suppression=suppression,
        caseload_method=levels["nation"].caseload_method,
        caseload_summary=CrudeRateEstimator.from_thresholds(thresholds).summary,
        records=levels["nation"].records,
        services=services,
        tables=tables,
        shown=shown,
        years=_years_shown(year_table, shown, period, services, policy)
        if suppression
        else year_table,
        monthly_service=monthly["service"],
        monthly_nation=monthly["nation"],
        mix=mix,
        mix_shown=protect_mix(mix, MIX_GROUPS, policy) if suppression else mix,
        completeness=completeness_by_field(
            source, period, as_of, catalogue, levels["service"].counts
        ),
        years_computed=year_table,
        synthetic=is_synthetic(source.services),
    )
    records_per_service = tables["service"][tables["service"]["kpi"] == "kpi03"]["denominator"]
    data.sites = counts_by_field(source, period, "fracture_site")
    catchment_columns = [
        "service_code",
        "population_50plus",
        "expected_spine",
        "expected_non_spine",
    ]
    data.catchments = source.services.reindex(columns=catchment_columns).reset_index(drop=True)
    data.reasons = counts_by_field(source, period, "bone_therapy_recommended")
    data.services_with_records = int((records_per_service.astype(float) > 0).sum())
    data.inequities = {kpi: kpi_inequity(data, kpi) for kpi in FUNNEL_KPIS}
    return data


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


def _audit(data: ReportData) -> list[str]:
    policy = data.thresholds.suppression
    problems = audit_tables(data.shown, data.tables, data.services, policy, data.catalogue)
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
    data: ReportData,
    search: bool = True,
    protect: Callable[..., dict[str, pd.DataFrame]] = protect_tables,
) -> ReportData:
    """The data with its published tables proven by the intruder's audit (linear programming
    over every published count, marker and relation; an outsider and each FLS knowing its own
    counts): as they are when they pass; otherwise withheld further by the audit's search
    (`search`: `protect` with `audited=True`) and audited again. A set that still fails
    refuses, in one sentence. The one gate of every published report: `build_reports` (so
    `flsdb report` and `flsdb demo`) and the web's downloads call it; a set that passed is
    not audited again."""
    if not data.suppression or data._audited:
        return data
    problems = _audit(data)
    if problems and search:
        policy = data.thresholds.suppression
        shown = protect(data.tables, data.services, policy, data.catalogue, audited=True)
        years = data.years
        if data.years_computed is not None:
            years = _years_shown(
                data.years_computed, shown, data.period, data.services, policy, audited=True
            )
        data = replace(data, shown=shown, years=years, _index={}, _months={})
        data.inequities = {kpi: kpi_inequity(data, kpi) for kpi in FUNNEL_KPIS}
        problems = _audit(data)
    if problems:
        raise FlsdbError(
            f"The disclosure audit could still work out a withheld count ({problems[0]}; "
            f"{len(problems)} in all), so nothing was written: please report this."
        )
    data._audited = True
    return data


def is_synthetic(services: pd.DataFrame) -> bool:
    """Whether any FLS of a services table is marked synthetic (made-up data)."""
    if "synthetic" not in services.columns:
        return False
    return bool((services["synthetic"].astype(str).str.lower() == "yes").any())


def kpi_inequity(data: ReportData, kpi: str) -> Inequity:
    """The funnel of every FLS for a KPI (with the report's settings) and the spread of the
    values that may be published."""
    rows = data.tables["service"][data.tables["service"]["kpi"] == kpi]
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
        shown=data.shown_mask(kpi).to_numpy(),
    )
