"""An FLS's own report: its KPIs unsuppressed beside its region and the nation (as published),
its place in each funnel, its monthly SPC charts, its data completeness and treatment mix."""

from __future__ import annotations

from pathlib import Path

from flsdb.disclosure import WITHHELD, is_hidden
from flsdb.kpi.mix import MIX_GROUPS
from flsdb.reports import charts
from flsdb.reports.charts.base import FLAG_WORDS
from flsdb.reports.data import FUNNEL_KPIS, ReportData
from flsdb.reports.methodology import lost_sites_sentence
from flsdb.reports.national import MIX_LABELS, cell_text, titles
from flsdb.reports.render import safe_name, write_report
from flsdb.reports.spc_panels import baseline_words, spc_figure

COUNTED = ("numerator", "denominator")


def comparator(data: ReportData, level: str, unit: str, kpi: str, own: str) -> dict[str, object]:
    """A published region or nation row, withheld when taking this FLS's own counts from it
    would leave a count of 1 to 4 (the other FLSs' total)."""
    row = data.row(level, unit, kpi)
    mine = data.row("service", own, kpi, published=False)
    measure = data.measure(kpi)
    if not row or not mine or measure.kind == "completeness":
        return row
    policy = data.thresholds.suppression
    columns = COUNTED if measure.kind == "proportion" else ("numerator",)
    rest = {}
    for column in columns:
        if is_hidden(row[column]):
            return row
        rest[column] = float(row[column]) - float(mine[column])  # type: ignore[arg-type]
    risky = any(policy.small(v) for v in rest.values())
    if measure.kind == "proportion" and policy.complement:
        risky |= policy.small(rest["denominator"] - rest["numerator"])
    if not risky:
        return row
    withheld = dict(row)
    withheld.update(numerator=WITHHELD, percent=None, ci_low=None, ci_high=None, rag=None)
    return withheld


_GRIDS: dict[int, charts.FunnelGrid] = {}


def _funnel_grid(data: ReportData) -> charts.FunnelGrid:
    """One funnel grid per process and data set, shared by every FLS report."""
    key = id(data)
    if key not in _GRIDS:
        _GRIDS.clear()
        _GRIDS[key] = charts.FunnelGrid({k: data.inequities[k] for k in FUNNEL_KPIS}, titles(data))
    return _GRIDS[key]


def _mix_shares(data: ReportData, code: str | None) -> dict[str, float]:
    mix = data.mix if code is None else data.mix[data.mix["service_code"] == code]
    total = mix["records"].sum()
    return {g: (mix[g].sum() / total * 100 if total else 0.0) for g in MIX_GROUPS}


def fls_report(data: ReportData, code: str, out: Path, formats: tuple[str, ...]) -> list[Path]:
    info = data.service_info(code)
    label = data.unit_name("service", code)
    rows = []
    for kpi in data.catalogue.kpi_ids:
        flag = data.inequities[kpi].flag_of(code) if kpi in data.inequities else None
        rows.append(
            {
                "kpi": kpi,
                "own": data.row("service", code, kpi, published=False),
                "region": comparator(data, "region", str(info["region_code"]), kpi, code),
                "nation": comparator(data, "nation", "all", kpi, code),
                "funnel": FLAG_WORDS.get(flag or "", "no patients")
                if kpi in data.inequities
                else "",
            }
        )
    outside = [
        f"{r['kpi']} ({r['funnel']})"
        for r in rows
        if r["funnel"] not in ("", "no patients", FLAG_WORDS["inside"])
    ]
    own_lost = (data.lost_sites or {}).get(code, 0)
    spc_chart, words, summary = spc_figure(data, data.monthly_service, code, label)
    months = sorted(set(data.monthly_service["period"]))
    context: dict[str, object] = dict(
        title=f"FLS report: {label}",
        data=data,
        own_fls=code,
        info=info,
        label=label,
        region_label=data.unit_name("region", str(info["region_code"])),
        rows=rows,
        outside=outside,
        funnel_grid=_funnel_grid(data).render(code, label),
        spc_grid=spc_chart,
        spc_words=words,
        spc_summary=summary,
        spc_baseline=baseline_words(data.thresholds.spc, months),
        completeness=data.completeness[data.completeness["service_code"] == code].to_dict(
            "records"
        ),
        mix_labels=MIX_LABELS,
        mix_fls=_mix_shares(data, code),
        mix_national=_mix_shares(data, None),
        cell_text=cell_text,
        lost_sites=lost_sites_sentence(f"{own_lost:,}", data.period.label) if own_lost else "",
    )
    stem = out / "fls" / f"fls-report-{safe_name(code)}-{data.period.label}"
    return write_report("fls.html.j2", context, stem, formats)
