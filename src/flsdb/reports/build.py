"""Build the report set: national, per FLS, per region, and the benchmark tables."""

from __future__ import annotations

import dataclasses
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flsdb.kpi.mix import MIX_GROUPS
from flsdb.reports import charts
from flsdb.reports.data import BREAKDOWNS, FUNNEL_KPIS, HEADLINE_KPIS, ReportData
from flsdb.reports.kpi_tables import kpi_csv, write_kpi_xlsx
from flsdb.reports.narrative import explain_chart, recommendations
from flsdb.reports.render import render_html, write_report
from flsdb.reports.suppression import suppress
from flsdb.stats.spc import p_chart

MIX_LABELS = {
    "anabolic": "anabolic",
    "denosumab": "denosumab",
    "intravenous": "intravenous bisphosphonate",
    "oral_bisphosphonate": "oral bisphosphonate",
    "other": "other drug",
    "none": "no drug recommended",
}
BREAKDOWN_TITLES = {
    "age_band": "By age band",
    "sex": "By sex",
    "care_home": "By care home residence",
}
SPC_KPIS = ("kpi04", "kpi05", "kpi06", "kpi07", "kpi08", "kpi09", "kpi10", "kpi11", "fa01", "kpi03")


@dataclass
class ReportSet:
    national: list[Path] = field(default_factory=list)
    services: dict[str, list[Path]] = field(default_factory=dict)
    regions: dict[str, list[Path]] = field(default_factory=dict)
    tables: list[Path] = field(default_factory=list)


def _suppressed(data: ReportData, on: bool) -> ReportData:
    if not on:
        return data
    return dataclasses.replace(
        data,
        nation=suppress(data.nation),
        region=suppress(data.region),
        service=suppress(data.service),
        breakdowns={k: suppress(v) for k, v in data.breakdowns.items()},
    )


def _titles(data: ReportData) -> dict[str, str]:
    return {kpi: f"{kpi} {data.name(kpi)}" for kpi in data.catalogue.kpi_ids}


def _spc(
    data: ReportData, frame: pd.DataFrame, unit: str, kpi: str
) -> tuple[list[str], object] | None:
    months = data.months(frame, unit, kpi)
    months = months[months["denominator"].astype(float) > 0]
    if len(months) < 2:
        return None
    chart = p_chart(months["numerator"].astype(float), months["denominator"].astype(float))
    return list(months["period"]), chart


_SPC_GRIDS: dict[tuple[int, str], charts.SpcGrid] = {}


def _spc_figure(
    data: ReportData, frame: pd.DataFrame, unit: str, label: str
) -> tuple[charts.Graphic, list[str]]:
    """The unit's monthly p-charts (on a layout made once per process) and what they say."""
    key = (id(data), "nation" if frame is data.monthly_nation else "service")
    if key not in _SPC_GRIDS:
        months = sorted(set(frame["period"]))
        _SPC_GRIDS[key] = charts.SpcGrid([f"{k} {data.name(k)}" for k in SPC_KPIS], months)
    panels: dict[str, tuple[list[str], object, str]] = {}
    words: list[str] = []
    for kpi in SPC_KPIS:
        title = f"{kpi} {data.name(kpi)}"
        found = _spc(data, frame, unit, kpi)
        if found is None:
            words.append(f"{title}: too few months with patients for a chart.")
            continue
        months, chart = found
        direction = data.measure(kpi).direction
        panels[title] = (months, chart, direction)
        words += explain_chart(months, chart, direction, title)  # type: ignore[arg-type]
    return _SPC_GRIDS[key].render(panels, label), words  # type: ignore[arg-type]


def _mix_shares(mix: pd.DataFrame, codes: list[str] | None = None) -> dict[str, float]:
    rows = mix if codes is None else mix[mix["service_code"].isin(codes)]
    total = rows["records"].sum()
    return {g: (rows[g].sum() / total * 100 if total else 0.0) for g in MIX_GROUPS}


def _previous(data: ReportData) -> dict[str, float | None]:
    """Last year's national value of each proportion KPI, from the monthly series."""
    year = str(data.period.start.year - 1)
    rows = data.monthly_nation[
        (data.monthly_nation["unit"] == "all") & data.monthly_nation["period"].str.startswith(year)
    ]
    out: dict[str, float | None] = {}
    for kpi, group in rows.groupby("kpi"):
        den = group["denominator"].astype(float).sum()
        out[str(kpi)] = group["numerator"].astype(float).sum() / den * 100 if den else None
    return out


def national_report(
    data: ReportData, out: Path, suppression: bool, formats: tuple[str, ...]
) -> list[Path]:
    shown = _suppressed(data, suppression)
    titles = _titles(data)
    trend_chart, words = _spc_figure(data, data.monthly_nation, "all", "England and Wales")
    region_rows = data.region.set_index(["kpi", "unit"])["percent"]
    breakdown_tables = {}
    breakdown_charts = {}
    for name in BREAKDOWNS:
        table = shown.breakdowns[name]
        table = table[table["kpi"].isin(HEADLINE_KPIS)]
        wide = table.pivot_table(
            index="kpi", columns="unit", values="percent", aggfunc="first", sort=False
        ).reindex(columns=list(dict.fromkeys(table["unit"])))
        breakdown_charts[BREAKDOWN_TITLES[name]] = charts.grouped_bars(
            wide.astype(float), BREAKDOWN_TITLES[name]
        )
        breakdown_tables[BREAKDOWN_TITLES[name]] = wide.map(
            lambda v: "–" if v is None or pd.isna(v) else f"{float(v):.1f}%"
        )
    low = {k: r.outside("low_95", "low_99.8") for k, r in data.inequities.items()}
    html = render_html(
        "national.html.j2",
        title=f"National FLS audit report {data.period.label}",
        data=shown,
        suppressed=suppression,
        headline=HEADLINE_KPIS,
        previous=_previous(data),
        recommendations=recommendations({"region": data.region, "service": data.service}, low),
        trend_chart=trend_chart,
        trend_words=words,
        identification_spine=charts.ranked_bars(
            region_rows.xs("kpi02_spine").astype(float), "kpi02_spine by region (%)"
        ),
        identification_non_spine=charts.ranked_bars(
            region_rows.xs("kpi02_non_spine").astype(float), "kpi02_non_spine by region (%)"
        ),
        distribution=charts.distribution_chart(data.inequities, titles),
        funnels={k: charts.funnel_chart(data.inequities[k], titles[k]) for k in FUNNEL_KPIS},
        mix=charts.mix_chart(data.mix, MIX_GROUPS, MIX_LABELS),
        mix_labels=MIX_LABELS,
        mix_national=_mix_shares(data.mix),
        breakdown_tables=breakdown_tables,
        breakdown_charts=breakdown_charts,
    )
    return write_report(html, out / f"national-report-{data.period.label}", formats)


_GRIDS: dict[int, charts.FunnelGrid] = {}


def _funnel_grid(data: ReportData) -> charts.FunnelGrid:
    """One funnel grid per process and data set, shared by every FLS report."""
    key = id(data)
    if key not in _GRIDS:
        _GRIDS.clear()
        _GRIDS[key] = charts.FunnelGrid({k: data.inequities[k] for k in FUNNEL_KPIS}, _titles(data))
    return _GRIDS[key]


def fls_report(data: ReportData, code: str, out: Path, formats: tuple[str, ...]) -> list[Path]:
    info = data.service_info(code)
    flags = {}
    for kpi, result in data.inequities.items():
        flag = result.funnel.flags[result.names.index(code)] if code in result.names else None
        flags[kpi] = {
            "high_99.8": "above 99.8% limit",
            "high_95": "above 95% limit",
            "inside": "inside",
            "low_95": "below 95% limit",
            "low_99.8": "below 99.8% limit",
        }.get(flag or "", "no patients")
    outside = [f"{k} ({v})" for k, v in flags.items() if v not in ("inside", "no patients")]
    summary = (
        "Outside the funnel limits for: " + ", ".join(outside) + "."
        if outside
        else "Inside the 95% funnel limits for every KPI."
    )
    spc_chart, words = _spc_figure(data, data.monthly_service, code, code)
    html = render_html(
        "fls.html.j2",
        title=f"FLS report: {info['service_name']} ({code})",
        data=data,
        suppressed=False,
        info=info,
        flags=flags,
        funnel_summary=summary,
        funnel_grid=_funnel_grid(data).render(code),
        spc_grid=spc_chart,
        spc_words=words,
        completeness=data.completeness[data.completeness["service_code"] == code].to_dict(
            "records"
        ),
        mix_labels=MIX_LABELS,
        mix_fls=_mix_shares(data.mix, [code]),
        mix_national=_mix_shares(data.mix),
    )
    return write_report(html, out / "fls" / f"fls-report-{code}-{data.period.label}", formats)


def region_report(
    data: ReportData, region: str, out: Path, suppression: bool, formats: tuple[str, ...]
) -> list[Path]:
    shown = _suppressed(data, suppression)
    members = data.services[data.services["region_code"] == region]
    codes = list(members["service_code"])
    rows = {c: {k: shown.row("service", c, k) for k in data.catalogue.kpi_ids} for c in codes}
    region_rows = {k: shown.row("region", region, k) for k in data.catalogue.kpi_ids}
    wide = pd.DataFrame(
        {c: [data.row("service", c, k).get("percent") for k in HEADLINE_KPIS] for c in codes},
        index=list(HEADLINE_KPIS),
    ).astype(float)
    # With one FLS the table already says it all; a chart helps only to compare several.
    chart = charts.grouped_bars(wide, "Headline KPIs by FLS") if len(codes) > 1 else None
    html = render_html(
        "region.html.j2",
        title=f"Region report: {members['region_name'].iloc[0]}",
        data=shown,
        suppressed=suppression,
        region_code=region,
        region_name=members["region_name"].iloc[0],
        nation=members["nation"].iloc[0],
        codes=codes,
        rows=rows,
        region_rows=region_rows,
        names=dict(zip(members["service_code"], members["service_name"], strict=True)),
        chart=chart,
    )
    return write_report(
        html, out / "regions" / f"region-report-{region}-{data.period.label}", formats
    )


def benchmark_tables(data: ReportData, out: Path, suppression: bool) -> list[Path]:
    levels = {"nation": data.nation, "region": data.region, "service": data.service}
    if suppression:
        levels = {k: suppress(v) for k, v in levels.items()}
    written = []
    for level, table in levels.items():
        path = out / f"benchmark-{level}-{data.period.label}.csv"
        path.write_text(kpi_csv(table), encoding="utf-8")
        written.append(path)
    notes = [
        f"Period {data.period.label}; as of {data.as_of.isoformat()}; {data.records} records "
        f"from {data.services_with_records} FLSs; caseload: {data.caseload_method}.",
        "Counts from 1 to 4 are shown as <5 and their percentages removed."
        if suppression
        else "Not suppressed: for internal use only.",
    ]
    written.append(
        write_kpi_xlsx(
            {f"{k}s": v for k, v in levels.items()},
            data.catalogue,
            out / f"benchmark-{data.period.label}.xlsx",
            notes,
        )
    )
    return written


@dataclass(frozen=True)
class _Job:
    data: ReportData
    out: Path
    formats: tuple[str, ...]
    suppression: bool


# Set before the worker processes fork, so that they share the data without pickling it.
_SHARED: dict[str, _Job] = {}


def _job(task: tuple[str, str]) -> tuple[str, str, list[Path]]:
    kind, unit = task
    job = _SHARED["job"]
    data, out, formats, suppression = job.data, job.out, job.formats, job.suppression
    if kind == "national":
        return kind, unit, national_report(data, out, suppression, formats)
    if kind == "fls":
        return kind, unit, fls_report(data, unit, out, formats)
    return kind, unit, region_report(data, unit, out, suppression, formats)


def build_reports(
    data: ReportData,
    out: Path,
    *,
    suppression: bool = True,
    services: list[str] | None = None,
    regions: bool = True,
    formats: tuple[str, ...] = ("html", "pdf"),
    jobs: int = 2,
) -> ReportSet:
    """Write every report; FLS reports run in `jobs` processes (forked, sharing `data`)."""
    (out / "fls").mkdir(parents=True, exist_ok=True)
    (out / "regions").mkdir(parents=True, exist_ok=True)
    result = ReportSet()
    result.tables = benchmark_tables(data, out, suppression)
    codes = list(data.services["service_code"]) if services is None else services
    # The national report is the longest task: start it first so the workers finish together.
    tasks = [("national", ""), *[("fls", code) for code in codes]]
    if regions:
        tasks += [("region", r) for r in sorted(data.services["region_code"].unique())]
    _SHARED["job"] = _Job(data, out, formats, suppression)
    if jobs > 1 and len(tasks) > 1:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            done = list(pool.map(_job, tasks, chunksize=2))
    else:
        done = [_job(task) for task in tasks]
    for kind, unit, paths in done:
        if kind == "national":
            result.national = paths
        else:
            (result.services if kind == "fls" else result.regions)[unit] = paths
    return result
