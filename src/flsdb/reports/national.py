"""The national report: headline figures, the 80/50/80 model, recommendations, every KPI against
earlier years and between England and Wales, SPC, identification, variation between FLSs,
breakdowns, and the methods and data-quality appendices. Everything in it is as published."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from flsdb.disclosure import is_hidden
from flsdb.figures import FUNNEL_KPIS, HEADLINE_KPIS, MIX_LABELS, PeriodFigures
from flsdb.kpi.mix import MIX_GROUPS
from flsdb.kpi.results import BREAKDOWNS
from flsdb.reports import charts
from flsdb.reports.appendix import counting_rules, reader_definitions
from flsdb.reports.casemix import breakdown_tables, reasons_table, site_table
from flsdb.reports.charts.base import count, percent
from flsdb.reports.coverage import coverage
from flsdb.reports.methodology import (
    CHOICES,
    definition_rows,
    lost_sites_sentence,
    statistics,
)
from flsdb.reports.mix_counts import national_shares, published_mix
from flsdb.reports.narrative import model_summary, nation_gap, recommendations
from flsdb.reports.outliers import withheld_sentence
from flsdb.reports.published_counts import data_quality as _data_quality
from flsdb.reports.recommendations import grouped_recommendations
from flsdb.reports.regions import SHORT_NAMES, region_tables
from flsdb.reports.render import write_report
from flsdb.reports.spc_panels import baseline_words, spc_figure
from flsdb.reports.summary import executive_summary
from flsdb.reports.trends import METHOD as TREND_METHOD
from flsdb.reports.trends import participation_by_year, trend_rows

BREAKDOWN_TITLES = {
    "age_band": "By age band",
    "sex": "By sex",
    "care_home": "By care home residence",
}
MIX_PER_CHART = 39


def titles(data: PeriodFigures) -> dict[str, str]:
    return {kpi: f"{kpi} {data.name(kpi)}" for kpi in data.catalogue.kpi_ids}


def cell_text(row: dict[str, object], with_ci: bool = True) -> str:
    """'62.8% (52,467 / 83,500; 62.5–63.2)', or the counts alone when the percent is withheld."""
    counts = f"{count(row.get('numerator'))} / {count(row.get('denominator'))}"
    if row.get("percent") is None:
        return counts if row else ""
    ci = ""
    if with_ci and row.get("ci_low") is not None:
        ci = f"; {float(row['ci_low']):.1f}–{float(row['ci_high']):.1f}"  # type: ignore[arg-type]
    return f"{float(row['percent']):.1f}% ({counts}{ci})"  # type: ignore[arg-type]


def trends(data: PeriodFigures) -> tuple[list[str], list[dict[str, object]]]:
    """Every KPI nationally in each year in the database up to the period."""
    table = data.years[data.years["unit"] == "all"]
    years = [str(y) for y in sorted(table["period"].unique())]
    rows: list[dict[str, object]] = []
    for kpi in data.catalogue.kpi_ids:
        values = table[table["kpi"] == kpi].set_index("period")
        cells = [values.loc[y].to_dict() if y in values.index else {} for y in years]
        numbers = [c.get("percent") for c in cells]
        change = None
        if len(numbers) > 1 and numbers[-1] is not None and numbers[-2] is not None:
            change = float(numbers[-1]) - float(numbers[-2])
        rows.append({"kpi": kpi, "cells": cells, "change": change})
    return years, rows


def _identification(data: PeriodFigures) -> charts.Graphic:
    table = data.published["region"]
    parts = ("kpi02_spine", "kpi02_non_spine")
    values = pd.DataFrame(index=sorted(table["unit"].unique()))
    cells = pd.DataFrame(index=values.index)
    for kpi, label in zip(parts, ("spine", "non-spine"), strict=True):
        rows = table[table["kpi"] == kpi].set_index("unit")
        values[label] = rows["percent"].astype(float)
        cells[label] = [cell_text(rows.loc[u].to_dict(), with_ci=True) for u in values.index]
    named = {u: data.unit_name("region", u) for u in values.index}
    target = data.thresholds.rag_for("kpi02")
    return charts.paired_bars(
        values.rename(index=named),
        "Identification of the expected caseload by region (%)",
        target.green if target else None,
        cells.rename(index=named),
    )


def _mix(data: PeriodFigures) -> list[charts.Graphic]:
    mix = published_mix(data).set_index("service_code")
    records = mix["records"]
    shares = pd.DataFrame(index=mix.index)
    known = pd.Series(0.0, index=mix.index)
    for group in MIX_GROUPS:
        share = [
            None if v is None or r is None or not r else float(v) / float(r) * 100
            for v, r in zip(mix[group], records, strict=True)
        ]
        shares[group] = share
        known += pd.Series(share, index=mix.index, dtype=float).fillna(0)
    withheld = (100 - known).where(records.notna() & (records.astype(float) > 0), 0).clip(lower=0)
    drawn = records.notna() & (records.fillna(0).astype(float) > 0)
    shares, withheld = shares[drawn], withheld[drawn]
    no_drug = shares["decision"].astype(float).fillna(0) + shares["not_recorded"].astype(
        float
    ).fillna(0)
    order = no_drug.sort_values(ascending=False, kind="stable").index
    shares, withheld = shares.loc[order], withheld.loc[order]
    labels = {c: data.unit_name("service", c) for c in shares.index}
    out = []
    for start in range(0, len(shares), MIX_PER_CHART):
        part = shares.iloc[start : start + MIX_PER_CHART]
        title = f"Treatment recommended, FLSs {start + 1} to {start + len(part)} of {len(shares)}"
        out.append(
            charts.mix_chart(
                part.rename(index=labels),
                MIX_LABELS,
                title,
                withheld.loc[part.index].rename(index=labels),
            )
        )
    return out


def _breakdowns(data: PeriodFigures) -> list[dict[str, object]]:
    out = []
    for name in BREAKDOWNS:
        table = data.published[name]
        table = table[table["kpi"].isin(HEADLINE_KPIS)]
        units = list(dict.fromkeys(table["unit"]))
        kpis = list(dict.fromkeys(table["kpi"]))
        values = pd.DataFrame(index=kpis, columns=units, dtype=float)
        cells = pd.DataFrame(index=kpis, columns=units, dtype=object)
        for row in table.to_dict("records"):
            values.loc[row["kpi"], row["unit"]] = (
                np.nan if row["percent"] is None else float(row["percent"])
            )
            cells.loc[row["kpi"], row["unit"]] = cell_text({str(k): v for k, v in row.items()})
        headers = [str(u).replace("_", " ") for u in units]
        values.columns = headers
        cells.columns = headers
        out.append(
            {
                "title": BREAKDOWN_TITLES[name],
                "columns": headers,
                "rows": [(f"{k} {data.name(k)}", list(cells.loc[k])) for k in kpis],
                "chart": charts.grouped_bars(
                    values, BREAKDOWN_TITLES[name], cells, names={k: data.name(k) for k in kpis}
                ),
            }
        )
    return out


def _variation(data: PeriodFigures) -> list[dict[str, object]]:
    out = []
    names = {c: data.unit_name("service", c) for c in data.services["service_code"]}
    for kpi in FUNNEL_KPIS:
        result = data.inequities[kpi]
        out.append(
            {
                "kpi": kpi,
                "result": result,
                "method": result.funnel.describe(),
                "alarm_low": [names[u] for u in result.outside("low_alarm")],
                "alarm_high": [names[u] for u in result.outside("high_alarm")],
                "alert_low": [names[u] for u in result.outside("low_alert")],
                "alert_high": [names[u] for u in result.outside("high_alert")],
                "withheld": withheld_sentence(result),
                "chart": charts.funnel_chart(result, f"{kpi} {data.name(kpi)}", names),
            }
        )
    return out


def previous_values(data: PeriodFigures) -> dict[str, object]:
    """Last year's published national value of each KPI (None when not in the database)."""
    year = str(data.period.start.year - 1) if data.period.grain == "year" else None
    table = data.years[(data.years["unit"] == "all") & (data.years["period"] == year)]
    return {str(r["kpi"]): r["percent"] for r in table.to_dict("records")}


def lost_sites(data: PeriodFigures) -> str:
    """The methods' count of records whose site came from a 2023 'Non hip/non spine' label
    (a small count shown as published counts are); empty when not known or none."""
    if data.lost_sites is None:
        return ""
    total = sum(data.lost_sites.values())
    if not total:
        return ""
    policy = data.thresholds.suppression
    shown = policy.label if data.suppression and 0 < total < policy.below else f"{total:,}"
    if data.suppression and "lost:total" in data.linked_withheld:
        shown = policy.label if 0 < total < policy.below else "c"
    return lost_sites_sentence(shown, data.period.label)


def national_report(data: PeriodFigures, out: Path, formats: tuple[str, ...]) -> list[Path]:
    trend_chart, words, spc_summary = spc_figure(
        data, data.monthly_nation, "all", "England and Wales"
    )
    years, trend_table = trend_rows(data)
    model = model_summary(data)
    groups = grouped_recommendations(data)
    reach = coverage(data)
    site = site_table(data)
    months = sorted(set(data.monthly_nation["period"]))
    nationals = {k: float(data.inequities[k].funnel.target * 100) for k in FUNNEL_KPIS}
    context: dict[str, object] = dict(
        title=f"National FLS audit report {data.period.label}",
        data=data,
        headline=HEADLINE_KPIS,
        previous=previous_values(data),
        model=model,
        recommendations=recommendations(data),
        recommendation_groups=groups,
        summary=executive_summary(data, reach, trend_table, model, groups),
        coverage=reach,
        casemix=[*breakdown_tables(data), *([site] if site else [])],
        reasons=reasons_table(data),
        region_tables=region_tables(data),
        short_names=SHORT_NAMES,
        trend_method=TREND_METHOD,
        reader_definitions=reader_definitions(data.catalogue, data.thresholds),
        counting_rules=counting_rules(data.thresholds),
        gaps={k: nation_gap(data, k) for k in data.catalogue.kpi_ids},
        years=years,
        trend_rows=trend_table,
        participation=participation_by_year(data, years),
        trend_chart=trend_chart,
        trend_words=words,
        spc_summary=spc_summary,
        spc_baseline=baseline_words(data.thresholds.spc, months),
        identification=_identification(data),
        distribution=charts.distribution_chart(data.inequities, titles(data), nationals),
        variation=_variation(data),
        mix_charts=_mix(data),
        mix_labels=MIX_LABELS,
        mix_national=national_shares(data),
        breakdowns=_breakdowns(data),
        definitions=definition_rows(data.catalogue, data.thresholds),
        choices=CHOICES,
        statistics=statistics(data.thresholds),
        lost_sites=lost_sites(data),
        data_quality=_data_quality(data),
        cell_text=cell_text,
        percent=percent,
        is_hidden=is_hidden,
    )
    return write_report(
        "national.html.j2", context, out / f"national-report-{data.period.label}", formats
    )
