"""Everything the reports show, computed once: KPIs per level, monthly series, funnels, mix."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from flsdb.kpi import KpiRequest, compute_kpis, compute_levels, load_catalogue, parse_period
from flsdb.kpi.caseload import CaseloadEstimator, CrudeRateEstimator
from flsdb.kpi.catalogue import Catalogue, Measure
from flsdb.kpi.completeness import completeness_by_field
from flsdb.kpi.mix import treatment_mix
from flsdb.kpi.periods import Period
from flsdb.kpi.sources import RecordSource
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
BREAKDOWNS = ("age_band", "sex", "care_home")
SPC_MONTHS = 24


@dataclass
class ReportData:
    """The inputs of every report for one period."""

    period: Period
    as_of: dt.date
    catalogue: Catalogue
    caseload_method: str
    records: int
    services: pd.DataFrame
    nation: pd.DataFrame
    region: pd.DataFrame
    service: pd.DataFrame
    monthly_service: pd.DataFrame
    monthly_nation: pd.DataFrame
    breakdowns: dict[str, pd.DataFrame]
    mix: pd.DataFrame
    completeness: pd.DataFrame
    services_with_records: int = 0
    inequities: dict[str, Inequity] = field(default_factory=dict)

    def measure(self, kpi: str) -> Measure:
        return self.catalogue.measure(kpi)

    def name(self, kpi: str) -> str:
        measure = self.measure(kpi)
        return measure.parts[kpi].name if measure.parts else measure.name

    def row(self, level: str, unit: str, kpi: str) -> dict[str, object]:
        table = {"nation": self.nation, "region": self.region, "service": self.service}[level]
        found = table[(table["unit"] == unit) & (table["kpi"] == kpi)]
        return {str(k): v for k, v in found.iloc[0].items()} if len(found) else {}

    def service_info(self, code: str) -> dict[str, object]:
        row = self.services[self.services["service_code"] == code].iloc[0]
        return {str(k): v for k, v in row.items()}

    def months(self, frame: pd.DataFrame, unit: str, kpi: str) -> pd.DataFrame:
        rows = frame[(frame["unit"] == unit) & (frame["kpi"] == kpi)]
        return rows.sort_values("period").reset_index(drop=True)


def _month_window(period: Period) -> list[Period]:
    """The years covering the SPC window that ends with the period."""
    first_year = period.end.year - (SPC_MONTHS // 12) + 1
    return [parse_period(str(year)) for year in range(first_year, period.end.year + 1)]


def _monthly(
    source: RecordSource, period: Period, as_of: dt.date, estimator: CaseloadEstimator
) -> dict[str, pd.DataFrame]:
    """Monthly KPI rows per service and nationally over the SPC window."""
    frames: dict[str, list[pd.DataFrame]] = {"service": [], "nation": []}
    for year in _month_window(period):
        request = KpiRequest(year, as_of=as_of, interval="month", kpis=FUNNEL_KPIS)
        for level, result in compute_levels(
            source, request, ("service", "nation"), estimator=estimator
        ).items():
            frames[level].append(result.table)
    last = f"{period.end.year}-{period.end.month:02d}"
    out = {}
    for level, parts in frames.items():
        table = pd.concat(parts, ignore_index=True)
        out[level] = table[table["period"] <= last].reset_index(drop=True)
    return out


def collect(
    source: RecordSource,
    period: Period,
    as_of: dt.date,
    estimator: CaseloadEstimator | None = None,
) -> ReportData:
    """Run every query the reports need (in the source's engine) and the funnels."""
    estimator = estimator or CrudeRateEstimator()
    catalogue = load_catalogue()
    results = compute_levels(
        source,
        KpiRequest(period, as_of=as_of),
        ("service", "region", "nation"),
        estimator=estimator,
    )
    for level in BREAKDOWNS:
        results[level] = compute_kpis(
            source, KpiRequest(period, by=level, as_of=as_of), estimator=estimator
        )
    monthly = _monthly(source, period, as_of, estimator)
    services = (
        source.services[["service_code", "service_name", "region_code", "region_name", "nation"]]
        .sort_values("service_code")
        .reset_index(drop=True)
    )
    data = ReportData(
        period=period,
        as_of=as_of,
        catalogue=catalogue,
        caseload_method=results["nation"].caseload_method,
        records=results["nation"].records,
        services=services,
        nation=results["nation"].table,
        region=results["region"].table,
        service=results["service"].table,
        monthly_service=monthly["service"],
        monthly_nation=monthly["nation"],
        breakdowns={b: results[b].table for b in BREAKDOWNS},
        mix=treatment_mix(source, period),
        completeness=completeness_by_field(
            source, period, as_of, catalogue, results["service"].counts
        ),
    )
    records_per_service = data.service[data.service["kpi"] == "kpi03"]["denominator"]
    data.services_with_records = int((records_per_service.astype(float) > 0).sum())
    for kpi in FUNNEL_KPIS:
        rows = data.service[data.service["kpi"] == kpi]
        national = data.row("nation", "all", kpi)
        target = None
        if national.get("denominator"):
            target = float(national["numerator"]) / float(national["denominator"])  # type: ignore[arg-type]
        data.inequities[kpi] = inequity(
            rows["unit"], rows["numerator"].astype(float), rows["denominator"].astype(float), target
        )
    return data
