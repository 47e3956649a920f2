"""An FLS's own report: its KPIs unsuppressed beside its region and the nation (as published),
its place in each funnel, its monthly SPC charts, its data completeness and treatment mix."""

from __future__ import annotations

from pathlib import Path

from flsdb.figures import (
    FLAG_WORDS,
    FUNNEL_KPIS,
    MIX_LABELS,
    PeriodFigures,
    comparator,
    mix_shares,
)
from flsdb.reports import charts
from flsdb.reports.methodology import lost_sites_sentence
from flsdb.reports.mix_counts import national_shares
from flsdb.reports.national import cell_text, titles
from flsdb.reports.render import safe_name, write_report
from flsdb.reports.spc_panels import spc_figure, spc_intro


def _funnel_grid(data: PeriodFigures) -> charts.FunnelGrid:
    """One funnel grid per figures (each panel's shared drawing), for every FLS report."""

    def make() -> charts.FunnelGrid:
        inequities = {k: data.inequities[k] for k in FUNNEL_KPIS}
        return charts.FunnelGrid(inequities, titles(data))

    return data.view("funnel grid", make=make)


def fls_report(data: PeriodFigures, code: str, out: Path, formats: tuple[str, ...]) -> list[Path]:
    info = data.service_info(code)
    label = data.unit_name("service", code)
    rows = []
    nations: dict[str, dict[str, object]] = {}
    for kpi in data.catalogue.kpi_ids:
        nations[kpi] = comparator(data, "nation", "all", kpi, code)
        flag = data.inequities[kpi].flag_of(code) if kpi in data.inequities else None
        rows.append(
            {
                "kpi": kpi,
                "own": data.row("service", code, kpi, published=False),
                "region": comparator(data, "region", str(info["region_code"]), kpi, code),
                "nation": nations[kpi],
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
    # Where this FLS's report withholds the England and Wales value, its funnel is not drawn.
    hidden = frozenset(
        kpi for kpi in FUNNEL_KPIS if nations[kpi] and nations[kpi]["percent"] is None
    )
    funnel_grid = _funnel_grid(data).render(code, label, hidden)
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
        funnel_grid=funnel_grid,
        spc_chart=spc_chart,
        spc_words=words,
        spc_summary=summary,
        spc_intro=spc_intro(data.thresholds.spc, months, spc_chart.kinds),
        completeness=data.fls_completeness(code).to_dict("records"),
        mix_labels=MIX_LABELS,
        mix_fls=mix_shares(data, code),
        mix_national=national_shares(data),
        cell_text=cell_text,
        lost_sites=lost_sites_sentence(f"{own_lost:,}", data.period.label) if own_lost else "",
    )
    stem = out / "fls" / f"fls-report-{safe_name(code)}-{data.period.label}"
    return write_report("fls.html.j2", context, stem, formats)
