"""Monthly SPC charts for one unit (the nation, or an FLS): the chart of each KPI with its
baseline, target, Making Data Count icons and what its signals mean in words."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import pandas as pd

from flsdb.config import SpcSettings
from flsdb.kpi.catalogue import Catalogue
from flsdb.reports import charts
from flsdb.reports.charts.spc import ASSURANCE_WORDS, VARIATION_WORDS, SpcPanel
from flsdb.reports.data import FUNNEL_KPIS, ReportData
from flsdb.reports.narrative import explain_chart
from flsdb.stats.spc import Chart, Rules, assurance_icon, laney_p_chart, p_chart, variation_icon

SPC_KPIS = ("kpi04", "kpi05", "kpi06", "kpi07", "kpi08", "kpi09", "kpi10", "kpi11", "fa01", "kpi03")
assert set(SPC_KPIS) <= set(FUNNEL_KPIS)


@dataclass(frozen=True)
class SpcSummary:
    """One KPI's latest month and its icons, for the table beside the charts."""

    kpi: str
    title: str
    latest: str
    mean: str
    variation: str
    variation_icon: str
    assurance: str
    assurance_icon: str


def baseline_indexes(months: list[str], settings: SpcSettings) -> tuple[int, int] | None:
    """The baseline as indexes into the months charted (None: every month)."""
    if settings.baseline_from and settings.baseline_to:
        inside = [
            i for i, m in enumerate(months) if settings.baseline_from <= m <= settings.baseline_to
        ]
        return (inside[0], inside[-1] + 1) if inside else None
    if settings.baseline_months:
        return (0, settings.baseline_months)
    return None


def baseline_words(settings: SpcSettings, months: list[str]) -> str:
    if settings.baseline_from and settings.baseline_to:
        return f"the mean and limits come from {settings.baseline_from} to {settings.baseline_to}"
    if settings.baseline_months:
        last = months[min(settings.baseline_months, len(months)) - 1] if months else ""
        return (
            f"the mean and limits come from the first {settings.baseline_months} months shown "
            f"({months[0] if months else ''} to {last}; shaded), and every month is judged "
            "against them"
        )
    return "the mean and limits come from every month shown"


def target_for(data: ReportData, kpi: str) -> float | None:
    """The KPI's target: its green RAG threshold (a percentage, higher is better)."""
    rag = data.thresholds.rag_for(data.measure(kpi).id)
    if rag is None or rag.measure != "percent" or rag.direction != "higher":
        return None
    return rag.green


def chart_for(data: ReportData, months: pd.DataFrame) -> Chart:
    settings = data.thresholds.spc
    labels = list(months["period"])
    baseline = baseline_indexes(labels, settings)
    rules = Rules(shift=settings.shift, trend=settings.trend)
    build = laney_p_chart if settings.chart == "pprime" else p_chart
    return build(
        months["numerator"].astype(float), months["denominator"].astype(float), baseline, rules
    )


def complete_months(catalogue: Catalogue, kpi: str, as_of: dt.date, months: list[str]) -> list[str]:
    """The months whose every patient had their window close by the extract date: the month has
    ended and, for a measure with a due window (90 days, 16 or 52 weeks), its last day plus the
    window is on or before the extract date. Later months are not yet complete: a chart draws
    no signal from them."""
    window = catalogue.measure(kpi).due
    days = catalogue.due_windows[window] if window else 0
    complete = []
    for month in months:
        year, number = (int(part) for part in month.split("-"))
        last = dt.date(year, number, calendar.monthrange(year, number)[1])
        if last + dt.timedelta(days=days) <= as_of:
            complete.append(month)
    return complete


def _month_words(months: list[str]) -> str:
    names = [dt.date(int(m[:4]), int(m[5:7]), 1).strftime("%b %Y") for m in months]
    return names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}"


def unit_charts(
    data: ReportData, frame: pd.DataFrame, unit: str
) -> tuple[dict[str, SpcPanel], list[str], list[SpcSummary]]:
    """The panels of a unit's SPC grid, the sentences saying what they show, and the icons."""
    panels: dict[str, SpcPanel] = {}
    words: list[str] = []
    summary: list[SpcSummary] = []
    settings = data.thresholds.spc
    for kpi in SPC_KPIS:
        title = f"{kpi} {data.name(kpi)}"
        months = data.months(frame, unit, kpi)
        months = months[months["denominator"].astype(float) > 0]
        complete = complete_months(data.catalogue, kpi, data.as_of, list(months["period"]))
        if len(complete) < len(months):
            left = [m for m in months["period"] if m not in set(complete)]
            words.append(
                f"{title}: {_month_words(left)} not yet complete on the extract date (the "
                "patients' window has not closed), so not charted and no signal drawn from them."
            )
            months = months[months["period"].isin(complete)]
        if len(months) < 2:
            words.append(f"{title}: too few months with patients for a chart.")
            continue
        chart = chart_for(data, months)
        direction = data.measure(kpi).direction
        target = target_for(data, kpi)
        variation = variation_icon(chart, direction)
        assurance = assurance_icon(chart, None if target is None else target / 100, direction)
        panels[title] = SpcPanel(
            list(months["period"]),
            months["numerator"].astype(float).tolist(),
            months["denominator"].astype(float).tolist(),
            chart,
            direction,
            target,
            variation,
            assurance,
        )
        # A stable chart is said so in the table beside it; the words are for the signals.
        if any(chart.signals):
            words += explain_chart(
                list(months["period"]), chart, direction, title, settings.shift, settings.trend
            )
        letter, colour = charts.variation_symbol(variation)
        a_letter, a_colour = charts.ASSURANCE_ICONS.get(assurance or "", ("", ""))
        summary.append(
            SpcSummary(
                kpi,
                title,
                f"{chart.values[-1]:.1%} ({months['period'].iloc[-1]})",
                f"{chart.centre[-1]:.1%}",
                VARIATION_WORDS[variation],
                charts.icon_svg(letter, colour),
                ASSURANCE_WORDS.get(assurance or "", "no target"),
                charts.icon_svg(a_letter, a_colour) if assurance else "",
            )
        )
    return panels, words, summary


_GRIDS: dict[tuple[int, str], charts.SpcGrid] = {}


def spc_figure(
    data: ReportData, frame: pd.DataFrame, unit: str, label: str
) -> tuple[charts.Graphic, list[str], list[SpcSummary]]:
    """The unit's monthly charts (on a layout made once per process) and what they say."""
    key = (id(data), "nation" if frame is data.monthly_nation else "service")
    if key not in _GRIDS:
        months = sorted(set(frame["period"]))
        _GRIDS[key] = charts.SpcGrid([f"{k} {data.name(k)}" for k in SPC_KPIS], months)
    panels, words, summary = unit_charts(data, frame, unit)
    return _GRIDS[key].render(panels, label), words, summary
