"""Monthly SPC charts for one unit (the nation, or an FLS) as the reports draw them: the chart of
each KPI (analysed by `flsdb.figures.spc`) with its baseline, target, Making Data Count icons and
what its signals mean in words."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from flsdb.config import SpcSettings
from flsdb.dates import uk_month
from flsdb.figures import PeriodFigures
from flsdb.figures.spc import SPC_KPIS, SpcPanel, unit_analysis
from flsdb.reports import charts, spc_counts
from flsdb.reports.charts.spc import ASSURANCE_WORDS, VARIATION_WORDS
from flsdb.reports.narrative import explain_chart
from flsdb.reports.words import point_label


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


def summary_row(kpi: str, title: str, panel: SpcPanel, kind: str) -> SpcSummary:
    """One KPI's latest point (a month or a quarter, named as such), its centre line (mean, or
    a run chart's median) and icons; a run chart has no limits, so no assurance."""
    chart = panel.chart
    centre = "median" if kind == "run" else "mean"
    last = float(chart.values[-1])
    value = f"{last:.1%}" if math.isfinite(last) else "withheld"
    latest = f"{value} ({point_label(panel.months[-1], kind)})"
    if kind == "run":
        signal = any(chart.signals)
        variation = "run chart: a signal (Anhoej's rules)" if signal else "run chart: no signal"
        assurance = (
            "not assessed: a run chart has no process limits"
            if panel.target is not None
            else "no target"
        )
        letter, colour = charts.variation_symbol(panel.variation)
        return SpcSummary(
            kpi, title, latest, f"{centre} {chart.centre[-1]:.1%}", variation,
            charts.icon(letter, colour) if signal else "", assurance, "",
        )  # fmt: skip
    letter, colour = charts.variation_symbol(panel.variation)
    a_letter, a_colour = charts.ASSURANCE_ICONS.get(panel.assurance or "", ("", ""))
    return SpcSummary(
        kpi,
        title,
        latest,
        f"{centre} {chart.centre[-1]:.1%}",
        VARIATION_WORDS[panel.variation],
        charts.icon(letter, colour),
        ASSURANCE_WORDS.get(panel.assurance or "", "no target"),
        charts.icon(a_letter, a_colour) if panel.assurance else "",
    )


def spc_intro(settings: SpcSettings, months: list[str], kinds: frozenset[str]) -> str:
    """What the charts drawn are, in words: the mean, limits and baseline of the charts that
    have them; the median and rules of the run charts."""
    limits = kinds - {"run"}
    parts = []
    if limits:
        by = (
            "month"
            if limits == {"month"}
            else (
                "quarter"
                if limits == {"quarter"}
                else "month, or by quarter where a month has too few"
            )
        )
        parts.append(
            f"Statistical process control charts of each KPI by {by} of fracture diagnosis: "
            f"{baseline_words(settings, months)}. Points outside the process limits, runs of "
            f"{settings.shift} on one side of the mean, trends of {settings.trend}, or 2 of 3 "
            "near a limit are signals of special-cause variation (Making Data Count rules)."
        )
        if "quarter" in limits:
            parts.append("A quarterly chart has a point for each quarter, drawn at its last month.")
    if "run" in kinds:
        which = (
            "Where a quarter has too few patients for process limits, the KPI is"
            if limits
            else ("This FLS has too few patients for process limits, so each KPI is")
        )
        parts.append(
            f"{which} a run chart of the quarters: each quarter's value about the median of "
            "the quarters (solid line), with no mean, process limits or baseline. Its only "
            "signals are an unusually long run on one side of the median or too few crossings "
            "of it (Anhoej's rules); each KPI's rule is stated below the charts."
        )
    return " ".join(parts)


def baseline_words(settings: SpcSettings, months: list[str]) -> str:
    if settings.baseline_from and settings.baseline_to:
        return (
            f"the mean and limits come from {uk_month(settings.baseline_from)} to "
            f"{uk_month(settings.baseline_to)}"
        )
    if settings.baseline_months:
        last = months[min(settings.baseline_months, len(months)) - 1] if months else ""
        return (
            f"the mean and limits come from the first {settings.baseline_months} months shown "
            f"({uk_month(months[0]) if months else ''} to {uk_month(last)}; shaded), and every "
            "month is judged "
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
    publish: Callable[[str, SpcPanel], SpcPanel] | None = None,
) -> tuple[dict[str, SpcPanel], list[str], list[SpcSummary]]:
    """The panels of a unit's SPC grid, the sentences saying what they show, and the icons.

    With `by_size` (the reports), a KPI with too few patients a month for process limits is
    charted by quarter, or as a run chart of quarters (see `flsdb.figures.spc`); without it
    every chart is monthly, as the web dashboards draw them. `publish`: each KPI's panel as
    published (its withheld points neither printed nor drawn)."""
    panels: dict[str, SpcPanel] = {}
    words: list[str] = []
    summary: list[SpcSummary] = []
    settings = data.thresholds.spc
    for found in unit_analysis(data, frame, unit, by_size=by_size):
        words += found.notes
        panel = found.panel
        if panel is None:
            continue
        if publish is not None:
            panel = publish(found.kpi, panel)
        title, kind, chart = found.title, found.kind, panel.chart
        panels[title] = panel
        if kinds is not None:
            kinds[title] = kind
        # A stable chart is said so in the table beside it; the words are for the signals.
        if any(chart.signals) and kind != "run":
            labels = [point_label(m, kind) for m in panel.months]
            said = explain_chart(
                labels, chart, panel.direction, title, settings.shift, settings.trend
            )
            # A quarterly chart's points are quarters.
            words += (
                [s.replace(" months", " quarters") for s in said] if kind == "quarter" else said
            )
        summary.append(summary_row(found.kpi, title, panel, kind))
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
    publish: Callable[[str, SpcPanel], SpcPanel] | None = None
    if which == "nation" and data.suppression:  # as published: withheld points left out
        withheld = spc_counts.marks(data)

        def published(kpi: str, panel: SpcPanel) -> SpcPanel:
            return spc_counts.published_panel(panel, kpi, withheld)

        publish = published
    panels, words, summary = unit_charts(
        data, frame, unit, by_size=True, kinds=kinds, publish=publish
    )
    return grid.render(panels, label, kinds), words, summary
