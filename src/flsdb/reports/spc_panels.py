"""Monthly SPC charts for one unit (the nation, or an FLS) as the reports draw them: the chart of
each KPI (analysed by `flsdb.figures.spc`) with its baseline, target, Making Data Count icons and
what its signals mean in words."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from flsdb.config import SpcSettings
from flsdb.figures import PeriodFigures
from flsdb.figures.spc import SPC_KPIS, SpcPanel, unit_analysis
from flsdb.reports import charts
from flsdb.reports.charts.spc import ASSURANCE_WORDS, VARIATION_WORDS
from flsdb.reports.narrative import explain_chart


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


def unit_charts(
    data: PeriodFigures,
    frame: pd.DataFrame,
    unit: str,
    *,
    by_size: bool = False,
    kinds: dict[str, str] | None = None,
) -> tuple[dict[str, SpcPanel], list[str], list[SpcSummary]]:
    """The panels of a unit's SPC grid, the sentences saying what they show, and the icons.

    With `by_size` (the reports), a KPI with too few patients a month for process limits is
    charted by quarter, or as a run chart of quarters (see `flsdb.figures.spc`); without it
    every chart is monthly, as the web dashboards draw them."""
    panels: dict[str, SpcPanel] = {}
    words: list[str] = []
    summary: list[SpcSummary] = []
    settings = data.thresholds.spc
    for found in unit_analysis(data, frame, unit, by_size=by_size):
        words += found.notes
        panel = found.panel
        if panel is None:
            continue
        title, kind, chart = found.title, found.kind, panel.chart
        panels[title] = panel
        if kinds is not None:
            kinds[title] = kind
        # A stable chart is said so in the table beside it; the words are for the signals.
        if any(chart.signals) and kind != "run":
            said = explain_chart(
                list(panel.months), chart, panel.direction, title, settings.shift, settings.trend
            )
            # A quarterly chart's points are quarters (each named by its last month).
            words += (
                [s.replace(" months", " quarters") for s in said] if kind == "quarter" else said
            )
        letter, colour = charts.variation_symbol(panel.variation)
        a_letter, a_colour = charts.ASSURANCE_ICONS.get(panel.assurance or "", ("", ""))
        summary.append(
            SpcSummary(
                found.kpi,
                title,
                f"{chart.values[-1]:.1%} ("
                + ("quarter to " if kind != "month" else "")
                + f"{panel.months[-1]})",
                f"{chart.centre[-1]:.1%}",
                VARIATION_WORDS[panel.variation],
                charts.icon(letter, colour),
                ASSURANCE_WORDS.get(panel.assurance or "", "no target"),
                charts.icon(a_letter, a_colour) if panel.assurance else "",
            )
        )
    return panels, words, summary


def spc_figure(
    data: PeriodFigures, frame: pd.DataFrame, unit: str, label: str
) -> tuple[charts.SpcGraphic, list[str], list[SpcSummary]]:
    """The unit's monthly charts (on an axis of months laid out once per figures) and what they
    say."""
    which = "nation" if frame is data.monthly_nation else "service"

    def layout() -> charts.SpcGrid:
        months = sorted(set(frame["period"]))
        titles = [f"{k} {data.name(k)}" for k in SPC_KPIS]
        return charts.SpcGrid(titles, months)

    grid = data.view("spc grid", which, make=layout)
    kinds: dict[str, str] = {}
    panels, words, summary = unit_charts(data, frame, unit, by_size=True, kinds=kinds)
    return grid.render(panels, label, kinds), words, summary
